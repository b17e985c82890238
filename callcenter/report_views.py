"""Historical reports for supervisors: /supervisor/reports/ and its CSV and XLSX exports.

Every number comes from callcenter.metrics (the same definitions as every other screen);
these views only choose the range and the cut, and lay the numbers out.
"""

from datetime import date, datetime, time, timedelta
from html import escape as _html_escape

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from callcenter import exports, metrics
from callcenter.forms_reports import (
    GROUP_LABELS,
    INTERVAL_LABELS,
    ReportFilterForm,
    ReportFilters,
    interval_fits,
)
from callcenter.models import Channel
from callcenter.roles import ADMINISTRATOR, SUPERVISOR, role_required

# A page shows at most this many table rows (a grouped 15-minute month can be far more);
# the exports carry them all.
PAGE_ROWS = 500
HEAT_LEVELS = 8
# Periods of these intervals are evenly spaced, so a chart shows the empty ones as zero.
STEPS = {"15m": timedelta(minutes=15), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_GET
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "quick_ranges": [], "invalid": True}
        return render(request, "callcenter/reports/index.html", context, status=400)
    filters = form.filters()
    try:
        context = _report_context(filters)
    except ValueError as error:  # a cut the metrics cannot make: the form says why
        form.add_error(None, str(error))
        context = {"form": form, "quick_ranges": [], "invalid": True}
        return render(request, "callcenter/reports/index.html", context, status=400)
    context["form"] = ReportFilterForm(filters.form_data())
    return render(request, "callcenter/reports/index.html", context)


@role_required(SUPERVISOR, ADMINISTRATOR)
@require_GET
def reports_export(request: HttpRequest, fmt: str) -> HttpResponse:
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.error_text(), content_type="text/plain; charset=utf-8")
    filters = form.filters()
    try:
        rows = metrics.report(**_report_arguments(filters))
    except ValueError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    if fmt == "csv":
        body = exports.report_csv(rows, interval=filters.interval, group=filters.group)
        content_type = "text/csv; charset=utf-8"
    else:
        body = exports.report_xlsx(
            rows, interval=filters.interval, group=filters.group, about=_about(filters)
        )
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=content_type)
    filename = exports.export_filename(filters.start, filters.end, fmt)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _report_arguments(filters: ReportFilters, **changes) -> dict:
    return {
        **filters.metric_filters(),
        "interval": filters.interval,
        "group": filters.group,
        **changes,
    }


def _report_context(filters: ReportFilters) -> dict:
    if filters.group == "none":
        timeline = metrics.report(**_report_arguments(filters))
        rows, more = timeline[:PAGE_ROWS], len(timeline) > PAGE_ROWS
    else:
        # A grouped table can be huge (a year by day by agent): only its head is computed.
        rows, more = metrics.report_head(limit=PAGE_ROWS, **_report_arguments(filters))
        timeline = metrics.report(**_report_arguments(filters, group="none"))
    # Sums add up: the ungrouped periods make the range's totals.
    total = _sum(timeline)
    previous = filters.previous() if filters.compare else None
    previous_timeline = (
        metrics.report(**_report_arguments(previous, group="none")) if previous else None
    )
    previous_total = _sum(previous_timeline) if previous else None
    # Categories are not cut by queue: with a queue chosen the page shows no breakdown.
    categories = _category_rows(
        []
        if filters.queue
        else metrics.report(**_report_arguments(filters, interval=None, group="category"))
    )
    chart = {
        "target": round(metrics.SERVICE_LEVEL_TARGET * 100, 1),
        "timeline": _timeline(timeline, filters),
        "previous": _timeline(previous_timeline, previous) if previous else None,
        "categories": _category_chart(categories),
    }
    table_rows = [_table_row(row, filters) for row in rows]
    timeline_points = _timeline_points(chart["timeline"])
    return {
        "filters": filters,
        "previous": previous,
        "empty": total == metrics.Measures() and previous_total in (None, metrics.Measures()),
        "kpis": exports.kpi_cards(total, previous_total),
        "columns": exports.COLUMNS,
        "rows": table_rows,
        "rows_html": _table_rows_html(table_rows, grouped=filters.group != "none"),
        "more_rows": more,
        "page_rows": PAGE_ROWS,
        "total_cells": [column.display(total) for column in exports.COLUMNS],
        "previous_cells": (
            [column.display(previous_total) for column in exports.COLUMNS]
            if previous_total is not None
            else None
        ),
        "group_title": exports.header(filters.group)[1],
        "chart": chart,
        "category_rows": categories,
        "timeline": timeline_points,
        "timeline_html": _timeline_rows_html(timeline_points),
        "heatmap": _heatmap(metrics.heatmap(**filters.metric_filters())),
        "quick_ranges": _quick_ranges(filters),
        "exports": _export_links(filters),
        "interval_label": INTERVAL_LABELS[filters.interval],
        "group_label": GROUP_LABELS[filters.group],
        "channel_label": Channel(filters.channel).label if filters.channel else "",
    }


