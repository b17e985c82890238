"""/supervisor/reports/: who may see it, its filters, its numbers and its exports."""

import csv
import html
import io
import re
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from callcenter.metrics import SEOUL
from callcenter.models import Channel
from callcenter.services.stats import stats_rebuild
from tests import factories
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

REPORTS = "/supervisor/reports/"


def _day() -> date:
    """Yesterday in Seoul: inside the default range (the last seven days)."""
    return timezone.localdate() - timedelta(days=1)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SEOUL)


def _call(queue, start: datetime, *, wait: int, talk: int = 120, wrap: int = 30, agent=None):
    """An inbound call queued at ``start``, answered after ``wait`` seconds, talked and wrapped."""
    answered = start + timedelta(seconds=wait)
    ended = answered + timedelta(seconds=talk)
    return factories.ContactFactory(
        channel=Channel.VOICE,
        queue=queue,
        agent=agent,
        queued_at=start,
        answered_at=answered,
        ended_at=ended,
        wrapup_ended_at=ended + timedelta(seconds=wrap),
    )


def _abandoned(queue, start: datetime, *, after: int):
    return factories.ContactFactory(
        channel=Channel.VOICE,
        queue=queue,
        queued_at=start,
        abandoned=True,
        ended_at=start + timedelta(seconds=after),
    )


@pytest.fixture
def three_calls(agent_user):
    """Yesterday at 10:00, queue 민원상담: answered after 10 s and 15 s (within 20 s) and 40 s;
    2 min talk and 30 s wrap-up each: service level 66.7 %, ASA 0:22, AHT 2:30."""
    day = _day()
    queue = factories.QueueFactory(code="civil", name="민원상담")
    agent = agent_user.agent
    calls = [
        _call(queue, _at(day, 10, 0), wait=10, agent=agent),
        _call(queue, _at(day, 10, 5), wait=15, agent=agent),
        _call(queue, _at(day, 10, 10), wait=40, agent=agent),
    ]
    stats_rebuild(start=day - timedelta(days=14), end=day)
    return calls


