"""Open311 discovery, service list and service definitions, in JSON and XML."""

import pytest
from django.test import Client

from tests.channels_app.open311_support import (
    BASE,
    SERVICE_FIELDS,
    assert_error,
    assert_fields,
    assert_service_definition,
    json_of,
    road_services,
    xml_of,
)

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]


@pytest.fixture
def services(db):
    return road_services()


def test_discovery_in_json_names_the_georeport_v2_endpoint_with_an_absolute_url(client):
    response = client.get(f"{BASE}/discovery.json")

    assert response.status_code == 200
    discovery = json_of(response)
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(discovery)
    [endpoint] = discovery["endpoints"]
    assert endpoint == {
        "specification": "http://wiki.open311.org/GeoReport_v2",
        "url": "http://testserver/open311/v2",
        "changeset": discovery["changeset"],
        "type": "production",
        "formats": ["application/json", "text/xml"],
    }


def test_discovery_in_xml_lists_formats_as_format_elements(client):
    root = xml_of(client.get(f"{BASE}/discovery.xml"), "discovery")

    assert root.findtext("changeset")
    assert root.findtext("contact")
    assert root.findtext("key_service")
    [endpoint] = root.findall("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2"
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "application/json",
        "text/xml",
    ]


def test_services_in_json_are_the_public_leaf_categories_grouped_by_their_parent(client, services):
    response = client.get(f"{BASE}/services.json")

    assert response.status_code == 200
    listed = json_of(response)
    assert isinstance(listed, list)
    for service in listed:
        assert_fields(service, SERVICE_FIELDS)
    assert [s["service_code"] for s in listed] == ["streetlight", "pothole"]
    pothole = listed[1]
    assert pothole == {
        "service_code": "pothole",
        "service_name": "포트홀",
        "description": "도로 파임",
        "metadata": True,
        "type": "realtime",
        "keywords": "도로, 파임, 포트홀",
        "group": "도로",
    }
    assert listed[0]["metadata"] is False
    assert listed[0]["description"] is None


def test_services_in_xml_use_service_elements_and_true_false_metadata(client, services):
    root = xml_of(client.get(f"{BASE}/services.xml"), "services")

    services_xml = root.findall("service")
    assert [s.findtext("service_code") for s in services_xml] == ["streetlight", "pothole"]
    pothole = services_xml[1]
    assert pothole.findtext("service_name") == "포트홀"
    assert pothole.findtext("metadata") == "true"
    assert pothole.findtext("type") == "realtime"
    assert pothole.findtext("keywords") == "도로, 파임, 포트홀"
    assert pothole.findtext("group") == "도로"
    assert services_xml[0].findtext("metadata") == "false"
    assert services_xml[0].find("description").text is None


def test_a_category_whose_parent_is_hidden_is_not_offered(client, services):
    listed = json_of(client.get(f"{BASE}/services.json"))

    assert "audit" not in {s["service_code"] for s in listed}
    assert "roads" not in {s["service_code"] for s in listed}


def test_a_parent_whose_children_are_all_hidden_is_offered_itself(client, services):
    services["streetlight"].is_public = False
    services["streetlight"].save()
    services["pothole"].is_public = False
    services["pothole"].save()

    listed = json_of(client.get(f"{BASE}/services.json"))

    assert [(s["service_code"], s["group"]) for s in listed] == [("roads", None)]


def test_no_services_is_an_empty_list_in_both_formats(client):
    assert json_of(client.get(f"{BASE}/services.json")) == []
    assert list(xml_of(client.get(f"{BASE}/services.xml"), "services")) == []


def test_service_definition_in_json_lists_attributes_in_order_with_string_keys(client, services):
    response = client.get(f"{BASE}/services/pothole.json")

    assert response.status_code == 200
    definition = json_of(response)
    assert_service_definition(definition)
    assert definition["service_code"] == "pothole"
    assert [a["code"] for a in definition["attributes"]] == ["SIZE", "LANES", "DEPTH", "NOTICE"]
    size, lanes, depth, notice = definition["attributes"]
    assert size == {
        "variable": True,
        "code": "SIZE",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "구멍의 크기는?",
        "values": [{"key": "small", "name": "작음"}, {"key": "large", "name": "큼"}],
    }
    assert lanes["values"][2] == {"key": "3", "name": "3"}
    assert depth["datatype_description"] == "숫자"
    assert depth["values"] == []
    assert notice["variable"] is False


def test_service_definition_in_xml_nests_attribute_and_value_elements(client, services):
    root = xml_of(client.get(f"{BASE}/services/pothole.xml"), "service_definition")

    assert root.findtext("service_code") == "pothole"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["SIZE", "LANES", "DEPTH", "NOTICE"]
    size = attributes[0]
    assert size.findtext("variable") == "true"
    assert size.findtext("datatype") == "singlevaluelist"
    assert size.findtext("required") == "true"
    assert size.findtext("order") == "1"
    assert size.findtext("description") == "구멍의 크기는?"
    assert [(v.findtext("key"), v.findtext("name")) for v in size.findall("values/value")] == [
        ("small", "작음"),
        ("large", "큼"),
    ]
    assert attributes[3].findtext("variable") == "false"


def test_a_service_without_attributes_has_an_empty_definition(client, services):
    definition = json_of(client.get(f"{BASE}/services/streetlight.json"))

    assert definition == {"service_code": "streetlight", "attributes": []}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["nope", "audit", "internal", "roads"])
def test_service_definition_of_an_unknown_hidden_or_group_code_is_404(client, services, fmt, code):
    response = client.get(f"{BASE}/services/{code}.{fmt}")

    assert_error(response, fmt, 404, mentions=code)


def test_jurisdiction_id_is_accepted_and_ignored(client, services):
    listed = json_of(client.get(f"{BASE}/services.json", {"jurisdiction_id": "other.city"}))

    assert len(listed) == 2


@pytest.mark.parametrize("path", ["services.html", "services.JSON", "discovery.yaml", "services"])
def test_an_unknown_format_or_missing_extension_is_a_404_error_list(client, path):
    response = client.get(f"{BASE}/{path}")

    assert_error(response, "xml", 404)


def test_an_unknown_resource_is_a_404_error_list(client):
    assert_error(client.get(f"{BASE}/tokens/123.xml"), "xml", 404)
    assert_error(Client(enforce_csrf_checks=True).post(f"{BASE}/tokens.json"), "xml", 404)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", ["discovery", "services", "services/pothole"])
def test_reads_refuse_other_methods_with_405_in_the_requested_format(client, services, fmt, path):
    response = client.post(f"{BASE}/{path}.{fmt}")

    assert_error(response, fmt, 405)
    assert response["Allow"] == "GET, HEAD"


def test_reads_need_no_login_and_ignore_a_logged_in_user(client, agent_user, services):
    client.force_login(agent_user)

    assert client.get(f"{BASE}/services.json").status_code == 200


def test_malformed_stored_values_are_skipped_not_a_crash(client, services):
    services["pothole"].attributes.filter(code="SIZE").update(
        values=["작음", {"key": "large", "name": "큼"}, {"name": "no key"}]
    )

    definition = json_of(client.get(f"{BASE}/services/pothole.json"))

    assert definition["attributes"][0]["values"] == [{"key": "large", "name": "큼"}]
