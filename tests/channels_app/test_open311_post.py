"""Filing Open311 service requests (POST requests.{json,xml}): tickets and every error."""

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from callcenter.models import Citizen
from tests.channels_app.open311_support import (
    BASE,
    assert_error,
    file_request,
    json_of,
    new_api_key,
    road_services,
    xml_of,
)
from tickets.models import Open311Key, Ticket, TicketEvent
from tickets.services import open311_key_create, open311_key_revoke

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]


@pytest.fixture
def services(db):
    return road_services()


@pytest.fixture
def api_key(db):
    return new_api_key()


@pytest.fixture
def pothole_request(api_key, services):
    """A complete, valid request for the pothole service."""
    return {
        "api_key": api_key,
        "jurisdiction_id": "city.example",
        "service_code": "pothole",
        "lat": "37.5665351",
        "long": "126.9779692",
        "address_string": "서울특별시 중구 세종대로 110",
        "description": "큰 구멍이 있어요\n차가 빠질 것 같습니다.",
        "attribute[SIZE]": "large",
        "media_url": "https://photos.example/pothole.jpg",
    }


def test_a_request_in_json_becomes_an_open311_ticket_and_answers_its_number(
    client, pothole_request
):
    response = client.post(f"{BASE}/requests.json", pothole_request)

    assert response.status_code == 200
    [answer] = json_of(response)
    ticket = Ticket.objects.get()
    assert answer["service_request_id"] == ticket.number
    assert isinstance(answer["service_request_id"], str)
    assert ticket.number in answer["service_notice"]
    assert "/track/" in answer["service_notice"]
    assert answer["account_id"] is None
    assert ticket.channel == "open311"
    assert ticket.category.code == "pothole"
    assert ticket.subject == "큰 구멍이 있어요"
    assert ticket.description == "큰 구멍이 있어요\n차가 빠질 것 같습니다."
    assert ticket.address == "서울특별시 중구 세종대로 110"
    assert ticket.latitude == Decimal("37.566535")
    assert ticket.longitude == Decimal("126.977969")
    assert ticket.media_url == "https://photos.example/pothole.jpg"
    assert ticket.attributes == {"SIZE": "large"}
    assert ticket.created_by is None
    assert ticket.status == Ticket.Status.NEW
    created = ticket.events.get()
    assert created.type == TicketEvent.Type.CREATED
    assert created.data["channel"] == "open311"


def test_a_request_in_xml_answers_service_requests_request(client, pothole_request):
    response = client.post(f"{BASE}/requests.xml", pothole_request)

    assert response.status_code == 200
    root = xml_of(response, "service_requests")
    [request] = root.findall("request")
    assert request.findtext("service_request_id") == Ticket.objects.get().number
    assert request.findtext("service_notice")
    assert request.find("account_id") is not None
    assert request.find("account_id").text is None


def test_filing_records_when_the_key_was_last_used(client, pothole_request):
    key = Open311Key.objects.get()
    assert key.last_used_at is None

    client.post(f"{BASE}/requests.json", pothole_request)

    key.refresh_from_db()
    assert key.last_used_at is not None
    assert abs(timezone.now() - key.last_used_at).total_seconds() < 60


def test_the_phone_finds_the_citizen_the_city_knows(client, pothole_request, citizen):
    response = client.post(
        f"{BASE}/requests.json",
        {**pothole_request, "phone": "010-1234-5678", "first_name": "길동", "last_name": "홍"},
    )

    assert response.status_code == 200
    assert Ticket.objects.get().citizen == citizen
    assert Citizen.objects.count() == 1


def test_a_new_phone_creates_a_citizen_with_name_and_email(client, pothole_request):
    client.post(
        f"{BASE}/requests.json",
        {
            **pothole_request,
            "phone": "+82 10-9876-5432",
            "first_name": "길동",
            "last_name": "홍",
            "email": "hong@example.com",
        },
    )

    created = Ticket.objects.get().citizen
    assert created.phone == "+821098765432"
    assert created.name == "홍길동"
    assert created.email == "hong@example.com"


def test_an_app_never_overwrites_what_the_city_knows_about_a_citizen(
    client, pothole_request, citizen
):
    citizen.email = "known@example.com"
    citizen.save()

    client.post(
        f"{BASE}/requests.json",
        {**pothole_request, "phone": "01012345678", "first_name": "X", "email": "new@x.com"},
    )

    citizen.refresh_from_db()
    assert citizen.name == "홍길동"
    assert citizen.email == "known@example.com"


def test_without_phone_or_email_the_request_is_anonymous(client, pothole_request):
    client.post(f"{BASE}/requests.json", pothole_request)

    assert Ticket.objects.get().citizen is None


