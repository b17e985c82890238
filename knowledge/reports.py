"""The knowledge report's reads: questions the knowledge base does not answer well, grouped.

A search is unanswered when it found nothing or only a weak best result (one that matched
none of the asker's own words). Phrasings of one need ("여권 분실", "여권 잃어버렸어요",
"여권을 잃어버림") are put into one group so that a manager sees one article to write.

Grouping works on the nouns of each distinct query as Kiwi sees them: 구어체 changes the
verbs and endings ("잃어버렸어요", "잃어버림", "분실") far more than the thing asked about.
Distinct queries, most asked first, join the group whose first (most asked) phrasing has
the most similar nouns (Jaccard ≥ ``MIN_SIMILARITY``), verb stems breaking ties; otherwise
they start a group. Comparing with the group's first phrasing and not with every member
keeps one group from chaining into the next ("여권 분실" → "여권" → "여권 발급 수수료").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Q

from knowledge.models import SearchQueryLog
from knowledge.search.analysis import _morphemes, _tokenize, compact, normalise

MIN_SIMILARITY = 0.5
MAX_DISTINCT_QUERIES = 5_000
PHRASING_EXAMPLES = 5
NAME_TERMS = 3


@dataclass
class _Phrasing:
    query: str
    count: int
    staff: int
    last: datetime
    nouns: frozenset[str]
    stems: frozenset[str]


@dataclass
class _Group:
    seed: _Phrasing
    members: list[_Phrasing] = field(default_factory=list)


def _stems_shared(a: frozenset[str], b: frozenset[str]) -> int:
    """Stems in common, a shorter stem standing for its longer form (잃 ~ 잃어버리)."""
    return sum(1 for x in a if any(x.startswith(y) or y.startswith(x) for y in b))


# query → (nouns, stems): Kiwi takes most of the report's time, and the same queries come
# back on every load. Bounded: emptied when it grows past a few report periods' worth.
_ANALYSED: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
_ANALYSED_LIMIT = 4 * MAX_DISTINCT_QUERIES


def _analyse(queries: list[str]) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    found = {q: _ANALYSED[q] for q in dict.fromkeys(queries) if q in _ANALYSED}
    missing = [q for q in dict.fromkeys(queries) if q not in found]
    if len(_ANALYSED) + len(missing) > _ANALYSED_LIMIT:
        _ANALYSED.clear()
    for query, tokens in zip(missing, _tokenize([normalise(q) for q in missing]), strict=True):
        # Single morphemes only: compounds repeat their parts and only inflate the union.
        morphemes = [m for m in _morphemes(tokens) if m.tag]
        # Numbers say little about the need ("2", "2024") and would join unrelated queries.
        nouns = frozenset(m.term for m in morphemes if m.noun and m.tag != "SN")
        stems = frozenset(m.term for m in morphemes if not m.noun)
        if not nouns and not stems:
            # Nothing Kiwi recognises (a number, a stray symbol): group by the text itself.
            nouns = frozenset({compact(query) or query})
        found[query] = _ANALYSED[query] = (nouns, stems)
    return found


def _phrasings(rows: list[dict]) -> list[_Phrasing]:
    analysed = _analyse([row["query"] for row in rows])
    return [
        _Phrasing(
            query=row["query"],
            count=row["n"],
            staff=row["staff_n"],
            last=row["last"],
            nouns=analysed[row["query"]][0],
            stems=analysed[row["query"]][1],
        )
        for row in rows
    ]


def _cluster(phrasings: list[_Phrasing]) -> list[_Group]:
    groups: list[_Group] = []
    by_term: dict[str, list[int]] = defaultdict(list)  # seed term → groups, to compare few
    for phrasing in sorted(phrasings, key=lambda p: (-p.count, -p.last.timestamp(), p.query)):
        # A query of verbs only ("잃어버렸어요") is compared by its stems instead.
        own = phrasing.nouns or phrasing.stems
        shared: Counter[int] = Counter()
        for term in own:
            shared.update(by_term.get(term, ()))
        best, best_key = None, (0.0, 0, 0)
        for i, n in shared.items():
            seed = groups[i].seed
            seed_terms = seed.nouns or seed.stems
            similarity = n / (len(own) + len(seed_terms) - n)  # Jaccard
            if similarity < MIN_SIMILARITY or similarity < best_key[0]:
                continue
            key = (similarity, _stems_shared(phrasing.stems, seed.stems), -i)
            if key > best_key:
                best, best_key = groups[i], key
        if best is None:
            best = _Group(seed=phrasing)
            for term in own:
                by_term[term].append(len(groups))
            groups.append(best)
        best.members.append(phrasing)
    return groups


def _describe(group: _Group) -> dict:
    members = group.members
    weights: Counter[str] = Counter()
    for member in members:
        for term in member.nouns or member.stems:
            weights[term] += member.count
    count = sum(m.count for m in members)
    staff = sum(m.staff for m in members)
    terms = [term for term, _n in weights.most_common(NAME_TERMS)]
    return {
        "name": " · ".join(terms),
        "terms": terms,
        "count": count,
        "staff": staff,
        "citizens": count - staff,
        "question": group.seed.query,  # the most asked phrasing: the new article's question
        "phrasings": [m.query for m in members[:PHRASING_EXAMPLES]],
        "phrasing_count": len(members),
        "last_asked": max(m.last for m in members),
    }


def unanswered_question_groups(*, since: datetime, limit: int = 30) -> list[dict]:
    """Searches since ``since`` that found nothing or only a weak answer, grouped by need,
    most asked first. Each group: ``name`` (its most frequent terms), ``terms``, ``count``
    with ``staff`` and ``citizens``, ``question`` (the most asked phrasing), ``phrasings``
    (a few examples, most asked first), ``phrasing_count`` and ``last_asked``.

    Only distinct queries are analysed, the ``MAX_DISTINCT_QUERIES`` most recently asked.
    """
    rows = list(
        SearchQueryLog.objects.filter(created_at__gte=since)
        .filter(Q(results=0) | Q(weak=True))
        .values("query")
        .annotate(n=Count("id"), staff_n=Count("id", filter=Q(staff=True)), last=Max("created_at"))
        .order_by("-last", "query")[:MAX_DISTINCT_QUERIES]
    )
    if not rows:
        return []
    groups = [_describe(group) for group in _cluster(_phrasings(rows))]
    groups.sort(key=lambda g: (-g["count"], -g["last_asked"].timestamp(), g["name"]))
    return groups[:limit]
