"""The in-process index (numpy arrays over SearchDocument rows), its freshness and typo map."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db.models import Count, Max

from knowledge.models import Article, SearchDocument
from knowledge.search.analysis import (
    _HANGUL_WORD,
    ANALYZER_VERSION,
    CACHE_KEY,
    CHECK_SECONDS,
    FIELD_B,
    FIELD_WEIGHTS,
    K1,
    LAZY_LIMIT,
    NGRAM_FIELDS,
    NGRAM_SUFFIX,
    SYNONYM_PHRASES_KEY,
    TEXT_FIELDS,
    TYPO_MAX_CHARS,
    TYPO_MIN_CHARS,
    VERSION_KEY,
)
from knowledge.search.documents import (
    _stale_article_ids,
    cache_token,
    on_documents_changed,
    search_documents_write,
)

logger = logging.getLogger(__name__)

# --- the in-process index -------------------------------------------------------------------

_SLOTS = [(name, name, "") for name in TEXT_FIELDS] + [
    (name + NGRAM_SUFFIX, name, "\x00") for name in NGRAM_FIELDS
]
_SLOT_WEIGHT = np.array([FIELD_WEIGHTS[f] for _, f, _ in _SLOTS], dtype=np.float64)
_SLOT_B = np.array([FIELD_B[f] for _, f, _ in _SLOTS], dtype=np.float64)
_STATUS_CODE = {  # plain strings: what values_list() returns
    Article.Status.PUBLISHED.value: 1,
    Article.Status.DRAFT.value: 2,
    Article.Status.IN_REVIEW.value: 3,
}


class _Vocabulary:
    """Term → id, only ever growing (ids stay valid for documents decoded earlier)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}


@dataclass
class _Doc:
    updated_at: datetime
    status: int
    category_id: int
    parent_id: int
    term_ids: np.ndarray
    slots: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray
    synonyms: list[str]
    title_terms: list[str]
    version: str


def _encode(vocabulary: _Vocabulary, terms: dict[str, list[str]], row: tuple) -> _Doc:
    known = vocabulary.ids
    ids: list[int] = []
    slots: list[int] = []
    tfs: list[int] = []
    lengths = np.zeros(len(_SLOTS), dtype=np.float64)
    for slot, (key, _, prefix) in enumerate(_SLOTS):
        values = terms.get(key) or []
        lengths[slot] = len(values)
        counts = Counter(values)
        keys = [prefix + term for term in counts] if prefix else list(counts)
        ids += [known[k] if k in known else known.setdefault(k, len(known)) for k in keys]
        slots += [slot] * len(counts)
        tfs += counts.values()
    _, updated_at, status, category_id, parent_id = row
    return _Doc(
        updated_at=updated_at,
        status=_STATUS_CODE.get(status, 0),
        category_id=category_id or -1,
        parent_id=parent_id or -1,
        term_ids=np.array(ids, dtype=np.int64),
        slots=np.array(slots, dtype=np.int64),
        tfs=np.array(tfs, dtype=np.float64),
        lengths=lengths,
        synonyms=list(terms.get(SYNONYM_PHRASES_KEY) or []),
        title_terms=[t for t in dict.fromkeys(terms.get("title") or []) if len(t) >= 2],
        version=(terms.get(VERSION_KEY) or [""])[0],
    )


