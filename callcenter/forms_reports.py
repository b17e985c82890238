"""The filters of /supervisor/reports/ and its exports, read from the query string."""

from dataclasses import dataclass
from datetime import date, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from callcenter.metrics import GROUPS, INTERVALS
from callcenter.models import Channel, Queue

DEFAULT_DAYS = 7
DEFAULT_INTERVAL = "day"
DEFAULT_GROUP = "none"
DEFAULT_SOURCE = "rollup"
SOURCES = ("rollup", "raw")

# The longest range each interval may cover, in days (a longer one is too many rows to read).
INTERVAL_MAX_DAYS = {"15m": 31, "hour": 92}
MAX_DAYS = 3 * 366
# Dates a report may name (and the period before them, for a comparison).
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)

INTERVAL_LABELS = {
    "15m": pgettext_lazy("report interval", "15 minutes"),
    "hour": pgettext_lazy("report interval", "Hour"),
    "day": pgettext_lazy("report interval", "Day"),
    "week": pgettext_lazy("report interval", "Week"),
    "month": pgettext_lazy("report interval", "Month"),
}
GROUP_LABELS = {
    "none": _("No grouping"),
    "channel": _("Channel"),
    "queue": _("Queue"),
    "agent": _("Agent"),
    "category": _("Category"),
    "department": _("Department"),
}
INTERVAL_CHOICES = [(code, INTERVAL_LABELS[code]) for code in INTERVALS]
GROUP_CHOICES = [(code, GROUP_LABELS[code]) for code in GROUPS]
SOURCE_CHOICES = [
    ("rollup", _("Pre-aggregated rows")),
    ("raw", _("Computed from raw rows (for checking)")),
]


class CompareCheckbox(forms.CheckboxInput):
    """A checkbox that also reads ``compare=0`` (a hand-written URL) as unticked."""

    def value_from_datadict(self, data, files, name) -> bool:
        return str(data.get(name, "")).lower() not in {"", "0", "false", "off", "no"}


@dataclass(frozen=True)
class ReportFilters:
    """What a report shows: Seoul days ``start``…``end`` (inclusive) and how it is cut."""

    start: date
    end: date
    interval: str = DEFAULT_INTERVAL
    group: str = DEFAULT_GROUP
    channel: str | None = None
    queue: Queue | None = None
    compare: bool = False
    source: str = DEFAULT_SOURCE

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "ReportFilters":
        """The period of the same length just before this one."""
        end = self.start - timedelta(days=1)
        return ReportFilters(
            start=end - timedelta(days=self.days - 1),
            end=end,
            interval=self.interval,
            group=self.group,
            channel=self.channel,
            queue=self.queue,
            source=self.source,
        )

    def metric_filters(self) -> dict:
        """Keyword arguments of callcenter.metrics' functions (range, slice, source)."""
        return {
            "start": self.start,
            "end": self.end,
            "channel": self.channel,
            "queue_id": self.queue.pk if self.queue else None,
            "source": self.source,
        }

    def form_data(self) -> dict[str, str]:
        """Every filter as the form's data, defaults included (to show them in the form)."""
        return {**self._values(), "compare": "1" if self.compare else ""}

    def query(self, **changes) -> dict[str, str]:
        """These filters as query parameters (with ``changes``), defaults left out."""
        values = {**self._values(), **changes}
        defaults = {"interval": DEFAULT_INTERVAL, "group": DEFAULT_GROUP, "source": DEFAULT_SOURCE}
        return {key: value for key, value in values.items() if value and defaults.get(key) != value}

    def _values(self) -> dict[str, str]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "interval": self.interval,
            "group": self.group,
            "channel": self.channel or "",
            "queue": str(self.queue.pk) if self.queue else "",
            "compare": "1" if self.compare else "",
            "source": self.source,
        }


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last seven Seoul days, today included."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def interval_fits(interval: str, days: int) -> bool:
    return days <= INTERVAL_MAX_DAYS.get(interval, MAX_DAYS)


