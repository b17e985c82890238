"""Reading Open311 service requests (GET requests.{fmt} and requests/{id}.{fmt})."""

from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from channels_app.open311 import selectors
from tests import factories
from tests.channels_app.open311_support import (
    BASE,
    assert_error,
    assert_requests,
    json_of,
    road_services,
    xml_of,
)
from tickets.models import Ticket
from tickets.services import (
    open311_request_create,
    ticket_comment,
    ticket_create,
    ticket_merge,
    ticket_resolve,
    ticket_transfer,
)

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]


@pytest.fixture
def services(db):
    return road_services()


def filed(services, *, code: str = "streetlight", days_ago: float = 0, **values) -> Ticket:
    """A request filed through Open311 ``days_ago`` days ago."""
    values.setdefault("address", "세종대로 110")
    ticket = open311_request_create(category=services[code], **values)
    if days_ago:
        created_at = timezone.now() - timedelta(days=days_ago)
        Ticket.objects.filter(pk=ticket.pk).update(created_at=created_at)
        ticket.refresh_from_db()
    return ticket


def numbers(response) -> list[str]:
    assert response.status_code == 200
    records = json_of(response)
    assert_requests(records)
    return [record["service_request_id"] for record in records]


def test_requests_in_json_show_every_field_of_the_standard(client, services, officer_user):
    ticket = filed(
        services,
        code="pothole",
        description="큰 구멍",
        latitude=Decimal("37.566535"),
        longitude=Decimal("126.977969"),
        address_id="1111010100",
        media_url="https://photos.example/1.jpg",
        attributes={"SIZE": "large"},
    )

    [record] = json_of(client.get(f"{BASE}/requests.json"))

    assert_requests([record])
    ticket.refresh_from_db()
    assert record == {
        "service_request_id": ticket.number,
        "status": "open",
        "status_notes": None,
        "service_name": "포트홀",
        "service_code": "pothole",
        "description": "큰 구멍",
        "agency_responsible": record["agency_responsible"],
        "service_notice": record["service_notice"],
        "requested_datetime": timezone.localtime(ticket.created_at).isoformat(timespec="seconds"),
        "updated_datetime": timezone.localtime(ticket.updated_at).isoformat(timespec="seconds"),
        "expected_datetime": None,
        "address": "세종대로 110",
        "address_id": "1111010100",
        "zipcode": None,
        "lat": 37.566535,
        "long": 126.977969,
        "media_url": "https://photos.example/1.jpg",
    }
    assert record["requested_datetime"].endswith("+09:00")
    assert record["agency_responsible"]
    assert ticket.number in record["service_notice"]


def test_requests_in_xml_are_request_elements_with_the_same_fields(client, services):
    ticket = filed(services, latitude=Decimal("37.5"), longitude=Decimal("127.0"))

    root = xml_of(client.get(f"{BASE}/requests.xml"), "service_requests")

    [request] = root.findall("request")
    assert request.findtext("service_request_id") == ticket.number
    assert request.findtext("status") == "open"
    assert request.findtext("service_code") == "streetlight"
    assert request.findtext("service_name") == "가로등 고장"
    assert request.findtext("requested_datetime").endswith("+09:00")
    assert request.findtext("address") == "세종대로 110"
    assert float(request.findtext("lat")) == 37.5
    assert float(request.findtext("long")) == 127.0
    assert request.find("zipcode").text is None
    assert request.find("status_notes").text is None
    assert [child.tag for child in request] == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]


def test_a_transferred_request_names_the_department_responsible(client, services):
    ticket = filed(services)
    department = factories.DepartmentFactory(name="도로관리과")
    due = timezone.now() + timedelta(days=3)
    ticket_transfer(ticket=ticket, department=department, actor=None, due=due)

    [record] = json_of(client.get(f"{BASE}/requests.json"))

    assert record["agency_responsible"] == "도로관리과"
    assert record["status"] == "open"
    assert record["expected_datetime"] == timezone.localtime(due).isoformat(timespec="seconds")