def test_an_address_alone_is_a_location(client, api_key, services):
    response = file_request(
        client, api_key=api_key, service_code="streetlight", address_string="세종대로 110"
    )

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.address == "세종대로 110"
    assert ticket.latitude is None
    assert ticket.subject == "가로등 고장"


def test_an_address_id_alone_is_a_location(client, api_key, services):
    response = file_request(
        client, api_key=api_key, service_code="streetlight", address_id="1111010100"
    )

    assert response.status_code == 200
    assert Ticket.objects.get().address_id == "1111010100"


def test_empty_optional_parameters_act_as_absent(client, api_key, services):
    response = file_request(
        client,
        api_key=api_key,
        service_code="streetlight",
        lat="",
        long="",
        address_string="세종대로 110",
        address_id="",
        email="",
        phone="",
        first_name="",
        description="",
        media_url="",
        jurisdiction_id="",
    )

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.citizen is None
    assert ticket.media_url == ""
    assert ticket.latitude is None


def test_an_empty_optional_attribute_acts_as_absent(client, pothole_request):
    response = client.post(f"{BASE}/requests.json", {**pothole_request, "attribute[DEPTH]": ""})

    assert response.status_code == 200
    assert Ticket.objects.get().attributes == {"SIZE": "large"}


def test_a_multi_value_attribute_is_stored_as_a_list(client, pothole_request):
    response = client.post(
        f"{BASE}/requests.json",
        {**pothole_request, "attribute[LANES][]": ["1", "3", "1"], "attribute[DEPTH]": "12.5"},
    )

    assert response.status_code == 200
    assert Ticket.objects.get().attributes == {
        "SIZE": "large",
        "LANES": ["1", "3"],
        "DEPTH": "12.5",
    }


def test_a_multi_value_attribute_with_one_value_is_still_a_list(client, pothole_request):
    client.post(f"{BASE}/requests.json", {**pothole_request, "attribute[LANES][]": "2"})

    assert Ticket.objects.get().attributes["LANES"] == ["2"]


def test_a_long_first_line_is_cut_for_the_subject(client, pothole_request):
    client.post(f"{BASE}/requests.json", {**pothole_request, "description": "가" * 300})

    ticket = Ticket.objects.get()
    assert len(ticket.subject) == 200
    assert ticket.subject.endswith("…")
    assert ticket.description == "가" * 300


def test_a_description_of_exactly_4000_characters_is_accepted(client, pothole_request):
    response = client.post(f"{BASE}/requests.json", {**pothole_request, "description": "a" * 4000})

    assert response.status_code == 200


# Errors: each is the standard's list, with the HTTP status in the header and body,
# and no ticket is written.


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_api_key_is_403(client, pothole_request, fmt):
    del pothole_request["api_key"]

    assert_error(client.post(f"{BASE}/requests.{fmt}", pothole_request), fmt, 403, "api_key")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_api_key_is_403(client, pothole_request, fmt):
    pothole_request["api_key"] = ""

    assert_error(client.post(f"{BASE}/requests.{fmt}", pothole_request), fmt, 403, "api_key")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_api_key_is_403(client, pothole_request, fmt):
    pothole_request["api_key"] = pothole_request["api_key"][:8] + "x" * 35

    assert_error(client.post(f"{BASE}/requests.{fmt}", pothole_request), fmt, 403, "api_key")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_revoked_api_key_is_403(client, pothole_request, fmt):
    open311_key_revoke(key=Open311Key.objects.get())

    assert_error(client.post(f"{BASE}/requests.{fmt}", pothole_request), fmt, 403, "api_key")
    assert not Ticket.objects.exists()


def test_another_apps_key_still_works_after_one_is_revoked(client, pothole_request):
    other, other_raw = open311_key_create(name="다른 앱")
    open311_key_revoke(key=Open311Key.objects.exclude(pk=other.pk).get())

    response = client.post(f"{BASE}/requests.json", {**pothole_request, "api_key": other_raw})

    assert response.status_code == 200


def test_an_api_key_in_the_query_string_is_not_accepted(client, pothole_request):
    api_key = pothole_request.pop("api_key")

    response = client.post(f"{BASE}/requests.json?api_key={api_key}", pothole_request)

    assert_error(response, "json", 403)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_service_code_is_400(client, pothole_request, fmt):
    del pothole_request["service_code"]

    response = client.post(f"{BASE}/requests.{fmt}", pothole_request)

    assert_error(response, fmt, 400, "service_code")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["nope", "audit", "roads"])
