"""Learning from choices: the words of a query become evidence for the article someone chose.

An agent who inserts an article after a search or a suggestion, and a citizen who marks an
FAQ answer helpful after searching, leave an ``ArticleChoice`` row: the query (masked) and
its analysed terms. This module turns those rows into evidence, term → article, that the
ranking adds to an article's score (:func:`evidence_for`).

The rules, so that evidence means "several people found this article for these words":

* a chooser (``user:<id>`` or ``session:<hash>``) counts once per (term, article), with the
  weight of their latest such choice, halved every ``HALF_LIFE_DAYS``; choices older than
  ``MAX_AGE_DAYS`` are ignored;
* a (term, article) pair counts only once ``MIN_CHOOSERS`` distinct choosers made it: one
  user inserting the same article 500 times is one vote, and alone is nothing;
* a chooser's choices for one term count for at most ``DAILY_ARTICLES_PER_TERM`` distinct
  articles a day, and a chooser who chose more than ``CHOOSER_ARTICLES_PER_TERM`` articles
  for one term has their votes for it shared out: a script clicking everything spreads
  nothing;
* a citizen's "helpful" weighs ``SOURCE_WEIGHTS["helpful"]`` of an agent's insertion
  (anyone can open a new session);
* a pair's evidence is capped at ``PAIR_CAP``, an article's total for one query at
  ``ARTICLE_CAP``; a term that is evidence for many articles counts less (idf-like), and
  one-syllable Hangul terms (은, 수, 때…) are no evidence at all.

The table is built in the process from the rows and rebuilt when they change: every write
bumps a token in Django's cache (:func:`learned_changed`), and the row count and latest id
are compared at most once per ``CHECK_SECONDS``. A small table is rebuilt on the spot; a
big one (~2 s at 100k choices) in a thread beside the queries, which use the old table until
the new one is ready, at most ~5 % of the time. A query costs a few dict lookups (< 1 ms).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from knowledge.models import ArticleChoice
from knowledge.search.documents import cache_token, cache_token_bump

logger = logging.getLogger(__name__)

HALF_LIFE_DAYS = 90.0  # a choice weighs half as much after three months
MAX_AGE_DAYS = 730  # and nothing after two years
MIN_CHOOSERS = 2  # distinct choosers before a (term, article) pair is evidence at all
DAILY_ARTICLES_PER_TERM = 3  # distinct articles one chooser can back for one term per day
CHOOSER_ARTICLES_PER_TERM = 5  # beyond this many articles for a term, a chooser's vote is shared
SOURCE_WEIGHTS = {
    ArticleChoice.Source.SEARCH.value: 1.0,
    ArticleChoice.Source.SUGGESTION.value: 1.0,
    ArticleChoice.Source.HELPFUL.value: 0.5,
}
MIN_COVERAGE = 0.4  # weighted share of a query's words that must carry the evidence
PAIR_CAP = 4.0  # evidence of one (term, article): about four fresh choosers
ARTICLE_CAP = 8.0  # evidence of one article for one whole query
CHECK_SECONDS = 1.0  # how often the row count and latest id are compared
REBUILD_SECONDS = 3600.0  # rebuilt at least this often, so that choices age
SLOW_BUILD_SECONDS = 0.05  # a slower build is redone in a thread, at most 5 % of the time
CACHE_KEY = "knowledge:learned:token"

_HANGUL_SYLLABLE = re.compile(r"^[가-힣]$")


def usable_term(term: str) -> bool:
    """One-syllable Hangul terms (은, 수, 때, 좀…) say nothing about what was asked."""
    return bool(term) and not _HANGUL_SYLLABLE.match(term)


@dataclass(frozen=True)
class PairStats:
    """What the choices say about one (term, article)."""

    score: float  # evidence added to the article for this term (0 when not counted)
    choosers: frozenset[int]  # distinct choosers (interned ids)
    last: datetime  # the latest counted choice
    counted: bool  # enough distinct choosers to count


@dataclass
class _Table:
    evidence: dict[str, dict[int, tuple[float, frozenset[int]]]]  # term → article → …
    by_article: dict[int, dict[str, PairStats]]  # every pair, counted or not
    built: float  # time.monotonic() of the build


def _build(now: datetime) -> _Table:
    started = time.perf_counter()
    rows = (
        ArticleChoice.objects.filter(created_at__gte=now - timedelta(days=MAX_AGE_DAYS))
        .order_by("created_at", "id")
        .values_list("article_id", "chooser", "source", "terms", "created_at")
    )
    chooser_ids: dict[str, int] = {}
    # (term, article, chooser) → (created_at, source) of the latest counted choice
    latest: dict[tuple[str, int, int], tuple[datetime, str]] = {}
    today = None
    backed: dict[tuple[int, str], set[int]] = defaultdict(set)  # (chooser, term) → articles today
    usable: dict[str, bool] = {}
    for article_id, chooser, source, terms, created_at in rows.iterator(chunk_size=2000):
        day = created_at.date()
        if day != today:  # rows come in time order: the daily cap starts over
            today = day
            backed.clear()
        who = chooser_ids.setdefault(chooser, len(chooser_ids))
        for term in {t for t in terms if isinstance(t, str)} if isinstance(terms, list) else ():
            ok = usable.get(term)
            if ok is None:
                ok = usable[term] = usable_term(term)
            if not ok:
                continue
            articles = backed[who, term]
            if article_id not in articles:
                if len(articles) >= DAILY_ARTICLES_PER_TERM:
                    continue
                articles.add(article_id)
            latest[term, article_id, who] = (created_at, source)

    spread: dict[tuple[int, str], int] = defaultdict(int)  # (chooser, term) → articles backed
    for term, _article_id, who in latest:
        spread[who, term] += 1
    pairs: dict[tuple[str, int], list] = {}  # (term, article) → [score, choosers, last]
    for (term, article_id, who), (created_at, source) in latest.items():
        age_days = max(0.0, (now - created_at).total_seconds() / 86400)
        weight = 0.5 ** (age_days / HALF_LIFE_DAYS) * SOURCE_WEIGHTS.get(source, 0.0)
        weight *= min(1.0, CHOOSER_ARTICLES_PER_TERM / spread[who, term])
        pair = pairs.setdefault((term, article_id), [0.0, set(), created_at])
        pair[0] += weight
        pair[1].add(who)
        pair[2] = max(pair[2], created_at)

    articles_per_term: dict[str, int] = defaultdict(int)
    for (term, _article_id), (_score, choosers, _last) in pairs.items():
        if len(choosers) >= MIN_CHOOSERS:
            articles_per_term[term] += 1
    evidence: dict[str, dict[int, tuple[float, frozenset[int]]]] = {}
    by_article: dict[int, dict[str, PairStats]] = defaultdict(dict)
    for (term, article_id), (score, choosers, last) in pairs.items():
        counted = len(choosers) >= MIN_CHOOSERS
        if counted:
            # A term chosen for many articles tells them apart less (1 article: × 1).
            score = min(score, PAIR_CAP) / (1.0 + math.log(articles_per_term[term]))
            evidence.setdefault(term, {})[article_id] = (score, frozenset(choosers))
        by_article[article_id][term] = PairStats(
            score=score if counted else 0.0,
            choosers=frozenset(choosers),
            last=last,
            counted=counted,
        )
    logger.info(
        "search: learned evidence of %d pairs (%d counted) built in %.0f ms",
        len(pairs),
        sum(len(v) for v in evidence.values()),
        (time.perf_counter() - started) * 1000,
    )
    return _Table(evidence=evidence, by_article=dict(by_article), built=time.monotonic())


class _Learned:
    """The process's table, rebuilt when the choices change (mirrors the index's _Engine)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._table: _Table | None = None
        self._token: str | None = None  # the token the table was built at
        self._seen_token: str | None = None  # the token at the last check
        self._signature: tuple | None = None
        self._checked = -math.inf
        self._build_seconds = 0.0
        self._dirty = False
        self._building = False

    def reset(self) -> None:
        with self._lock:
            self.__init__()

    def changed(self) -> None:
        """This process wrote: its next query sees the change (a big table: soon after)."""
        self._dirty = True
        self._checked = -math.inf

    def table(self) -> _Table:
        token = _token_current()
        if self._fresh(token):
            return self._table  # type: ignore[return-value]
        with self._lock:
            if self._fresh(token):
                return self._table  # type: ignore[return-value]
            table = self._table
            signature = _signature()
            stale = (
                table is None
                or self._dirty
                or time.monotonic() - table.built >= REBUILD_SECONDS
                or token != self._token
                or signature != self._signature
            )
            if stale and (table is None or self._build_seconds <= SLOW_BUILD_SECONDS):
                self._rebuild(token, signature)
            elif (
                stale
                and not self._building
                and time.monotonic() - table.built >= 20 * self._build_seconds
            ):
                # A big table (~2 s at 100k choices) is rebuilt beside the queries, which go
                # on with the old one, and not more than ~5 % of the time.
                self._building = True
                threading.Thread(
                    target=self._rebuild_beside,
                    args=(token, signature),
                    name="learned-evidence",
                    daemon=True,
                ).start()
            self._checked, self._seen_token = time.monotonic(), token
            return self._table  # type: ignore[return-value]

    def _rebuild(self, token: str | None, signature: tuple) -> None:
        self._dirty = False
        started = time.perf_counter()
        self._table = _build(timezone.now())
        self._build_seconds = time.perf_counter() - started
        self._token, self._signature = token, signature

    def _rebuild_beside(self, token: str | None, signature: tuple) -> None:
        try:
            self._dirty = False
            started = time.perf_counter()
            table = _build(timezone.now())
            with self._lock:
                self._table, self._token, self._signature = table, token, signature
                self._build_seconds = time.perf_counter() - started
        except Exception:
            self._dirty = True
            logger.exception("search: could not rebuild the learned evidence")
        finally:
            self._building = False
            connection.close()  # this thread's own connection

    def _fresh(self, token: str | None) -> bool:
        """Checked within the last second, and no write since as far as the token says."""
        return (
            self._table is not None
            and token == self._seen_token
            and time.monotonic() - self._checked < CHECK_SECONDS
        )