def test_a_resolved_request_is_closed_with_the_answer_as_status_notes(client, services, agent_user):
    ticket = filed(services)
    ticket_comment(ticket=ticket, actor=agent_user, text="내부 메모: 민원인 까다로움")
    ticket_resolve(ticket=ticket, actor=agent_user, answer="가로등을 교체했습니다.")
    ticket_comment(ticket=ticket, actor=agent_user, text="내부 메모: 다음 주 재점검")

    for fmt in FORMATS:
        response = client.get(f"{BASE}/requests/{ticket.number}.{fmt}")
        assert "내부 메모" not in response.content.decode()
    [record] = json_of(client.get(f"{BASE}/requests/{ticket.number}.json"))

    ticket.refresh_from_db()
    assert record["status"] == "closed"
    assert record["status_notes"] == "가로등을 교체했습니다."
    assert record["updated_datetime"] == timezone.localtime(ticket.resolved_at).isoformat(
        timespec="seconds"
    )


def test_an_open_request_shows_no_internal_note_as_status_notes(client, services, agent_user):
    ticket = filed(services)
    ticket_comment(ticket=ticket, actor=agent_user, text="내부 메모")

    [record] = json_of(client.get(f"{BASE}/requests.json"))

    assert record["status_notes"] is None
    assert ticket.number == record["service_request_id"]


def test_a_merged_duplicate_is_closed(client, services, supervisor_user):
    duplicate = filed(services, days_ago=1)
    original = filed(services)
    ticket_merge(source=duplicate, target=original, actor=supervisor_user)

    [record] = json_of(client.get(f"{BASE}/requests/{duplicate.number}.json"))

    assert record["status"] == "closed"


def test_only_requests_filed_through_open311_are_shown(client, services, citizen):
    phone_ticket = ticket_create(
        subject="개인 상담", channel="voice", citizen=citizen, category=services["streetlight"]
    )
    ticket = filed(services)

    assert numbers(client.get(f"{BASE}/requests.json")) == [ticket.number]
    assert_error(client.get(f"{BASE}/requests/{phone_ticket.number}.json"), "json", 404)
    assert (
        numbers(client.get(f"{BASE}/requests.json", {"service_request_id": phone_ticket.number}))
        == []
    )


def test_requests_are_newest_first(client, services):
    older = filed(services, days_ago=3)
    newer = filed(services, days_ago=1)

    assert numbers(client.get(f"{BASE}/requests.json")) == [newer.number, older.number]


def test_by_default_only_the_last_90_days_are_shown(client, services):
    recent = filed(services, days_ago=89)
    filed(services, days_ago=91)

    assert numbers(client.get(f"{BASE}/requests.json")) == [recent.number]


def test_status_filters_open_and_closed(client, services, agent_user):
    open_ticket = filed(services, days_ago=1)
    closed_ticket = filed(services)
    ticket_resolve(ticket=closed_ticket, actor=agent_user, answer="처리했습니다.")

    assert numbers(client.get(f"{BASE}/requests.json", {"status": "open"})) == [open_ticket.number]
    assert numbers(client.get(f"{BASE}/requests.json", {"status": "closed"})) == [
        closed_ticket.number
    ]
    assert numbers(client.get(f"{BASE}/requests.json", {"status": "open,closed"})) == [
        closed_ticket.number,
        open_ticket.number,
    ]


def test_service_code_filters_one_or_several_services(client, services):
    light = filed(services, days_ago=1)
    hole = filed(services, code="pothole")

    assert numbers(client.get(f"{BASE}/requests.json", {"service_code": "pothole"})) == [
        hole.number
    ]
    assert numbers(
        client.get(f"{BASE}/requests.json", {"service_code": "pothole, streetlight"})
    ) == [hole.number, light.number]


def test_start_and_end_date_select_a_window(client, services):
    filed(services, days_ago=10)
    middle = filed(services, days_ago=5)
    filed(services, days_ago=1)
    start = (timezone.now() - timedelta(days=7)).isoformat(timespec="seconds")
    end = (timezone.now() - timedelta(days=3)).isoformat(timespec="seconds")

    response = client.get(f"{BASE}/requests.json", {"start_date": start, "end_date": end})

    assert numbers(response) == [middle.number]


def test_dates_may_use_z_and_a_plus_sign_lost_in_an_unencoded_query(client, services):
    ticket = filed(services, days_ago=2)
    start = (timezone.now() - timedelta(days=3)).astimezone(UTC)
    start_z = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    start_seoul = timezone.localtime(start).strftime("%Y-%m-%dT%H:%M:%S")

    assert numbers(client.get(f"{BASE}/requests.json", {"start_date": start_z})) == [ticket.number]
    response = client.get(f"{BASE}/requests.json?start_date={start_seoul}+09:00")
    assert numbers(response) == [ticket.number]


