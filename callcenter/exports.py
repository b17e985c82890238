"""Reports as tables and files: the columns of /supervisor/reports/ (the page's table, its
CSV and XLSX exports, the daily e-mail) and the writers of the two file formats.

Names of queues, agents and categories are typed by people; a spreadsheet would run a cell
that starts like a formula. Every text cell of an export goes through :func:`neutralise`
(OWASP "CSV injection"), and the XLSX writer only ever writes strings as strings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import xlsxwriter
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from callcenter.metrics import SEOUL, SERVICE_LEVEL_TARGET, Measures, ReportRow
from callcenter.templatetags.open120 import duration_mmss, percent

# A cell starting with one of these is read as a formula by Excel, LibreOffice or Google
# Sheets (tab and carriage return too; full-width forms are folded by some of them).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(text: str) -> str:
    """``text`` made inert for a spreadsheet: a leading formula character gets a ``'``."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 1)


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class Column:
    """One measure column: its header, its kind (count, ratio or seconds) and its value."""

    key: str
    label: Promise
    kind: str
    value: Callable[[Measures], int | float | None]

    @property
    def title(self) -> str:
        """The header on a page, where durations read as m:ss rather than seconds."""
        return str(PAGE_TITLES.get(self.key, self.label))

    def display(self, measures: Measures) -> str:
        """The value as a page or an e-mail shows it: 1,234 · 66.7% · 1:05 · –."""
        return display_value(self.kind, self.value(measures))


def display_value(kind: str, value: int | float | None) -> str:
    if value is None:
        return "–"
    if kind == "ratio":
        return percent(value)
    if kind == "seconds":
        return duration_mmss(timedelta(seconds=value))
    return f"{value:,}"


PAGE_TITLES = {
    "asa": gettext_lazy("ASA"),
    "aht": gettext_lazy("AHT"),
    "aht_talk": gettext_lazy("Talk"),
    "aht_hold": gettext_lazy("Hold"),
    "aht_wrap": gettext_lazy("Wrap-up"),
}


COLUMNS: tuple[Column, ...] = (
    Column("offered", gettext_lazy("Offered"), "count", lambda m: m.offered),
    Column("answered", gettext_lazy("Answered"), "count", lambda m: m.answered),
    Column("abandoned", gettext_lazy("Abandoned"), "count", lambda m: m.abandoned),
    Column("handled", gettext_lazy("Handled"), "count", lambda m: m.handled),
    Column(
        "service_level", gettext_lazy("Service level"), "ratio", lambda m: _ratio(m.service_level)
    ),
    Column("asa", gettext_lazy("ASA (s)"), "seconds", lambda m: _seconds(m.asa)),
    Column(
        "abandonment_rate",
        gettext_lazy("Abandonment rate"),
        "ratio",
        lambda m: _ratio(m.abandonment_rate),
    ),
    Column("aht", gettext_lazy("AHT (s)"), "seconds", lambda m: _seconds(m.aht)),
    Column("aht_talk", gettext_lazy("Talk (s)"), "seconds", lambda m: _seconds(m.aht_talk)),
    Column("aht_hold", gettext_lazy("Hold (s)"), "seconds", lambda m: _seconds(m.aht_hold)),
    Column("aht_wrap", gettext_lazy("Wrap-up (s)"), "seconds", lambda m: _seconds(m.aht_wrap)),
    Column("fcr", gettext_lazy("FCR"), "ratio", lambda m: _ratio(m.fcr)),
    Column("csat", gettext_lazy("CSAT"), "ratio", lambda m: _ratio(m.csat)),
    Column("occupancy", gettext_lazy("Occupancy"), "ratio", lambda m: _ratio(m.occupancy)),
    Column("tickets_opened", gettext_lazy("Tickets opened"), "count", lambda m: m.tickets_opened),
    Column(
        "tickets_resolved", gettext_lazy("Tickets resolved"), "count", lambda m: m.tickets_resolved
    ),
    Column(
        "tickets_transferred",
        gettext_lazy("Tickets transferred"),
        "count",
        lambda m: m.tickets_transferred,
    ),
    Column(
        "tickets_overdue", gettext_lazy("Tickets overdue"), "count", lambda m: m.tickets_overdue
    ),
    Column("survey_answers", gettext_lazy("Survey answers"), "count", lambda m: m.survey_answers),
)

# How a period's start reads for each interval (Seoul time).
PERIOD_FORMATS = {
    "15m": "%Y-%m-%d %H:%M",
    "hour": "%Y-%m-%d %H:%M",
    "day": "%Y-%m-%d",
    "week": "%Y-%m-%d",
    "month": "%Y-%m",
}
XLSX_PERIOD_FORMATS = {
    "15m": "yyyy-mm-dd hh:mm",
    "hour": "yyyy-mm-dd hh:mm",
    "day": "yyyy-mm-dd",
    "week": "yyyy-mm-dd",
    "month": "yyyy-mm",
}


