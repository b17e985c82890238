"""Generated contact history that looks like a 120 centre's: the demo month of ``load_demo``
and the millions of contacts of ``generate_contacts`` (bench/reports.py), one generator.

Deterministic for a seed. Fast: rows are written in batches (psycopg COPY on PostgreSQL,
``bulk_create`` elsewhere) with ids chosen here, so no service runs per row and no signal
fires; the sequences are reset afterwards. Not for a centre that is taking contacts at the
same moment (the ids are taken from the current maximum).

The shapes:

* volume: weekdays with Monday the heaviest, weekends and public holidays about 40 %;
  around the clock with a morning peak (09–11), a lunch dip (12–13), an afternoon bump and
  quiet nights;
* channels: voice most, then Kakao and web chat, SMS, sign-language video a few per cent
  (answered by signing agents only), foreign-language citizens in the foreign queue;
* queueing is simulated: each queue has a pool of agents on duty hour by hour (staffed
  from the expected load with a margin that changes by the hour), a contact waits for the
  first free agent (a chat agent holds three chats), a citizen whose patience runs out
  hangs up (a few within 5 s: short abandons), so service level moves with the load and
  is worst at the peaks;
* talk (with holds on some calls) and wrap-up times by channel; presence events over the
  agents' hours: available, busy and wrap-up around each call or video call, breaks
  between spans of duty, offline at the end;
* tickets on most answered contacts, with the demo's categories and inquiries; some
  transferred to the category's department with a due date (answered within days, some
  late, some still open: overdue), the rest resolved at the end of wrap-up; repeat
  contacts (the same citizen on the same category within days) so FCR is below 100 %;
  happy-call surveys after resolution, about 30 % answered, mostly 4–5 out of 5;
* chat transcripts (four messages) when ``messages`` is set.

The parts: ``shapes`` (the figures and calendar helpers above), ``simulation`` (a day's
arrivals, rosters and queues), ``rows`` (the rows written, in batches) and ``generator``
(``HistoryGenerator``, which runs the days). Import from ``callcenter.services.demo_history``.
"""

from callcenter.services.demo_history.generator import HistoryCounts, HistoryGenerator

__all__ = ["HistoryCounts", "HistoryGenerator"]