def test_a_start_date_alone_reaches_90_days_forward(client, services):
    filed(services, days_ago=120)
    inside = filed(services, days_ago=100)
    start = (timezone.now() - timedelta(days=110)).isoformat()

    assert numbers(client.get(f"{BASE}/requests.json", {"start_date": start})) == [inside.number]


def test_an_end_date_alone_reaches_90_days_back(client, services):
    inside = filed(services, days_ago=100)
    filed(services, days_ago=1)
    end = (timezone.now() - timedelta(days=50)).date().isoformat()

    assert numbers(client.get(f"{BASE}/requests.json", {"end_date": end})) == [inside.number]


def test_empty_filters_act_as_absent(client, services):
    ticket = filed(services)

    response = client.get(
        f"{BASE}/requests.json",
        {
            "service_request_id": "",
            "service_code": "",
            "status": "",
            "start_date": "",
            "end_date": "",
            "jurisdiction_id": "",
        },
    )

    assert numbers(response) == [ticket.number]


def test_service_request_id_lists_requests_and_overrides_the_other_filters(client, services):
    old = filed(services, days_ago=200)
    new = filed(services)
    filed(services)

    response = client.get(
        f"{BASE}/requests.json",
        {
            "service_request_id": f"{old.number}, {new.number},120-1999-000001",
            "status": "closed",
            "service_code": "pothole",
            "start_date": "bad",
        },
    )

    assert numbers(response) == [new.number, old.number]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-45"}, "end_date"),
        ({"start_date": "2026-03-01T00:00:00+09:00", "end_date": "2026-01-01"}, "start_date"),
        ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "90"),
        ({"status": "pending"}, "status"),
    ],
)
def test_bad_filters_are_400(client, services, fmt, params, mentions):
    assert_error(client.get(f"{BASE}/requests.{fmt}", params), fmt, 400, mentions)


def test_at_most_1000_requests_are_returned(client, services):
    now = timezone.now()
    Ticket.objects.bulk_create(
        Ticket(
            number=f"120-2026-9{n:05d}",
            subject="가로등",
            channel="open311",
            category=services["streetlight"],
            address="세종대로",
            created_at=now - timedelta(minutes=n),
        )
        for n in range(selectors.MAX_REQUESTS + 1)
    )

    listed = numbers(client.get(f"{BASE}/requests.json"))

    assert len(listed) == 1000
    assert listed[0] == "120-2026-900000"
    assert "120-2026-901000" not in listed


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_is_a_one_element_list(client, services, fmt):
    ticket = filed(services)

    response = client.get(f"{BASE}/requests/{ticket.number}.{fmt}")

    assert response.status_code == 200
    if fmt == "json":
        [record] = json_of(response)
        assert record["service_request_id"] == ticket.number
    else:
        root = xml_of(response, "service_requests")
        assert [r.findtext("service_request_id") for r in root] == [ticket.number]


def test_one_request_older_than_90_days_is_still_found(client, services):
    ticket = filed(services, days_ago=400)

    assert numbers(client.get(f"{BASE}/requests/{ticket.number}.json")) == [ticket.number]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_request_id_is_404(client, services, fmt):
    response = client.get(f"{BASE}/requests/120-2026-999999.{fmt}")

    assert_error(response, fmt, 404, "120-2026-999999")


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_refuses_post_with_405(client, services, fmt):
    ticket = filed(services)

    assert_error(client.post(f"{BASE}/requests/{ticket.number}.{fmt}"), fmt, 405)


def test_control_characters_in_a_description_keep_the_xml_well_formed(client, services):
    filed(services, description="줄\x0b바꿈\x1f & <태그>")

    root = xml_of(client.get(f"{BASE}/requests.xml"), "service_requests")

    assert root.find("request").findtext("description") == "줄바꿈 & <태그>"


def test_reads_need_no_login(client, services):
    filed(services)

    assert client.get(f"{BASE}/requests.xml").status_code == 200


@pytest.mark.parametrize(
    "params",
    [{"service_request_id": "120\x00"}, {"service_code": "a\x00"}, {"status": "\x00"}],
)
def test_nul_characters_in_filters_are_400(client, services, params):
    assert_error(client.get(f"{BASE}/requests.json", params), "json", 400)


def test_a_nul_character_in_a_request_id_is_400(client, services):
    assert_error(client.get(f"{BASE}/requests/120%00.json"), "json", 400)