def period_local(period: datetime | None) -> datetime | None:
    return None if period is None else timezone.localtime(period, SEOUL)


def period_label(period: datetime | None, interval: str | None) -> str:
    """A period's start as people read it: "2026-11-30 09:15", "2026-11-30", "2026-11"."""
    local = period_local(period)
    if local is None or interval is None:
        return _("Whole range")
    return local.strftime(PERIOD_FORMATS[interval])


def group_label(row: ReportRow, group: str) -> str:
    if group == "none":
        return _("All")
    return row.label or _("(none)")


def header(group: str) -> list[str]:
    """The localised header row: period, group, then every measure."""
    from_group = {
        "none": _("Group"),
        "channel": _("Channel"),
        "queue": _("Queue"),
        "agent": _("Agent"),
        "category": _("Category"),
        "department": _("Department"),
    }
    return [_("Period"), from_group.get(group, _("Group"))] + [str(c.label) for c in COLUMNS]


def table_rows(
    rows: Iterable[ReportRow], *, interval: str | None, group: str
) -> list[list[str | int | float | None]]:
    """Cell values of the rows: period and group as text, the measures as numbers."""
    return [
        [period_label(row.period, interval), group_label(row, group)]
        + [column.value(row.measures) for column in COLUMNS]
        for row in rows
    ]


def export_filename(start: date, end: date, fmt: str) -> str:
    return f"open120-report-{start.isoformat()}_{end.isoformat()}.{fmt}"


def report_csv(rows: Sequence[ReportRow], *, interval: str | None, group: str) -> bytes:
    """UTF-8 with a byte order mark (so Excel reads Korean), CRLF lines, numbers unquoted;
    ratios as fractions (0.6667), durations in seconds, empty where nothing divides."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(text) for text in header(group)])
    for cells in table_rows(rows, interval=interval, group=group):
        writer.writerow(
            [
                neutralise(cell) if isinstance(cell, str) else ("" if cell is None else cell)
                for cell in cells
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def report_xlsx(
    rows: Sequence[ReportRow],
    *,
    interval: str | None,
    group: str,
    about: Sequence[tuple[str, str]] = (),
) -> bytes:
    """One sheet of rows (number cells; percent and seconds formats; the period as a date
    cell) and one sheet ``about`` the report (its filters). Text is only ever written with
    ``write_string`` and neutralised, so no cell is a formula."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    bold = workbook.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1})
    kinds = {
        "count": workbook.add_format({"num_format": "#,##0"}),
        "ratio": workbook.add_format({"num_format": "0.0%"}),
        "seconds": workbook.add_format({"num_format": "#,##0.0"}),
    }
    period_format = workbook.add_format(
        {"num_format": XLSX_PERIOD_FORMATS.get(interval or "", "yyyy-mm-dd"), "align": "left"}
    )

    sheet = workbook.add_worksheet(neutralise(_("Report"))[:31])
    titles = header(group)
    for col, title in enumerate(titles):
        sheet.write_string(0, col, neutralise(title), bold)
    for index, row in enumerate(rows, start=1):
        local = period_local(row.period)
        if local is None or interval is None:
            sheet.write_string(index, 0, neutralise(period_label(None, None)))
        else:
            sheet.write_datetime(index, 0, local.replace(tzinfo=None), period_format)
        sheet.write_string(index, 1, neutralise(group_label(row, group)))
        for col, column in enumerate(COLUMNS, start=2):
            value = column.value(row.measures)
            if value is None:
                sheet.write_blank(index, col, None, kinds[column.kind])
            else:
                sheet.write_number(index, col, value, kinds[column.kind])
    sheet.freeze_panes(1, 2)
    sheet.set_column(0, 0, 17)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, len(titles) - 1, 12)
    sheet.autofilter(0, 0, max(len(rows), 1), len(titles) - 1)

    info = workbook.add_worksheet(neutralise(_("About"))[:31])
    info.set_column(0, 0, 24)
    info.set_column(1, 1, 48)
    for index, (name, value) in enumerate(about):
        info.write_string(index, 0, neutralise(str(name)), bold)
        info.write_string(index, 1, neutralise(str(value)))
    workbook.close()
    return output.getvalue()


@dataclass(frozen=True)
class Kpi:
    """One card of the reports page (and line of the daily e-mail): a measure over the range,
    and with a previous period its value then and the change, toned by whether the change is
    good (service level up, waits down) or bad."""

    key: str
    label: str
    value: str
    note: str = ""
    alert: bool = False
    previous: str | None = None
    change: str | None = None
    trend: str = ""  # "up", "down", "same" ("" when there is nothing to compare)
    tone: str = "neutral"  # "good", "bad", "neutral"