@dataclass
class _Index:
    """BM25F contributions per (term, document), grouped by term: a term's postings are
    ``docs[offsets[t]:offsets[t + 1]]`` with ``weights[…]`` already idf × saturated tf."""

    article_ids: np.ndarray
    status: np.ndarray
    category_ids: np.ndarray
    parent_ids: np.ndarray
    vocabulary: dict[str, int]
    offsets: np.ndarray
    docs: np.ndarray
    weights: np.ndarray
    document_frequency: np.ndarray
    synonyms: dict[str, np.ndarray]
    title_terms: list[list[str]]
    _typo_map: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.article_ids)

    @classmethod
    def build(cls, docs: list[tuple[int, _Doc]], vocabulary: _Vocabulary) -> _Index:
        n = len(docs)
        size = len(vocabulary.ids)
        sizes = np.array([len(d.term_ids) for _, d in docs], dtype=np.int64)
        if n and sizes.sum():
            term = np.concatenate([d.term_ids for _, d in docs])
            slot = np.concatenate([d.slots for _, d in docs])
            tf = np.concatenate([d.tfs for _, d in docs])
            doc = np.repeat(np.arange(n, dtype=np.int64), sizes)
            lengths = np.stack([d.lengths for _, d in docs])
            average = lengths.mean(axis=0)
            average[average == 0] = 1.0
            slots = len(_SLOTS)
            # BM25F: each field's tf, weighted and normalised by that field's length.
            factor = _SLOT_WEIGHT / (1.0 - _SLOT_B + _SLOT_B * lengths / average)
            place = doc * slots + slot
            weighted = tf * factor.ravel()[place]
            # (term, document, field) is unique, so any sort gives the same order, and the
            # per-document sums below add fields in the same order on every machine.
            key = (term * n + doc) * slots + slot
            order = np.argsort(key)
            key, weighted = key[order] // slots, weighted[order]
            first = np.ones(len(key), dtype=bool)
            first[1:] = key[1:] != key[:-1]
            starts = np.flatnonzero(first)
            tf_tilde = np.add.reduceat(weighted, starts)
            key = key[starts]
            term_of, doc_of = key // n, key % n
            df = np.bincount(term_of, minlength=size)
            idf = np.log1p((n - df + 0.5) / (df + 0.5))
            weights = idf[term_of] * tf_tilde * (K1 + 1.0) / (K1 + tf_tilde)
            offsets = np.zeros(size + 1, dtype=np.int64)
            np.cumsum(df, out=offsets[1:])
            postings = doc_of.astype(np.int32)
        else:
            df = np.zeros(size, dtype=np.int64)
            offsets = np.zeros(size + 1, dtype=np.int64)
            postings, weights = np.zeros(0, dtype=np.int32), np.zeros(0)
        synonyms: dict[str, list[int]] = {}
        for i, (_, d) in enumerate(docs):
            for phrase in d.synonyms:
                synonyms.setdefault(phrase, []).append(i)
        return cls(
            article_ids=np.array([pk for pk, _ in docs], dtype=np.int64),
            status=np.array([d.status for _, d in docs], dtype=np.int8),
            category_ids=np.array([d.category_id for _, d in docs], dtype=np.int64),
            parent_ids=np.array([d.parent_id for _, d in docs], dtype=np.int64),
            vocabulary=dict(vocabulary.ids),  # a snapshot: reloads add words to the original
            offsets=offsets,
            docs=postings,
            weights=weights,
            document_frequency=df,
            synonyms={k: np.array(v, dtype=np.int64) for k, v in synonyms.items()},
            title_terms=[d.title_terms for _, d in docs],
        )

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        tid = self.vocabulary.get(term)
        if tid is None or tid >= len(self.document_frequency):
            return None
        start, end = self.offsets[tid], self.offsets[tid + 1]
        if start == end:
            return None
        return self.docs[start:end], self.weights[start:end]

    def df(self, term: str) -> int:
        tid = self.vocabulary.get(term)
        if tid is None or tid >= len(self.document_frequency):
            return 0
        return int(self.document_frequency[tid])

    def corrections(self, word: str) -> list[str]:
        """Indexed words one jamo edit away from ``word`` (most frequent first)."""
        if self._typo_map is None:
            self._typo_map = _typo_map(
                t for t, i in self.vocabulary.items() if self.document_frequency[i] > 0
            )
        jamo = _jamo(word)
        candidates: set[str] = set()
        for key in {jamo, *_deletes(jamo)}:
            candidates.update(self._typo_map.get(key, ()))
        found = [c for c in candidates if c != word and _within_one_edit(_jamo(c), jamo)]
        return sorted(found, key=lambda c: (-self.df(c), c))