def _in_english(client) -> None:
    """The language switch's cookie: the pages (and exports) in English from now on."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def _shared_strings(body: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        shared = archive.read("xl/sharedStrings.xml").decode()
    return [
        html.unescape(re.sub(r"<[^>]+>", "", item))
        for item in re.findall(r"<si>(.*?)</si>", shared, re.S)
    ]


def _kpis(response) -> dict[str, str]:
    return {card.key: card.value for card in response.context["kpis"]}


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


# --- who may see it -----------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(REPORTS)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_anonymous_visitor_gets_no_export(client):
    response = client.get(reverse("supervisor-reports-export", kwargs={"fmt": "csv"}))

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_agent_may_not_see_the_reports(client, agent_user):
    client.force_login(agent_user)

    assert client.get(REPORTS).status_code == 403
    assert (
        client.get(reverse("supervisor-reports-export", kwargs={"fmt": "xlsx"})).status_code == 403
    )


def test_a_department_officer_may_not_see_the_reports(client, officer_user):
    client.force_login(officer_user)

    assert client.get(REPORTS).status_code == 403
    assert (
        client.get(reverse("supervisor-reports-export", kwargs={"fmt": "csv"})).status_code == 403
    )


def test_a_supervisor_sees_the_reports_page(client, supervisor_user):
    client.force_login(supervisor_user)
    response = client.get(REPORTS)

    assert response.status_code == 200
    assert reverse("supervisor-reports") == REPORTS
    filters = response.context["filters"]
    assert (filters.start, filters.end) == (
        timezone.localdate() - timedelta(days=6),
        timezone.localdate(),
    )
    assert (filters.interval, filters.group, filters.source) == ("day", "none", "rollup")


def test_an_administrator_sees_the_reports_page(client, administrator_user):
    client.force_login(administrator_user)

    assert client.get(REPORTS).status_code == 200


def test_an_empty_range_shows_a_friendly_message_and_no_chart(client, supervisor_user):
    client.force_login(supervisor_user)
    _in_english(client)
    response = client.get(REPORTS, {"from": "2020-01-01", "to": "2020-01-31"})

    assert response.status_code == 200 and response.context["empty"]
    assert b"Nothing to report in this range" in response.content
    assert b'id="sl-chart"' not in response.content


# --- filters and their errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"interval": "year"}, "interval"),
        ({"group": "citizen"}, "group"),
        ({"channel": "pigeon"}, "channel"),
        ({"queue": "999999"}, "queue"),
        ({"queue": "abc"}, "queue"),
        ({"from": "2026-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"source": "guess"}, "source"),
        ({"from": "0001-01-01", "to": "0001-01-02", "compare": "1"}, "from"),
        ({"to": "9999-12-31"}, "to"),
    ],
)
def test_a_wrong_filter_value_is_a_form_error_not_a_server_error(
    client, supervisor_user, params, field
):
    client.force_login(supervisor_user)
    response = client.get(REPORTS, params)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert b"is-invalid" in response.content


def test_a_range_that_ends_before_it_starts_is_refused(client, supervisor_user):
    client.force_login(supervisor_user)
    _in_english(client)
    response = client.get(REPORTS, {"from": "2026-11-10", "to": "2026-11-01"})

    assert response.status_code == 400
    assert "The start date must be on or before the end date." in response.content.decode()


@pytest.mark.parametrize(("interval", "days", "limit"), [("15m", 32, 31), ("hour", 93, 92)])
def test_a_fine_interval_over_a_long_range_says_how_long_it_may_be(
    client, supervisor_user, interval, days, limit
):
    client.force_login(supervisor_user)
    start = date(2026, 1, 1)
    params = {"from": start, "to": start + timedelta(days=days - 1), "interval": interval}
    _in_english(client)
    refused = client.get(REPORTS, params)
    accepted = client.get(REPORTS, {**params, "to": start + timedelta(days=limit - 1)})

    assert refused.status_code == 400
    assert f"at most {limit} days" in refused.content.decode()
    assert accepted.status_code == 200


def test_a_range_over_three_years_is_refused(client, supervisor_user):
    client.force_login(supervisor_user)
    _in_english(client)
    response = client.get(REPORTS, {"from": "2020-01-01", "to": "2026-01-01", "interval": "month"})

    assert response.status_code == 400
    assert "at most three years" in response.content.decode()


def test_a_queue_with_a_grouping_by_category_is_refused_with_a_reason(client, supervisor_user):
    client.force_login(supervisor_user)
    queue = factories.QueueFactory(code="civil", name="민원상담")
    _in_english(client)
    response = client.get(REPORTS, {"queue": queue.pk, "group": "category"})
    export = client.get(
        reverse("supervisor-reports-export", kwargs={"fmt": "csv"}),
        {"queue": queue.pk, "group": "agent"},
    )

    assert response.status_code == 400 and "queue" in response.context["form"].errors
    assert "no grouping or by channel" in response.content.decode()
    assert export.status_code == 400 and "no grouping or by channel" in export.content.decode()


def test_an_export_with_wrong_filters_answers_400_with_the_reason(client, supervisor_user):
    client.force_login(supervisor_user)
    _in_english(client)
    response = client.get(
        reverse("supervisor-reports-export", kwargs={"fmt": "csv"}),
        {"from": "2026-01-01", "to": "2026-03-01", "interval": "15m"},
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "at most 31 days" in response.content.decode()


def test_an_unknown_export_format_is_not_found(client, supervisor_user):
    client.force_login(supervisor_user)

    assert client.get(REPORTS + "export.pdf").status_code == 404


def test_quick_ranges_keep_the_grouping_and_mark_the_current_range(client, supervisor_user):
    client.force_login(supervisor_user)
    today = timezone.localdate()
    response = client.get(
        REPORTS, {"group": "queue", "interval": "15m", "from": today, "to": today}
    )
    links = {str(link["label"]): link for link in response.context["quick_ranges"]}

    assert len(links) == 6
    current = [link for link in links.values() if link["current"]]
    assert len(current) == 1 and "interval=15m" in current[0]["url"]
    assert all("group=queue" in link["url"] for link in links.values())
    # 15 minutes cannot cover twelve months: that link asks for months instead
    assert any("interval=month" in link["url"] for link in links.values())


# --- the numbers ---------------------------------------------------------------------------------


def test_three_calls_give_the_service_level_asa_and_aht_of_their_definitions(
    client, supervisor_user, three_calls
):
    client.force_login(supervisor_user)
    _in_english(client)
    day = _day()
    response = client.get(REPORTS, {"from": day, "to": day, "interval": "hour"})
    kpis = _kpis(response)

    assert response.status_code == 200
    assert kpis["service_level"] == "66.7%"
    assert kpis["asa"] == "0:22"
    assert kpis["aht"] == "2:30"
    assert kpis["offered"] == "3"
    assert "handled 3" in {card.key: card.note for card in response.context["kpis"]}["offered"]
    assert response.context["rows"][0]["period"] == f"{day.isoformat()} 10:00"
    assert "66.7%" in response.content.decode()


def test_the_heat_map_counts_the_calls_in_their_weekday_and_hour(
    client, supervisor_user, three_calls
):
    client.force_login(supervisor_user)
    day = _day()
    heatmap = client.get(REPORTS, {"from": day, "to": day}).context["heatmap"]
    weekday = heatmap["rows"][day.weekday()]

    assert weekday["cells"][10]["value"] == 3 and weekday["cells"][10]["level"] == 8
    assert weekday["total"] == 3 and heatmap["peak"] == 3


def test_the_raw_computation_shows_the_same_page_as_the_rollups(
    client, supervisor_user, three_calls
):
    client.force_login(supervisor_user)
    day = _day()
    _abandoned(three_calls[0].queue, _at(day, 11), after=30)
    _abandoned(three_calls[0].queue, _at(day, 11, 30), after=3)
    stats_rebuild(start=day, end=day)
    params = {"from": day - timedelta(days=3), "to": day, "group": "queue", "interval": "hour"}
    rollup = client.get(REPORTS, params)
    raw = client.get(REPORTS, {**params, "source": "raw"})

    assert rollup.context["rows"] == raw.context["rows"]
    assert rollup.context["total_cells"] == raw.context["total_cells"]
    assert _kpis(rollup) == _kpis(raw)
    assert _kpis(raw)["offered"] == "5" and _kpis(raw)["abandonment_rate"] == "20.0%"


def test_compare_shows_the_previous_period_beside_each_figure(client, supervisor_user, three_calls):
    client.force_login(supervisor_user)
    day = _day()
    before = day - timedelta(days=1)
    _call(three_calls[0].queue, _at(before, 9), wait=50)
    stats_rebuild(start=before, end=before)
    response = client.get(REPORTS, {"from": day, "to": day, "compare": "1"})
    cards = {card.key: card for card in response.context["kpis"]}

    assert response.context["previous"].start == before
    assert cards["service_level"].previous == "0.0%" and cards["service_level"].value == "66.7%"
    assert cards["service_level"].trend == "up" and cards["service_level"].tone == "good"
    assert cards["asa"].trend == "down" and cards["asa"].tone == "good"
    assert cards["offered"].previous == "1"
    assert response.context["chart"]["previous"]["offered"] == [1]
    assert "▲" in response.content.decode()


def test_compare_0_in_a_hand_written_address_means_no_comparison(client, supervisor_user):
    client.force_login(supervisor_user)
    response = client.get(REPORTS, {"compare": "0"})

    assert response.status_code == 200 and response.context["previous"] is None


def test_a_channel_filter_leaves_the_other_channels_out(client, supervisor_user, three_calls):
    client.force_login(supervisor_user)
    day = _day()
    factories.ContactFactory(
        channel=Channel.WEBCHAT, queued_at=_at(day, 12), abandoned=True, ended_at=_at(day, 12, 1)
    )
    stats_rebuild(start=day, end=day)

    voice = client.get(REPORTS, {"from": day, "to": day, "channel": "voice"})
    chat = client.get(REPORTS, {"from": day, "to": day, "channel": "webchat"})

    assert _kpis(voice)["offered"] == "3"
    assert _kpis(chat)["offered"] == "1"


def test_a_queue_filter_leaves_the_other_queues_out(client, supervisor_user, three_calls):
    client.force_login(supervisor_user)
    day = _day()
    other = factories.QueueFactory(code="tax", name="세무")
    _call(other, _at(day, 14), wait=5)
    stats_rebuild(start=day, end=day)

    response = client.get(REPORTS, {"from": day, "to": day, "queue": other.pk})

    assert _kpis(response)["offered"] == "1" and _kpis(response)["service_level"] == "100.0%"


@pytest.mark.parametrize("group", ["queue", "agent", "channel"])
def test_a_report_by_queue_agent_or_channel_names_each_group(
    client, supervisor_user, three_calls, group
):
    client.force_login(supervisor_user)
    day = _day()
    response = client.get(REPORTS, {"from": day, "to": day, "group": group})
    groups = [row["group"] for row in response.context["rows"]]
    expected = {"queue": "민원상담", "agent": "김민지", "channel": str(Channel.VOICE.label)}[group]

    assert expected in groups
    assert expected in response.content.decode()


def test_a_report_by_category_and_by_department_names_them(client, supervisor_user, three_calls):
    client.force_login(supervisor_user)
    day = _day()
    category = factories.CategoryFactory(name="불법주정차")
    department = factories.DepartmentFactory(name="교통행정과")
    ticket = Ticket.objects.create(
        number="2026-000001",
        subject="주차 민원",
        channel=Channel.VOICE,
        category=category,
        department=department,
        created_at=_at(day, 10, 3),
    )
    ticket.contacts.add(three_calls[0], three_calls[1])
    stats_rebuild(start=day, end=day)

    by_category = client.get(REPORTS, {"from": day, "to": day, "group": "category"})
    by_department = client.get(REPORTS, {"from": day, "to": day, "group": "department"})

    assert "불법주정차" in [row["group"] for row in by_category.context["rows"]]
    assert by_category.context["category_rows"][0]["label"] == "불법주정차"
    assert by_category.context["category_rows"][0]["tickets"] == 1
    assert "교통행정과" in [row["group"] for row in by_department.context["rows"]]


def test_the_page_draws_its_charts_from_local_files_with_its_data_in_json(
    client, supervisor_user, three_calls
):
    client.force_login(supervisor_user)
    day = _day()
    response = client.get(REPORTS, {"from": day, "to": day, "interval": "hour"})
    page = response.content.decode()
    chart = response.context["chart"]

    assert 'id="report-data" type="application/json"' in page
    assert "/static/vendor/chart.js/chart.umd.min.js" in page and "/static/js/reports.js" in page
    assert "/static/css/reports.css" in page
    assert "<script>" not in page and "cdn" not in page.lower()
    assert len(chart["timeline"]["labels"]) == 24
    assert chart["timeline"]["offered"][10] == 3 and chart["timeline"]["service_level"][10] == 66.7
    assert chart["timeline"]["service_level"][9] is None
    assert response.context["timeline"] == [
        {
            "label": f"{day.isoformat()} 10:00",
            "service_level": 66.7,
            "offered": 3,
            "answered": 3,
            "abandoned": 0,
        }
    ]
    assert 'role="img"' in page and 'scope="col"' in page and 'scope="row"' in page


# --- exports ---------------------------------------------------------------------------------


def test_the_csv_export_has_a_bom_a_dated_file_name_and_the_pages_numbers(
    client, supervisor_user, three_calls
):
    client.force_login(supervisor_user)
    day = _day()
    _in_english(client)
    response = client.get(
        reverse("supervisor-reports-export", kwargs={"fmt": "csv"}),
        {"from": day, "to": day, "interval": "hour", "group": "queue"},
    )
    header, *rows = _csv(response)
    row = dict(zip(header, rows[0], strict=True))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert (
        f'filename="open120-report-{day.isoformat()}_{day.isoformat()}.csv"'
        in response["Content-Disposition"]
    )
    assert len(rows) == 1
    assert row["Period"] == f"{day.isoformat()} 10:00" and row["Queue"] == "민원상담"
    assert row["Offered"] == "3" and row["Service level"] == "0.6667" and row["AHT (s)"] == "150.0"


def test_the_csv_header_is_korean_for_a_korean_page(client, supervisor_user):
    client.force_login(supervisor_user)
    response = client.get(
        reverse("supervisor-reports-export", kwargs={"fmt": "csv"}), {"group": "queue"}
    )
    header = _csv(response)[0]

    assert header[:4] == ["기간", "대기열", "인입", "응대"]


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","클릭")', "-2+3", "@SUM(A1)", "+1-1"]
)
def test_a_queue_named_like_a_formula_is_neutralised_in_both_exports(client, supervisor_user, name):
    client.force_login(supervisor_user)
    day = _day()
    queue = factories.QueueFactory(code="evil", name=name)
    _call(queue, _at(day, 9), wait=5)
    stats_rebuild(start=day, end=day)
    params = {"from": day, "to": day, "group": "queue"}

    csv_rows = _csv(client.get(reverse("supervisor-reports-export", kwargs={"fmt": "csv"}), params))
    xlsx = client.get(reverse("supervisor-reports-export", kwargs={"fmt": "xlsx"}), params)
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()

    assert csv_rows[1][1] == "'" + name
    assert "'" + name in _shared_strings(xlsx.content)
    assert name not in _shared_strings(xlsx.content)
    assert "<f>" not in sheet


def test_the_xlsx_export_is_a_workbook_with_number_cells(client, supervisor_user, three_calls):
    client.force_login(supervisor_user)
    day = _day()
    response = client.get(
        reverse("supervisor-reports-export", kwargs={"fmt": "xlsx"}),
        {"from": day, "to": day, "interval": "day"},
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        names = archive.namelist()

    assert (
        response["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert (
        f'filename="open120-report-{day.isoformat()}_{day.isoformat()}.xlsx"'
        in response["Content-Disposition"]
    )
    assert "xl/worksheets/sheet2.xml" in names
    offered = re.search(r'<c r="C2"([^>]*)><v>([^<]*)</v>', sheet)
    assert offered and 't="s"' not in offered.group(1) and offered.group(2) == "3"


def test_a_long_grouped_table_shows_its_head_and_points_to_the_exports(
    client, supervisor_user, monkeypatch
):
    """Only the first rows of a grouped report are computed and shown; the rest are in the
    exports (a year by day by agent would be a six-figure table)."""
    monkeypatch.setattr("callcenter.report_views.PAGE_ROWS", 3)
    day = _day()
    queues = [factories.QueueFactory(code=f"q{n}", name=f"대기열{n}") for n in range(2)]
    for days_ago in range(4):
        for queue in queues:
            _call(queue, _at(day - timedelta(days=days_ago), 11), wait=5)
    stats_rebuild(start=day - timedelta(days=6), end=day)
    client.force_login(supervisor_user)
    query = {"from": day - timedelta(days=3), "to": day, "group": "queue", "interval": "day"}

    response = client.get(REPORTS, query)
    page = response.content.decode()
    rows = response.context["rows"]
    assert [(row["period"], row["group"]) for row in rows] == [
        (rows[0]["period"], "대기열0"),
        (rows[0]["period"], "대기열1"),
        (rows[2]["period"], "대기열0"),
    ]
    assert "처음 3행만 표시합니다" in page
    exported = _csv(client.get(reverse("supervisor-reports-export", args=["csv"]), query))
    assert len(exported) == 1 + 8, "the export carries every row"

    whole = client.get(REPORTS, {**query, "from": day})
    assert len(whole.context["rows"]) == 2
    assert "처음 3행만" not in whole.content.decode()


def test_names_in_the_tables_are_escaped(client, supervisor_user):
    day = _day()
    queue = factories.QueueFactory(code="xss", name='<img src=x onerror="alert(1)">')
    _call(queue, _at(day, 9), wait=5)
    stats_rebuild(start=day, end=day)
    client.force_login(supervisor_user)

    page = client.get(REPORTS, {"from": day, "to": day, "group": "queue"}).content.decode()

    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