def _sum(rows: list[metrics.ReportRow]) -> metrics.Measures:
    total = metrics.Measures()
    for row in rows:
        total = total + row.measures
    return total


def _table_row(row: metrics.ReportRow, filters: ReportFilters) -> dict:
    return {
        "period": exports.period_label(row.period, filters.interval),
        "group": exports.group_label(row, filters.group),
        "cells": [column.display(row.measures) for column in exports.COLUMNS],
    }


def _periods(filters: ReportFilters) -> list[datetime] | None:
    """Every period start of the range for evenly spaced intervals (None for the others)."""
    step = STEPS.get(filters.interval)
    if step is None:
        return None
    moment = timezone.make_aware(datetime.combine(filters.start, time()), metrics.SEOUL)
    stop = timezone.make_aware(
        datetime.combine(filters.end + timedelta(days=1), time()), metrics.SEOUL
    )
    periods = []
    while moment < stop:
        periods.append(moment)
        moment += step
    return periods


def _timeline(rows: list[metrics.ReportRow], filters: ReportFilters) -> dict:
    """Service level and volumes per period for the charts; empty periods as zero volume
    (and no service level) so the time axis is even."""
    by_period = {row.period: row.measures for row in rows}
    periods = _periods(filters) or [row.period for row in rows]
    series: dict[str, list] = {
        "labels": [],
        "service_level": [],
        "offered": [],
        "answered": [],
        "abandoned": [],
    }
    for period in periods:
        measures = by_period.get(period, metrics.Measures())
        level = measures.service_level
        series["labels"].append(exports.period_label(period, filters.interval))
        series["service_level"].append(None if level is None else round(level * 100, 1))
        series["offered"].append(measures.offered)
        series["answered"].append(measures.answered)
        series["abandoned"].append(measures.abandoned)
    return series


# A month by 15 minutes is thousands of rows: built here as escaped strings joined once,
# several times faster than the template engine's per-cell nodes or format_html per cell.
def escape(value) -> str:
    """The standard library's escaping (what Django's escape does, without its lazy-string
    wrapper, which costs more than the escaping itself on 25,000 cells)."""
    return _html_escape(str(value))


def _cells_html(cells: list) -> str:
    return "".join(f'<td class="text-end">{escape(cell)}</td>' for cell in cells)


def _table_rows_html(rows: list[dict], *, grouped: bool) -> str:
    lines = []
    for row in rows:
        group = f'<td class="text-nowrap">{escape(row["group"])}</td>' if grouped else ""
        lines.append(
            f'<tr><th scope="row" class="text-nowrap fw-normal">{escape(row["period"])}</th>'
            f"{group}{_cells_html(row['cells'])}</tr>"
        )
    return mark_safe("\n".join(lines))  # noqa: S308 - every value above is escaped


def _timeline_rows_html(points: list[dict]) -> str:
    lines = []
    for point in points:
        level = point["service_level"]
        cells = [
            "–" if level is None else f"{level}%",
            point["offered"],
            point["answered"],
            point["abandoned"],
        ]
        lines.append(
            f'<tr><th scope="row" class="fw-normal text-nowrap">{escape(point["label"])}</th>'
            f"{_cells_html(cells)}</tr>"
        )
    return mark_safe("\n".join(lines))  # noqa: S308 - every value above is escaped


