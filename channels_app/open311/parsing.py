"""Reading Open311 GeoReport v2 input: the POST form, attribute[CODE] values, query filters.

The standard's rule "an empty optional parameter acts as absent" holds everywhere: blank
values are dropped before anything is checked. Problems are collected and raised together
as one :class:`Open311Error`, which the views answer as the standard's error list.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.validators import URLValidator
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.formfields import PhoneNumberField

from callcenter.korean import josa_resolve
from channels_app.open311.selectors import attribute_options
from tickets.models import ServiceAttribute

DESCRIPTION_LENGTH = 4000
ATTRIBUTE_VALUE_LENGTH = 4000
MAX_WINDOW = timedelta(days=90)
STATUSES = ("open", "closed")
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# "+09:00" in an unencoded query string arrives as " 09:00".
SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Open311Error(Exception):
    """A request the standard answers with an error list: one HTTP status, descriptions."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = list(descriptions)


class ServiceRequestForm(forms.Form):
    """The standard's POST parameters besides api_key, service_code and attribute[…]."""

    lat = forms.FloatField(required=False, min_value=-90, max_value=90)
    long = forms.FloatField(required=False, min_value=-180, max_value=180)
    address_string = forms.CharField(required=False, max_length=300)
    address_id = forms.CharField(required=False, max_length=100)
    email = forms.EmailField(required=False)
    first_name = forms.CharField(required=False, max_length=40)
    last_name = forms.CharField(required=False, max_length=40)
    phone = PhoneNumberField(required=False, region="KR")
    description = forms.CharField(required=False, max_length=DESCRIPTION_LENGTH, strip=True)
    media_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
    )

    def clean(self):
        data = super().clean()
        has_lat = data.get("lat") is not None
        has_long = data.get("long") is not None
        if "lat" in self.errors or "long" in self.errors:
            return data
        if has_lat != has_long:
            raise forms.ValidationError(_("lat and long must be sent together."))
        if not has_lat and not data.get("address_string") and not data.get("address_id"):
            raise forms.ValidationError(
                _("A location is required: lat and long, address_string or address_id.")
            )
        return data


@dataclass
class ServiceRequestInput:
    """A checked POST: plain values for ``open311_request_create``."""

    description: str = ""
    address: str = ""
    address_id: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    media_url: str = ""
    phone: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    attributes: dict = field(default_factory=dict)


def _coordinate(value: float | None) -> Decimal | None:
    """Six decimals (about 10 cm), as the ticket stores them."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


def _form_errors(form: forms.Form) -> list[str]:
    problems = []
    for name, errors in form.errors.items():
        for error in errors:
            problems.append(error if name == "__all__" else f"{name}: {error}")
    return problems


def service_request_parse(
    data: QueryDict, *, definitions: list[ServiceAttribute]
) -> ServiceRequestInput:
    """Check a POST against the standard and the service's attributes, or raise 400."""
    form = ServiceRequestForm(data)
    problems = [] if form.is_valid() else _form_errors(form)
    attributes, attribute_problems = attributes_parse(data, definitions=definitions)
    problems += attribute_problems
    if problems:
        raise Open311Error(400, *problems)
    clean = form.cleaned_data
    return ServiceRequestInput(
        description=clean["description"],
        address=clean["address_string"],
        address_id=clean["address_id"],
        latitude=_coordinate(clean["lat"]),
        longitude=_coordinate(clean["long"]),
        media_url=clean["media_url"],
        phone=clean["phone"].as_e164 if clean["phone"] else "",
        email=clean["email"],
        first_name=clean["first_name"],
        last_name=clean["last_name"],
        attributes=attributes,
    )


def _attribute_values(data: QueryDict) -> dict[str, list[str]]:
    """attribute[CODE]=v and attribute[CODE][]=v1&attribute[CODE][]=v2, blanks dropped."""
    values: dict[str, list[str]] = {}
    for key in data:
        match = ATTRIBUTE_KEY.match(key)
        if match is None:
            continue
        given = [value.strip() for value in data.getlist(key) if value.strip()]
        if given:
            values.setdefault(match[1], []).extend(given)
    return values


def _is_number(value: str) -> bool:
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _attribute_problem(definition: ServiceAttribute, value: str) -> str | None:
    """What is wrong with one value of a single-value attribute, if anything."""
    datatype = ServiceAttribute.Datatype
    if definition.datatype == datatype.NUMBER and not _is_number(value):
        return _("must be a number")
    if definition.datatype == datatype.DATETIME and _parse_datetime(value) is None:
        return _("must be an ISO 8601 date and time")
    if definition.datatype == datatype.STRING and ("\n" in value or "\r" in value):
        return _("must be a single line")
    if definition.datatype == datatype.SINGLEVALUELIST and value not in _list_keys(definition):
        return _("must be one of the keys of the service definition")
    return None


