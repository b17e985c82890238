"""The one metrics module: DESIGN.md's service metrics, computed the same way for every
screen (the supervisor dashboard, the live wallboard, historical reports, exports, the daily
e-mail summary, an agent's scorecard).

Everything is built from additive sums (:class:`Measures`): counts and microseconds. Sums of
any slice over any set of intervals add up; ratios (service level, ASA, AHT, FCR, CSAT,
occupancy, …) are computed from the sums only when read. Two sources give the same sums:

* ``source="raw"``: a direct computation over Contact, Ticket, TicketEvent, SurveyAnswer and
  AgentPresenceEvent rows;
* ``source="rollup"``: sums of :class:`~callcenter.models.StatRow` rows that the worker keeps
  (``callcenter.services.stats``) and ``manage.py rebuild_stats`` rebuilds.

Populations and buckets (what each sum counts, and by which time it is bucketed):

* contacts: inbound contacts that were queued (``direction=inbound``, ``queued_at`` set),
  bucketed by ``queued_at``. offered = all of them; answered = ``answered_at`` set;
  abandoned = ``abandoned`` and waited > 5 s (``ended_at − queued_at``); short_abandoned =
  abandoned within 5 s; in_threshold = answered within T (20 s voice/video, 60 s the others);
  handled = answered and ended; wait_us = Σ(answered_at − queued_at) of answered ones;
  talk_us = Σ(ended_at − answered_at − hold) of handled ones; hold_us = Σ hold_seconds of
  handled ones; wrap_us = Σ(wrapup_ended_at − ended_at) of handled ones with a wrap-up end.
  Slices: channel (always), queue, agent, category (the category of the contact's earliest
  linked ticket).
* idle_us: time agents spent in presence "available" with no contact in hand (answered, not
  through wrap-up), bucketed by when it happened (split at bucket edges). Slices: agent.
* tickets (unmerged): opened by ``created_at``; resolved and fcr_resolved by ``resolved_at``
  (FCR as ``tickets.selectors.first_contact_resolutions``); transferred by each
  TicketEvent TRANSFERRED; overdue by ``resolution_due`` (in the past, not resolved by then).
  Slices: channel (the ticket's channel of origin), category, department, agent (the agent
  of the ticket's creator; for a transfer, of the event's actor).
* surveys: SurveyAnswer by ``created_at``; satisfied = score 4–5. Slices: channel (the
  answer's), agent and queue (of the answer's contact), category (of the answer's ticket).

Details the definitions above leave open, decided here once:

* talk_us never goes below zero: a contact whose hold exceeds its answered span counts no
  talk (its hold still counts in full).
* An agent's "available" span runs to their next presence event, or to min(now, range end)
  for the last one; their contacts in hand run from ``answered_at`` to ``wrapup_ended_at``,
  else ``ended_at``, else now.
* Idle time belongs to no channel: its rows have channel ``""``, so a channel filter leaves
  it out and a report by channel shows it on a line of its own.
* A transfer's department is the department it went to (``data["department"]``).
* A slice with no queue, agent, category or department is key 0 ("none").

The package, by responsibility (everything is importable from ``callcenter.metrics``):

* ``measures``: thresholds, report vocabulary, :class:`Measures`, :class:`ReportRow` and the
  contact aggregate (:func:`contact_measures`);
* ``periods``: Seoul periods and what one computation is sliced by;
* ``raw``: the raw computation, idle time and :func:`stat_cells` (what StatRow holds);
* ``rollup``: the rollup computation over StatRow rows;
* ``reads``: the public reads (:func:`report`, :func:`totals`, :func:`heatmap`,
  :func:`between`, :func:`recent_days`, …).
"""

from __future__ import annotations

from callcenter.metrics.measures import (
    _FIELD_NAMES,
    CHAT_THRESHOLD,
    DIMENSIONS,
    GROUPS,
    INTERVALS,
    KEY_GROUPS,
    SEOUL,
    SERVICE_LEVEL_TARGET,
    SHORT_ABANDON,
    SOURCES,
    US,
    VOICE_THRESHOLD,
    CellKey,
    Measures,
    ReportRow,
    _add,
    _annotate_contact_spans,
    _contact_sums,
    _Microseconds,
    _prefixed,
    _span_us,
    _td,
    _us,
    contact_measures,
)
from callcenter.metrics.periods import (
    _TRUNC,
    _period_annotations,
    _period_columns,
    _period_floor,
    _period_next,
    _period_of,
    _Slicing,
    _split,
)
from callcenter.metrics.raw import (
    _TICKET_KEYS,
    _available_spans,
    _contacts,
    _earliest_ticket_category,
    _handling_spans,
    _idle_cells,
    _Population,
    _population_cells,
    _populations,
    _raw_cells,
    _resolved_sums,
    _subtract,
    _surveys,
    _tickets_opened,
    _tickets_overdue,
    _tickets_resolved,
    _tickets_resolved_in,
    _transfer_department,
    _transfers,
    stat_cells,
)
from callcenter.metrics.reads import (
    _cells,
    _dimension_for,
    _labels,
    _rows,
    _slicing,
    between,
    by_group_between,
    category_paths,
    day_bounds,
    heatmap,
    recent_days,
    report,
    report_head,
    totals,
)
from callcenter.metrics.rollup import (
    _COARSE,
    _GRAIN_OF,
    _rollup_cells,
    _rollup_pieces,
)

__all__ = [
    "CHAT_THRESHOLD",
    "CellKey",
    "DIMENSIONS",
    "GROUPS",
    "INTERVALS",
    "KEY_GROUPS",
    "Measures",
    "ReportRow",
    "SEOUL",
    "SERVICE_LEVEL_TARGET",
    "SHORT_ABANDON",
    "SOURCES",
    "US",
    "VOICE_THRESHOLD",
    "_COARSE",
    "_FIELD_NAMES",
    "_GRAIN_OF",
    "_Microseconds",
    "_Population",
    "_Slicing",
    "_TICKET_KEYS",
    "_TRUNC",
    "_add",
    "_annotate_contact_spans",
    "_available_spans",
    "_cells",
    "_contact_sums",
    "_contacts",
    "_dimension_for",
    "_earliest_ticket_category",
    "_handling_spans",
    "_idle_cells",
    "_labels",
    "_period_annotations",
    "_period_columns",
    "_period_floor",
    "_period_next",
    "_period_of",
    "_population_cells",
    "_populations",
    "_prefixed",
    "_raw_cells",
    "_resolved_sums",
    "_rollup_cells",
    "_rollup_pieces",
    "_rows",
    "_slicing",
    "_span_us",
    "_split",
    "_subtract",
    "_surveys",
    "_td",
    "_tickets_opened",
    "_tickets_overdue",
    "_tickets_resolved",
    "_tickets_resolved_in",
    "_transfer_department",
    "_transfers",
    "_us",
    "between",
    "by_group_between",
    "category_paths",
    "contact_measures",
    "day_bounds",
    "heatmap",
    "recent_days",
    "report",
    "report_head",
    "stat_cells",
    "totals",
]
