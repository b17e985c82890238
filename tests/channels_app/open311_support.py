"""Helpers for the Open311 tests: services, keys, and checks of both formats.

The field rules below restate the GeoReport v2 JSON schemas (open311/schema-validation,
schema/georeport-v2/*.json): which fields are required and which JSON types they may take.
"""

import json
import re
from xml.etree import ElementTree

from django.test import Client

from tests import factories
from tickets.models import Category, ServiceAttribute
from tickets.services import open311_key_create

BASE = "/open311/v2"
W3C_SEOUL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$")
NUMBER = (int, float)
STRING_OR_NULL = (str, type(None))

# field: (allowed JSON types, required)
SERVICE_FIELDS = {
    "service_code": (str, True),
    "service_name": (str, True),
    "description": (STRING_OR_NULL, False),
    "metadata": (bool, True),
    "type": (str, True),
    "keywords": (STRING_OR_NULL, False),
    "group": (STRING_OR_NULL, False),
}
ATTRIBUTE_FIELDS = {
    "variable": (bool, True),
    "code": (str, True),
    "datatype": (str, True),
    "required": (bool, True),
    "datatype_description": (STRING_OR_NULL, False),
    "order": ((int, type(None)), False),
    "description": (STRING_OR_NULL, False),
    "values": (list, False),
}
VALUE_FIELDS = {"key": (str, True), "name": (str, True)}
REQUEST_FIELDS = {
    "service_request_id": (str, True),
    "status": (str, True),
    "status_notes": (STRING_OR_NULL, False),
    "service_name": (STRING_OR_NULL, False),
    "service_code": (str, True),
    "description": (STRING_OR_NULL, False),
    "agency_responsible": (STRING_OR_NULL, False),
    "service_notice": (STRING_OR_NULL, False),
    "requested_datetime": (str, True),
    "updated_datetime": (STRING_OR_NULL, False),
    "expected_datetime": (STRING_OR_NULL, False),
    "address": (STRING_OR_NULL, False),
    "address_id": (STRING_OR_NULL, False),
    "zipcode": (STRING_OR_NULL, False),
    "lat": ((*NUMBER, type(None)), False),
    "long": ((*NUMBER, type(None)), False),
    "media_url": (STRING_OR_NULL, False),
}
ERROR_FIELDS = {"code": (int, True), "description": (str, True)}


def assert_fields(record: dict, fields: dict) -> None:
    """``record`` has every required field, and each field it has is of an allowed type."""
    for name, (types, required) in fields.items():
        if required:
            assert name in record, f"{name} is missing from {record}"
        if name in record:
            value = record[name]
            assert isinstance(value, types), f"{name}={value!r} is not {types}"
            assert not (isinstance(value, bool) and bool not in _flat(types)), name


def _flat(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def assert_service_definition(record: dict) -> None:
    assert isinstance(record, dict)
    assert isinstance(record["service_code"], str)
    for attribute in record["attributes"]:
        assert_fields(attribute, ATTRIBUTE_FIELDS)
        assert attribute["datatype"] in {choice for choice, _ in ServiceAttribute.Datatype.choices}
        for value in attribute.get("values", []):
            assert_fields(value, VALUE_FIELDS)


def assert_requests(records: list) -> None:
    assert isinstance(records, list)
    for record in records:
        assert_fields(record, REQUEST_FIELDS)
        assert record["status"] in {"open", "closed"}
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            if record.get(name) is not None:
                assert W3C_SEOUL.match(record[name]), record[name]


def json_of(response) -> list | dict:
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content.decode())


def xml_of(response, root: str) -> ElementTree.Element:
    """The parsed XML answer, checked: declaration first, well-formed, the root, no namespace."""
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    text = response.content.decode()
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    element = ElementTree.fromstring(text)  # noqa: S314 -- our own answer, not untrusted input
    assert element.tag == root
    assert all("}" not in node.tag and not node.tag.startswith("{") for node in element.iter())
    assert "xmlns" not in text
    return element


def errors_of(response, fmt: str) -> list[dict]:
    """The standard's error list, in either format, as [{code, description}]."""
    if fmt == "json":
        errors = json_of(response)
        assert isinstance(errors, list) and errors
        for error in errors:
            assert_fields(error, ERROR_FIELDS)
        return errors
    root = xml_of(response, "errors")
    errors = [
        {"code": int(error.findtext("code")), "description": error.findtext("description")}
        for error in root.findall("error")
    ]
    assert errors
    return errors


def assert_error(response, fmt: str, status: int, mentions: str = "") -> None:
    """An error answer with ``status`` in the header and the body; the descriptions name
    the parameter at fault (parameter names stay English in any language)."""
    assert response.status_code == status
    errors = errors_of(response, fmt)
    assert all(error["code"] == status for error in errors)
    if mentions:
        assert any(mentions in error["description"] for error in errors), errors


def road_services() -> dict[str, Category]:
    """도로 › 포트홀 (with attributes) and 도로 › 가로등 고장; 내부 › 감사 is not public."""
    roads = factories.CategoryFactory(name="도로", code="roads", sort_order=1)
    pothole = factories.CategoryFactory(
        name="포트홀",
        code="pothole",
        parent=roads,
        description="도로 파임",
        keywords="도로, 파임, 포트홀",
    )
    streetlight = factories.CategoryFactory(name="가로등 고장", code="streetlight", parent=roads)
    internal = factories.CategoryFactory(name="내부", code="internal", is_public=False)
    audit = factories.CategoryFactory(name="감사", code="audit", parent=internal)
    ServiceAttribute.objects.create(
        category=pothole,
        code="SIZE",
        datatype=ServiceAttribute.Datatype.SINGLEVALUELIST,
        required=True,
        description="구멍의 크기는?",
        order=1,
        values=[{"key": "small", "name": "작음"}, {"key": "large", "name": "큼"}],
    )
    ServiceAttribute.objects.create(
        category=pothole,
        code="LANES",
        datatype=ServiceAttribute.Datatype.MULTIVALUELIST,
        description="어느 차로인가요?",
        order=2,
        values=[
            {"key": "1", "name": "1차로"},
            {"key": "2", "name": "2차로"},
            {"key": 3, "name": "3"},
        ],
    )
    ServiceAttribute.objects.create(
        category=pothole,
        code="DEPTH",
        datatype=ServiceAttribute.Datatype.NUMBER,
        description="깊이(cm)",
        datatype_description="숫자",
        order=3,
    )
    ServiceAttribute.objects.create(
        category=pothole,
        code="NOTICE",
        variable=False,
        datatype=ServiceAttribute.Datatype.TEXT,
        description="위험하면 119에 먼저 신고하세요.",
        order=4,
    )
    return {
        "roads": roads,
        "pothole": pothole,
        "streetlight": streetlight,
        "internal": internal,
        "audit": audit,
    }


def new_api_key(name: str = "시민앱") -> str:
    return open311_key_create(name=name)[1]


def file_request(client: Client, fmt: str = "json", **params):
    return client.post(f"{BASE}/requests.{fmt}", params)