class _Engine:
    """The process's index, reloaded when the articles or their documents change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: _Index | None = None
        self._docs: dict[int, _Doc] = {}
        self._vocabulary = _Vocabulary()
        self._token: str | None = None
        self._signature: tuple | None = None
        self._checked = -math.inf
        self._live_terms = 0

    def invalidate(self) -> None:
        self._checked = -math.inf

    def reset(self) -> None:
        """Forget everything (tests; a changed analyser)."""
        with self._lock:
            self.__init__()

    def index(self) -> _Index:
        token = _token_current()
        if self._fresh(token):
            return self._index  # type: ignore[return-value]
        with self._lock:
            if self._fresh(token):
                return self._index  # type: ignore[return-value]
            signature = _signature()
            if self._index is None or signature != self._signature:
                signature = self._reload()
            self._signature, self._token = signature, token
            self._checked = time.monotonic()
            return self._index  # type: ignore[return-value]

    def _fresh(self, token: str | None) -> bool:
        return (
            self._index is not None
            and token == self._token
            and time.monotonic() - self._checked < CHECK_SECONDS
        )

    def _reload(self) -> tuple:
        started = time.perf_counter()
        stale = _stale_article_ids()
        if stale:
            if len(stale) > LAZY_LIMIT:
                logger.warning(
                    "search: %d articles have no current search document; analysing %d now "
                    "(run manage.py rebuild_search_index to do them all at once)",
                    len(stale),
                    LAZY_LIMIT,
                )
            search_documents_write(stale[:LAZY_LIMIT])
        signature = _signature()
        if len(stale) > LAZY_LIMIT:
            signature = ("partial", time.monotonic())  # never equal: do more at the next check
        if self._index is not None and len(self._vocabulary.ids) > 2 * self._live_terms + 50_000:
            self._docs, self._vocabulary = {}, _Vocabulary()  # forget words nobody uses now
        rows = list(
            SearchDocument.objects.exclude(article__status=Article.Status.ARCHIVED)
            .order_by("article_id")
            .values_list(
                "article_id",
                "updated_at",
                "article__status",
                "article__category_id",
                "article__category__parent_id",
            )
        )
        changed = [
            row
            for row in rows
            if (doc := self._docs.get(row[0])) is None or doc.updated_at != row[1]
        ]
        fresh = self._decode(changed, everything=len(changed) > len(rows) // 2)
        docs: dict[int, _Doc] = {}
        for row in rows:
            doc = fresh.get(row[0]) or self._docs.get(row[0])
            if doc is None:  # deleted in the meantime
                continue
            doc.status = _STATUS_CODE.get(row[2], 0)
            doc.category_id, doc.parent_id = row[3] or -1, row[4] or -1
            docs[row[0]] = doc
        outdated = [pk for pk, doc in docs.items() if doc.version != ANALYZER_VERSION]
        if outdated:  # written by an older analyser: searchable as they are until redone
            logger.info("search: re-analysing %d outdated documents", len(outdated))
            search_documents_write(outdated[:LAZY_LIMIT])
            signature = ("partial", time.monotonic())  # decode them at the next check
        self._docs = docs
        self._index = _Index.build(sorted(docs.items()), self._vocabulary)
        self._live_terms = int(np.count_nonzero(self._index.document_frequency))
        logger.info(
            "search: index of %d documents (%d decoded) built in %.0f ms",
            len(docs),
            len(fresh),
            (time.perf_counter() - started) * 1000,
        )
        return signature

    def _decode(self, rows: list[tuple], *, everything: bool = False) -> dict[int, _Doc]:
        by_id = {row[0]: row for row in rows}
        if not by_id:
            return {}
        documents = SearchDocument.objects.values_list("article_id", "terms")
        if everything:
            pairs: Iterable = documents.iterator(chunk_size=1000)
        else:
            ids = sorted(by_id)
            pairs = [
                pair
                for start in range(0, len(ids), 500)
                for pair in documents.filter(article_id__in=ids[start : start + 500])
            ]
        return {
            pk: _encode(self._vocabulary, terms or {}, by_id[pk])
            for pk, terms in pairs
            if pk in by_id
        }


def _signature() -> tuple:
    articles = Article.objects.aggregate(n=Count("pk"), t=Max("updated_at"))
    documents = SearchDocument.objects.aggregate(n=Count("pk"), t=Max("updated_at"))
    return (articles["n"], articles["t"], documents["n"], documents["t"])


def _token_current() -> str | None:
    return cache_token(CACHE_KEY)


_engine = _Engine()
on_documents_changed(_engine.invalidate)


def search_index_reset() -> None:
    """Drop this process's index; the next search reloads it from the database."""
    _engine.reset()


# --- typo tolerance -------------------------------------------------------------------------


def _jamo(word: str) -> str:
    out = []
    for char in word:
        code = ord(char) - 0xAC00
        if 0 <= code < 11172:
            out.append(chr(0x1100 + code // 588))
            out.append(chr(0x1161 + (code % 588) // 28))
            if code % 28:
                out.append(chr(0x11A7 + code % 28))
        else:
            out.append(char)
    return "".join(out)


def _deletes(text: str) -> set[str]:
    return {text[:i] + text[i + 1 :] for i in range(len(text))}


def _typo_map(words: Iterable[str]) -> dict[str, list[str]]:
    mapping: dict[str, list[str]] = {}
    for word in words:
        if TYPO_MIN_CHARS <= len(word) <= TYPO_MAX_CHARS + 1 and _HANGUL_WORD.match(word):
            jamo = _jamo(word)
            for key in {jamo, *_deletes(jamo)}:
                mapping.setdefault(key, []).append(word)
    return mapping


def _within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance ≤ 1, or one swap of neighbours."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