def _timeline_points(series: dict) -> list[dict]:
    """The charts' periods as table rows; periods with no contact are left out of the table."""
    keys = ("label", "service_level", "offered", "answered", "abandoned")
    columns = (series["labels"], *(series[key] for key in keys[1:]))
    return [
        dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True) if values[2]
    ]


def _category_rows(rows: list[metrics.ReportRow]) -> list[dict]:
    """Contacts and tickets by category, the busiest first."""
    ordered = sorted(
        rows, key=lambda row: row.measures.offered + row.measures.tickets_opened, reverse=True
    )
    return [
        {
            "label": row.label or _("(none)"),
            "contacts": row.measures.offered,
            "tickets": row.measures.tickets_opened,
            "resolved": row.measures.tickets_resolved,
        }
        for row in ordered
        if row.measures.offered or row.measures.tickets_opened
    ]


def _category_chart(rows: list[dict]) -> dict:
    """The chart shows the fifteen busiest categories (the table all of them)."""
    top = rows[:15]
    return {
        "labels": [row["label"] for row in top],
        "contacts": [row["contacts"] for row in top],
        "tickets": [row["tickets"] for row in top],
    }


def _heatmap(grid: list[list[int]]) -> dict:
    """Weekday × hour counts with a shading level (0–8) per cell for the table."""
    peak = max((value for row in grid for value in row), default=0)
    rows = []
    for weekday, counts in enumerate(grid):
        cells = [
            {"value": value, "level": -(-value * HEAT_LEVELS // peak) if peak else 0}
            for value in counts
        ]
        rows.append({"weekday": WEEKDAYS[weekday], "cells": cells, "total": sum(counts)})
    return {"rows": rows, "hours": list(range(24)), "peak": peak}


def _month_start(day: date, months_back: int) -> date:
    month = day.month - 1 - months_back
    return date(day.year + month // 12, month % 12 + 1, 1)


def _quick_ranges(filters: ReportFilters) -> list[dict]:
    """Links for the usual ranges, keeping the cut; an interval too fine for the range
    becomes the range's own usual one."""
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month_end = this_month - timedelta(days=1)
    choices = [
        (_("Today"), today, today, "hour"),
        (_("Yesterday"), today - timedelta(days=1), today - timedelta(days=1), "hour"),
        (_("Last 7 days"), today - timedelta(days=6), today, "day"),
        (_("This month"), this_month, today, "day"),
        (_("Last month"), last_month_end.replace(day=1), last_month_end, "day"),
        (_("Last 12 months"), _month_start(today, 11), today, "month"),
    ]
    links = []
    marked = False  # early in a month "today" and "this month" are one range: mark the first
    for label, start, end, usual in choices:
        days = (end - start).days + 1
        interval = filters.interval if interval_fits(filters.interval, days) else usual
        query = filters.query(**{"from": start.isoformat(), "to": end.isoformat()})
        query["interval"] = interval
        current = not marked and (start, end) == (filters.start, filters.end)
        marked = marked or current
        links.append({"label": label, "url": "?" + urlencode(query), "current": current})
    return links


def _export_links(filters: ReportFilters) -> dict[str, str]:
    query = urlencode(filters.query(compare=""))
    return {
        fmt: reverse("supervisor-reports-export", kwargs={"fmt": fmt})
        + (f"?{query}" if query else "")
        for fmt in ("csv", "xlsx")
    }


def _about(filters: ReportFilters) -> list[tuple[str, str]]:
    """The filters of an export, written on its second sheet."""
    return [
        (_("From"), filters.start.isoformat()),
        (_("To"), filters.end.isoformat()),
        (_("Interval"), str(INTERVAL_LABELS[filters.interval])),
        (_("Group by"), str(GROUP_LABELS[filters.group])),
        (_("Channel"), str(Channel(filters.channel).label) if filters.channel else _("All")),
        (_("Queue"), filters.queue.name if filters.queue else _("All")),
        (_("Source"), filters.source),
        (_("Time zone"), "Asia/Seoul"),
        (_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M")),
    ]