def _signature() -> tuple:
    found = ArticleChoice.objects.aggregate(n=Count("pk"), last=Max("pk"))
    return (found["n"], found["last"])


def _token_current() -> str | None:
    return cache_token(CACHE_KEY)


def _token_bump() -> None:
    cache_token_bump(CACHE_KEY)


_learned = _Learned()


def learned_changed() -> None:
    """Choices were written or deleted: this process rebuilds at its next query, the others
    once the token changes (again after commit) or within ``CHECK_SECONDS``."""
    _learned.changed()
    _token_bump()
    transaction.on_commit(_token_bump)


def learned_reset() -> None:
    """Drop this process's table (tests); the next query rebuilds it."""
    _learned.reset()


def evidence_for(
    terms: list[str], weights: dict[str, float] | None = None
) -> dict[int, tuple[float, int]]:
    """Article id → (evidence, distinct choosers) for a query's analysed terms: the sum of
    its terms' evidence (capped at ``ARTICLE_CAP``) and how many people chose the article
    for at least one of them. Articles without evidence are left out.

    With ``weights`` (term → how specific it is, e.g. its idf in the index) the evidence is
    the weighted mean over all of the query's terms instead: a question asked in the words
    people chose counts fully, one sharing a common word (신청, 방법) with them hardly."""
    evidence = _learned.table().evidence
    terms = list(dict.fromkeys(terms))
    scores: dict[int, float] = {}
    choosers: dict[int, set[int]] = {}
    for term in terms:
        weight = 1.0 if weights is None else weights.get(term, 0.0)
        for article_id, (score, who) in evidence.get(term, {}).items():
            scores[article_id] = scores.get(article_id, 0.0) + weight * score
            choosers.setdefault(article_id, set()).update(who)
    if weights is None:
        return {pk: (min(s, ARTICLE_CAP), len(choosers[pk])) for pk, s in scores.items()}
    total = sum(weights.get(term, 0.0) for term in terms) or 1.0
    covered: dict[int, float] = {}
    for term in terms:
        for article_id in evidence.get(term, {}):
            covered[article_id] = covered.get(article_id, 0.0) + weights.get(term, 0.0)
    return {
        pk: (min(s / total, PAIR_CAP), len(choosers[pk]))
        for pk, s in scores.items()
        if covered[pk] / total >= MIN_COVERAGE
    }