def _list_keys(definition: ServiceAttribute) -> set[str]:
    return {key for key, _name in attribute_options(definition)}


def attributes_parse(
    data: QueryDict, *, definitions: list[ServiceAttribute]
) -> tuple[dict, list[str]]:
    """The attribute answers as {code: value or [values]}, and what is wrong with them.

    Multi-value lists are stored as lists (in the order given, without repeats); every
    other datatype as one string.
    """
    given = _attribute_values(data)
    answers: dict = {}
    problems = []
    for definition in definitions:
        if not definition.variable:
            continue
        values = given.pop(definition.code, [])
        label = f"attribute[{definition.code}]"
        if not values:
            if definition.required:
                problems.append(_("%(name)s is required.") % {"name": label})
            continue
        if any(len(value) > ATTRIBUTE_VALUE_LENGTH for value in values):
            problems.append(
                _("%(name)s is limited to %(limit)s characters.")
                % {"name": label, "limit": ATTRIBUTE_VALUE_LENGTH}
            )
            continue
        if definition.datatype == ServiceAttribute.Datatype.MULTIVALUELIST:
            unknown = [value for value in values if value not in _list_keys(definition)]
            if unknown:
                problems.append(
                    josa_resolve(
                        _("%(name)s: %(values)s not among the keys of the service definition.")
                        % {"name": label, "values": ", ".join(unknown)}
                    )
                )
                continue
            answers[definition.code] = list(dict.fromkeys(values))
            continue
        if len(values) > 1:
            problems.append(_("%(name)s takes one value.") % {"name": label})
            continue
        problem = _attribute_problem(definition, values[0])
        if problem:
            problems.append(f"{label} {problem}.")
            continue
        answers[definition.code] = values[0]
    for code in given:
        problems.append(
            josa_resolve(
                _("attribute[%(code)s] is not an attribute of this service.") % {"code": code}
            )
        )
    return answers, problems


def _parse_datetime(value: str) -> datetime | None:
    """A W3C/ISO 8601 date or date-time; without an offset it is Seoul time."""
    value = SPACED_OFFSET.sub(r"\1+\2", value.strip())
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@dataclass
class RequestQuery:
    """GET requests' filters. ``ids`` overrides everything else, as the standard says."""

    ids: list[str]
    service_codes: list[str]
    statuses: list[str]
    start: datetime | None
    end: datetime | None


def _comma_list(data: QueryDict, name: str) -> list[str]:
    """A comma-delimited parameter, which may also be declared several times."""
    return [
        item.strip() for value in data.getlist(name) for item in value.split(",") if item.strip()
    ]


def _date_param(data: QueryDict, name: str, *, end_of_day: bool) -> datetime | None:
    raw = data.get(name, "").strip()
    if not raw:
        return None
    parsed = _parse_datetime(raw)
    if parsed is None:
        raise Open311Error(
            400,
            _("%(name)s must be a W3C date-time, e.g. 2026-01-01T00:00:00+09:00.") % {"name": name},
        )
    if end_of_day and DATE_ONLY.match(raw):
        parsed = timezone.make_aware(datetime.combine(parsed.date(), time.max))
    return parsed


def request_query_parse(data: QueryDict) -> RequestQuery:
    """The filters of GET requests, the date window settled: by default the last 90 days;
    a window given by one end reaches 90 days from it; a window of more than 90 days is
    refused."""
    ids = _comma_list(data, "service_request_id")
    if ids:
        return RequestQuery(ids=ids, service_codes=[], statuses=[], start=None, end=None)
    statuses = _comma_list(data, "status")
    unknown = [status for status in statuses if status not in STATUSES]
    if unknown:
        raise Open311Error(
            400,
            _("status must be open or closed (given: %(given)s).") % {"given": ", ".join(unknown)},
        )
    start = _date_param(data, "start_date", end_of_day=False)
    end = _date_param(data, "end_date", end_of_day=True)
    if start is None and end is None:
        end = timezone.now()
        start = end - MAX_WINDOW
    elif start is None:
        start = end - MAX_WINDOW
    elif end is None:
        end = start + MAX_WINDOW
    if start > end:
        raise Open311Error(400, _("start_date must come before end_date."))
    if end - start > MAX_WINDOW:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    return RequestQuery(
        ids=[],
        service_codes=_comma_list(data, "service_code"),
        statuses=sorted(set(statuses)),
        start=start,
        end=end,
    )