def test_an_unknown_hidden_or_group_service_code_is_404(client, pothole_request, fmt, code):
    pothole_request["service_code"] = code

    response = client.post(f"{BASE}/requests.{fmt}", pothole_request)

    assert_error(response, fmt, 404, code)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_location_is_400(client, api_key, services, fmt):
    response = file_request(
        client, fmt, api_key=api_key, service_code="streetlight", description="불이 꺼졌어요"
    )

    assert_error(response, fmt, 400, "lat")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("lat", "long", "mentions"),
    [
        ("37.5", "", "long"),
        ("", "126.9", "lat"),
        ("north", "126.9", "lat"),
        ("37.5", "east", "long"),
        ("91", "126.9", "lat"),
        ("37.5", "-180.5", "long"),
        ("nan", "126.9", "lat"),
        ("37.5", "inf", "long"),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_coordinates_are_400(client, api_key, services, fmt, lat, long, mentions):
    response = file_request(
        client,
        fmt,
        api_key=api_key,
        service_code="streetlight",
        lat=lat,
        long=long,
        address_string="세종대로 110",
    )

    assert_error(response, fmt, 400, mentions)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_description_over_4000_characters_is_400(client, pothole_request, fmt):
    pothole_request["description"] = "a" * 4001

    response = client.post(f"{BASE}/requests.{fmt}", pothole_request)

    assert_error(response, fmt, 400, "description")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("phone", "12"),
        ("email", "not-an-email"),
        ("media_url", "javascript:alert(1)"),
        ("address_string", "가" * 301),
        ("address_id", "1" * 101),
    ],
)
def test_bad_optional_values_are_400(client, pothole_request, name, value):
    response = client.post(f"{BASE}/requests.json", {**pothole_request, name: value})

    assert_error(response, "json", 400, name)
    assert not Ticket.objects.exists()
    assert not Citizen.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_required_attribute_is_400(client, pothole_request, fmt):
    del pothole_request["attribute[SIZE]"]

    response = client.post(f"{BASE}/requests.{fmt}", pothole_request)

    assert_error(response, fmt, 400, "attribute[SIZE]")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("name", "value", "mentions"),
    [
        ("attribute[SIZE]", "huge", "attribute[SIZE]"),
        ("attribute[LANES][]", ["1", "9"], "attribute[LANES]"),
        ("attribute[DEPTH]", "deep", "attribute[DEPTH]"),
        ("attribute[DEPTH]", "NaN", "attribute[DEPTH]"),
        ("attribute[COLOUR]", "red", "attribute[COLOUR]"),
        ("attribute[NOTICE]", "읽었어요", "attribute[NOTICE]"),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_attribute_values_are_400(client, pothole_request, fmt, name, value, mentions):
    response = client.post(f"{BASE}/requests.{fmt}", {**pothole_request, name: value})

    assert_error(response, fmt, 400, mentions)
    assert not Ticket.objects.exists()


def test_a_single_value_attribute_given_twice_is_400(client, pothole_request):
    response = client.post(
        f"{BASE}/requests.json", {**pothole_request, "attribute[SIZE]": ["small", "large"]}
    )

    assert_error(response, "json", 400, "attribute[SIZE]")


def test_every_problem_of_a_request_is_listed_at_once(client, pothole_request):
    del pothole_request["attribute[SIZE]"]

    response = client.post(
        f"{BASE}/requests.json", {**pothole_request, "description": "a" * 4001, "lat": "x"}
    )

    errors = json_of(response)
    assert response.status_code == 400
    assert len(errors) == 3


def test_the_api_key_is_checked_before_anything_else(client, pothole_request):
    pothole_request["api_key"] = "wrong"
    del pothole_request["service_code"]

    assert_error(client.post(f"{BASE}/requests.json", pothole_request), "json", 403)


def test_filing_needs_no_csrf_token(pothole_request):
    strict = Client(enforce_csrf_checks=True)

    assert strict.post(f"{BASE}/requests.json", pothole_request).status_code == 200


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_refuse_put_with_405(client, fmt):
    response = client.put(f"{BASE}/requests.{fmt}")

    assert_error(response, fmt, 405)
    assert response["Allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("api_key", "abc\x00"),
        ("description", "구멍\x00"),
        ("attribute[DEPTH]", "1\x00"),
        ("attribute[\x00]", "1"),
    ],
)
def test_nul_characters_are_400_and_nothing_is_written(client, pothole_request, name, value):
    response = client.post(f"{BASE}/requests.json", {**pothole_request, name: value})

    assert_error(response, "json", 400)
    assert not Ticket.objects.exists()