def learned_for_article(article_id: int, *, examples: int = 3) -> list[dict]:
    """The words people chose ``article_id`` for, counted ones first (most choosers first):
    term, choosers, score, counted, last chosen, and up to ``examples`` recent queries."""
    stats = _learned.table().by_article.get(article_id, {})
    if not stats:
        return []
    queries: dict[str, list[str]] = defaultdict(list)
    recent = ArticleChoice.objects.filter(article_id=article_id).values_list("query", "terms")
    for query, terms in recent[:500] if examples else ():
        for term in set(terms or ()):
            found = queries[term]
            if term in stats and len(found) < examples and query not in found:
                found.append(query)
    rows = [
        {
            "term": term,
            "choosers": len(pair.choosers),
            "score": round(pair.score, 2),
            "counted": pair.counted,
            "last": pair.last,
            "queries": queries.get(term, []),
        }
        for term, pair in stats.items()
    ]
    rows.sort(key=lambda r: (not r["counted"], -r["choosers"], -r["score"], r["term"]))
    return rows


def learned_articles() -> list[dict]:
    """Every article someone chose for some words: id, the number of words that count,
    the most distinct choosers of one word, and the latest choice; latest first."""
    rows = []
    for article_id, stats in _learned.table().by_article.items():
        rows.append(
            {
                "article_id": article_id,
                "counted": sum(1 for pair in stats.values() if pair.counted),
                "words": len(stats),
                "choosers": max(len(pair.choosers) for pair in stats.values()),
                "last": max(pair.last for pair in stats.values()),
            }
        )
    rows.sort(key=lambda r: (r["last"], r["article_id"]), reverse=True)
    return rows
