"""Writing Open311 GeoReport v2 answers in JSON and XML.

Records are built once as plain dicts and written in either format. JSON follows the
standard's Spark convention (the XML root dropped: lists become top-level arrays; the
service definition and discovery are objects). XML starts with its declaration and has no
namespace; a list is an element holding one child per item (``<attributes><attribute>``).
Codes and ids are strings, coordinates numbers, empty values null (an empty XML element),
and date-times ISO 8601 with Seoul's +09:00 offset.
"""

import json
import re
from datetime import datetime
from functools import cache
from xml.etree.ElementTree import Element, SubElement, tostring

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_app.open311.selectors import attribute_options
from tickets.models import Category, ServiceAttribute, Ticket

MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}
CONTENT_TYPES = {fmt: f"{media_type}; charset=utf-8" for fmt, media_type in MEDIA_TYPES.items()}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint's shape or its documents last changed (discovery's changeset).
CHANGESET = "2026-11-26T00:00:00+09:00"
# The XML element of one item of each list.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry, even escaped.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _w3c(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _text(value: str) -> str | None:
    return value or None


def agency_name() -> str:
    return _("120 call centre")


def discovery_record(*, endpoint_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": _("Call 120 or visit %(url)s for help with this API.")
        % {"url": settings.PUBLIC_BASE_URL},
        "key_service": _(
            "API keys for filing requests are issued by the 120 call centre's administrators."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(MEDIA_TYPES.values()),
            }
        ],
    }


def service_record(service: Category) -> dict:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": _text(service.description),
        "metadata": bool(service.has_attributes),
        "type": "realtime",
        "keywords": _text(service.keywords),
        "group": service.group,
    }


def _attribute_record(attribute: ServiceAttribute) -> dict:
    return {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": _text(attribute.datatype_description),
        "order": attribute.order,
        "description": attribute.description,
        "values": [{"key": key, "name": name} for key, name in attribute_options(attribute)],
    }


def service_definition_record(service: Category, attributes: list[ServiceAttribute]) -> dict:
    return {
        "service_code": service.code,
        "attributes": [_attribute_record(attribute) for attribute in attributes],
    }


@cache
def _track_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("track")


def service_notice(ticket: Ticket) -> str:
    return _(
        "Received by the 120 call centre as %(number)s. Track it with this number at %(url)s."
    ) % {"number": ticket.number, "url": _track_url()}


def created_record(ticket: Ticket) -> dict:
    return {
        "service_request_id": ticket.number,
        "service_notice": service_notice(ticket),
        "account_id": None,
    }


def request_record(ticket: Ticket, *, closed: bool, notes: str | None) -> dict:
    """One service request as GET requests shows it; closed ones are 'updated' when they
    were closed."""
    updated = ticket.updated_at
    if closed:
        updated = ticket.closed_at or ticket.resolved_at or ticket.updated_at
    category = ticket.category
    return {
        "service_request_id": ticket.number,
        "status": "closed" if closed else "open",
        "status_notes": notes,
        "service_name": category.name if category else None,
        "service_code": category.code if category else "",
        "description": _text(ticket.description),
        "agency_responsible": ticket.department.name if ticket.department else agency_name(),
        "service_notice": service_notice(ticket),
        "requested_datetime": _w3c(ticket.created_at),
        "updated_datetime": _w3c(updated),
        "expected_datetime": _w3c(ticket.resolution_due),
        "address": _text(ticket.address),
        "address_id": _text(ticket.address_id),
        "zipcode": None,
        "lat": float(ticket.latitude) if ticket.latitude is not None else None,
        "long": float(ticket.longitude) if ticket.longitude is not None else None,
        "media_url": _text(ticket.media_url),
    }


def error_records(status: int, descriptions: list[str]) -> list[dict]:
    return [{"code": status, "description": str(text)} for text in descriptions]


def _xml_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_INVALID.sub("", str(value))


def _xml_fill(element: Element, value, tag: str) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _xml_fill(SubElement(element, key), child, key)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS[tag]
        for item in value:
            _xml_fill(SubElement(element, item_tag), item, item_tag)
    else:
        element.text = _xml_text(value)


def render(fmt: str, root: str, data: dict | list, *, status: int = 200) -> HttpResponse:
    """``data`` in ``fmt``: JSON as is, XML under a ``root`` element."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        element = Element(root)
        _xml_fill(element, data, root)
        body = XML_DECLARATION + tostring(element, encoding="unicode")
    return HttpResponse(body.encode(), status=status, content_type=CONTENT_TYPES[fmt])


def render_errors(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    return render(fmt, "errors", error_records(status, descriptions), status=status)