class ReportFilterForm(forms.Form):
    """Range, interval, grouping and slice of a report. Every field may be left out (its
    default applies); a wrong value is a form error, never a server error."""

    interval = forms.ChoiceField(label=_("Interval"), required=False, choices=INTERVAL_CHOICES)
    group = forms.ChoiceField(label=_("Group by"), required=False, choices=GROUP_CHOICES)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels")), *Channel.choices],
    )
    queue = forms.ModelChoiceField(
        label=_("Queue"),
        required=False,
        queryset=Queue.objects.order_by("name"),
        empty_label=_("All queues"),
    )
    compare = forms.BooleanField(
        label=_("Compare with the previous period"), required=False, widget=CompareCheckbox
    )
    source = forms.ChoiceField(label=_("Source"), required=False, choices=SOURCE_CHOICES)

    def __init__(self, data=None, *, today: date | None = None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.today = today or timezone.localdate()
        start, end = default_range(self.today)
        # "from" is a Python keyword: these two fields are named here, not as attributes.
        self.fields["from"] = forms.DateField(
            label=_("From"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            help_text=_("Seoul days, inclusive."),
        )
        self.fields["to"] = forms.DateField(
            label=_("To"),
            required=False,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )
        self.order_fields(["from", "to", "interval", "group", "channel", "queue", "compare"])
        self.initial = {
            "from": start,
            "to": end,
            "interval": DEFAULT_INTERVAL,
            "group": DEFAULT_GROUP,
            "source": DEFAULT_SOURCE,
            **self.initial,
        }
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_id = "report-filters"
        self.helper.attrs = {"role": "search", "aria-label": _("Report filters")}
        self.helper.layout = Layout(
            Row(
                Column("from", css_class="col-sm-6 col-lg-2"),
                Column("to", css_class="col-sm-6 col-lg-2"),
                Column("interval", css_class="col-sm-4 col-lg-2"),
                Column("group", css_class="col-sm-4 col-lg-2"),
                Column("channel", css_class="col-sm-4 col-lg-2"),
                Column("queue", css_class="col-sm-6 col-lg-2"),
            ),
            Row(
                Column("compare", css_class="col-sm-6 col-lg-4"),
                Column("source", css_class="col-sm-6 col-lg-4"),
                Column(
                    HTML(
                        '<button type="submit" class="btn btn-primary">'
                        '<i class="bi bi-funnel" aria-hidden="true"></i> '
                        f"{_('Show')}</button>"
                        '<a class="btn btn-outline-secondary ms-2" href="?">'
                        f"{_('Reset')}</a>"
                    ),
                    css_class="col-lg-4 text-lg-end align-self-end mb-3",
                ),
            ),
        )

    def clean(self) -> dict:
        data = super().clean()
        default_start, default_end = default_range(self.today)
        start = data.get("from") or default_start
        end = data.get("to") or default_end
        interval = data.get("interval") or DEFAULT_INTERVAL
        if data.get("queue") and data.get("group") not in (None, "", "none", "channel"):
            # The pre-aggregated rows of a queue are cut by channel only.
            self.add_error(
                "queue",
                _("A queue can be chosen only for a report with no grouping or by channel."),
            )
        for name in ("from", "to"):
            value = data.get(name)
            if value and not EARLIEST <= value <= LATEST:
                self.add_error(
                    name,
                    _("Choose a date from %(earliest)s to %(latest)s.")
                    % {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
                )
        if "from" in self.errors or "to" in self.errors:
            return data
        if start > end:
            raise forms.ValidationError(
                _("The start date must be on or before the end date."), code="order"
            )
        days = (end - start).days + 1
        if days > MAX_DAYS:
            raise forms.ValidationError(
                _("A report covers at most three years; choose a shorter range."), code="range"
            )
        if not interval_fits(interval, days):
            self.add_error(
                "interval",
                forms.ValidationError(
                    _(
                        "By %(interval)s a report covers at most %(days)d days; "
                        "choose a shorter range or a longer interval."
                    ),
                    code="interval_range",
                    params={
                        "interval": INTERVAL_LABELS[interval],
                        "days": INTERVAL_MAX_DAYS[interval],
                    },
                ),
            )
        return data

    def filters(self) -> ReportFilters:
        """The valid filters, defaults filled in (call after ``is_valid()``)."""
        data = self.cleaned_data
        default_start, default_end = default_range(self.today)
        return ReportFilters(
            start=data.get("from") or default_start,
            end=data.get("to") or default_end,
            interval=data.get("interval") or DEFAULT_INTERVAL,
            group=data.get("group") or DEFAULT_GROUP,
            channel=data.get("channel") or None,
            queue=data.get("queue"),
            compare=bool(data.get("compare")),
            source=data.get("source") or DEFAULT_SOURCE,
        )

    def error_text(self) -> str:
        """Every error as one line of plain text (for the exports' 400 answers)."""
        parts = []
        for field, errors in self.errors.items():
            label = self.fields[field].label if field in self.fields else ""
            for message in errors:
                parts.append(f"{label}: {message}" if label else str(message))
        return " ".join(parts)
