"""Open311 GeoReport v2 endpoints under /open311/v2/, answering in the URL's format.

Reads need no login. Filing a request needs an API key (``python manage.py open311_key``)
and is exempt from CSRF, which protects cookie sessions, not keys. jurisdiction_id is
ignored: this endpoint serves one jurisdiction, as the standard allows. A new request is
answered 200 with its ticket number as service_request_id (type realtime).
"""

from collections.abc import Callable
from dataclasses import asdict
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from callcenter.korean import josa_resolve
from channels_app.open311 import rendering, selectors
from channels_app.open311.parsing import Open311Error, request_query_parse, service_request_parse
from tickets.services import open311_key_verify, open311_request_create


def open311_endpoint(*methods: str) -> Callable:
    """Check the format and the method; answer Open311Error as the standard's error list."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str, **kwargs) -> HttpResponse:
            if fmt not in rendering.CONTENT_TYPES:
                return unknown_resource(request)
            if request.method not in allowed:
                response = rendering.render_errors(
                    fmt,
                    405,
                    [_("%(method)s is not allowed here.") % {"method": request.method}],
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                _refuse_nul(request, kwargs)
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return rendering.render_errors(fmt, error.status, error.descriptions)

        return csrf_exempt(wrapper)

    return decorator


def _refuse_nul(request: HttpRequest, kwargs: dict) -> None:
    """NUL characters cannot be stored (PostgreSQL refuses them): a 400, not a crash."""
    values = [*kwargs.values()]
    for data in (request.GET, request.POST):
        for key, given in data.lists():
            values += [key, *given]
    if any("\x00" in value for value in values):
        raise Open311Error(400, _("Parameters may not contain NUL characters."))


@csrf_exempt
def unknown_resource(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Anything else under /open311/v2/ (an unknown path or format): 404, in XML, the
    standard's required format."""
    return rendering.render_errors(
        "xml", 404, [_("No such Open311 resource: %(path)s") % {"path": request.path}]
    )


@open311_endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    discovery_url = reverse("open311-discovery", kwargs={"fmt": fmt})
    endpoint_url = request.build_absolute_uri(discovery_url.rsplit("/", 1)[0])
    return rendering.render(fmt, "discovery", rendering.discovery_record(endpoint_url=endpoint_url))


@open311_endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    records = [rendering.service_record(service) for service in selectors.services()]
    return rendering.render(fmt, "services", records)


def _service_or_404(code: str):
    service = selectors.service_get(code)
    if service is None:
        raise Open311Error(
            404,
            josa_resolve(
                _("service_code %(code)s is not a service offered here.") % {"code": code}
            ),
        )
    return service


@open311_endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, service_code: str) -> HttpResponse:
    service = _service_or_404(service_code)
    record = rendering.service_definition_record(service, selectors.service_attributes(service))
    return rendering.render(fmt, "service_definition", record)


def _requests_response(fmt: str, tickets) -> HttpResponse:
    notes = selectors.status_notes(tickets)
    records = [
        rendering.request_record(
            ticket, closed=selectors.is_closed(ticket), notes=notes.get(ticket.pk)
        )
        for ticket in tickets
    ]
    return rendering.render(fmt, "service_requests", records)


@open311_endpoint("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET: the requests matching the filters. POST: file a new request."""
    if request.method == "POST":
        return _request_create(request, fmt)
    query = request_query_parse(request.GET)
    return _requests_response(fmt, selectors.service_requests(**asdict(query)))


def _request_create(request: HttpRequest, fmt: str) -> HttpResponse:
    api_key = request.POST.get("api_key", "").strip()
    if not api_key:
        raise Open311Error(403, _("api_key is required to file a service request."))
    if open311_key_verify(api_key) is None:
        raise Open311Error(403, _("Invalid api_key received -- can't proceed with the request."))
    code = request.POST.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    service = _service_or_404(code)
    checked = service_request_parse(request.POST, definitions=selectors.service_attributes(service))
    ticket = open311_request_create(
        category=service,
        description=checked.description,
        address=checked.address,
        address_id=checked.address_id,
        latitude=checked.latitude,
        longitude=checked.longitude,
        media_url=checked.media_url,
        attributes=checked.attributes,
        phone=checked.phone,
        email=checked.email,
        first_name=checked.first_name,
        last_name=checked.last_name,
    )
    return rendering.render(fmt, "service_requests", [rendering.created_record(ticket)])


@open311_endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    ticket = selectors.service_request_get(service_request_id)
    if ticket is None:
        raise Open311Error(
            404,
            josa_resolve(
                _("service_request_id %(id)s was not found.") % {"id": service_request_id}
            ),
        )
    return _requests_response(fmt, [ticket])