@dataclass(frozen=True)
class _KpiSpec:
    key: str
    label: Promise
    kind: str
    value: Callable[[Measures], int | float | None]
    better: str | None  # "up", "down", or None when neither direction is better


KPI_SPECS: tuple[_KpiSpec, ...] = (
    _KpiSpec(
        "service_level", gettext_lazy("Service level"), "ratio", lambda m: m.service_level, "up"
    ),
    _KpiSpec(
        "asa",
        gettext_lazy("Average speed of answer"),
        "seconds",
        lambda m: _seconds(m.asa),
        "down",
    ),
    _KpiSpec(
        "abandonment_rate",
        gettext_lazy("Abandonment rate"),
        "ratio",
        lambda m: m.abandonment_rate,
        "down",
    ),
    _KpiSpec(
        "aht", gettext_lazy("Average handle time"), "seconds", lambda m: _seconds(m.aht), "down"
    ),
    _KpiSpec("fcr", gettext_lazy("First-contact resolution"), "ratio", lambda m: m.fcr, "up"),
    _KpiSpec("csat", gettext_lazy("CSAT"), "ratio", lambda m: m.csat, "up"),
    _KpiSpec("occupancy", gettext_lazy("Occupancy"), "ratio", lambda m: m.occupancy, None),
    _KpiSpec("offered", gettext_lazy("Offered"), "count", lambda m: m.offered, None),
    _KpiSpec(
        "tickets_opened", gettext_lazy("Tickets opened"), "count", lambda m: m.tickets_opened, None
    ),
    _KpiSpec(
        "tickets_resolved",
        gettext_lazy("Tickets resolved"),
        "count",
        lambda m: m.tickets_resolved,
        "up",
    ),
    _KpiSpec(
        "tickets_transferred",
        gettext_lazy("Tickets transferred"),
        "count",
        lambda m: m.tickets_transferred,
        None,
    ),
    _KpiSpec(
        "tickets_overdue",
        gettext_lazy("Tickets overdue"),
        "count",
        lambda m: m.tickets_overdue,
        "down",
    ),
)


def _kpi_note(key: str, measures: Measures) -> str:
    if key == "service_level":
        return _("target %(target)s") % {"target": percent(SERVICE_LEVEL_TARGET)}
    if key == "aht":
        return _("talk %(talk)s · hold %(hold)s · wrap-up %(wrap)s") % {
            "talk": duration_mmss(measures.aht_talk),
            "hold": duration_mmss(measures.aht_hold),
            "wrap": duration_mmss(measures.aht_wrap),
        }
    if key == "fcr":
        return _("of %(count)s resolved tickets") % {"count": f"{measures.tickets_resolved:,}"}
    if key == "csat":
        return _("%(count)s survey answers") % {"count": f"{measures.survey_answers:,}"}
    if key == "offered":
        return _("handled %(handled)s · answered %(answered)s · abandoned %(abandoned)s") % {
            "handled": f"{measures.handled:,}",
            "answered": f"{measures.answered:,}",
            "abandoned": f"{measures.abandoned:,}",
        }
    return ""


def _change_text(kind: str, delta: float, before: float) -> str:
    size = abs(delta)
    if kind == "ratio":
        return _("%(points)s pp") % {"points": f"{size * 100:.1f}"}
    if kind == "seconds":
        return duration_mmss(timedelta(seconds=size))
    text = f"{size:,}"
    if before:
        text += f" ({delta / before * 100:+.1f}%)"
    return text


def kpi_cards(current: Measures, previous: Measures | None = None) -> list[Kpi]:
    """The headline measures of ``current``; with ``previous``, each one's change."""
    cards = []
    for spec in KPI_SPECS:
        value = spec.value(current)
        card = {
            "key": spec.key,
            "label": str(spec.label),
            "value": display_value(spec.kind, value),
            "note": _kpi_note(spec.key, current),
            "alert": spec.key == "service_level"
            and value is not None
            and value < SERVICE_LEVEL_TARGET,
        }
        if previous is not None:
            before = spec.value(previous)
            card["previous"] = display_value(spec.kind, before)
            if value is not None and before is not None:
                delta = value - before
                trend = "up" if delta > 0 else "down" if delta < 0 else "same"
                card["trend"] = trend
                card["change"] = _change_text(spec.kind, delta, before)
                if spec.better and trend != "same":
                    card["tone"] = "good" if trend == spec.better else "bad"
        cards.append(Kpi(**card))
    return cards
