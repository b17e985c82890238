"""Korean-aware search over the knowledge base.

Analysis
    kiwipiepy splits text into morphemes (one ``Kiwi`` per process, created lazily). An
    article keeps its content morphemes (nouns, roots, numbers, foreign words, verb and
    adjective stems), every run of adjacent nouns joined back up (주민+등록+등본 also gives
    주민등록, 등록등본, 주민등록등본), and, as a fallback for unknown words and free spacing,
    the character bigrams of its short fields (title, question, tags, synonyms) with spaces
    and punctuation removed.

Storage
    The analysed terms of an article live in its ``SearchDocument`` row (field → list of
    terms), written by :func:`search_document_update` on every save and by
    ``manage.py rebuild_search_index``. Articles saved some other way (the admin, a
    migration) are analysed lazily the next time the index reloads.

Ranking
    BM25F over the fields (title and question above tags and synonyms above the answer),
    morphemes and bigrams scored as two kinds of terms, in Python over an in-process index
    of numpy arrays built from the ``SearchDocument`` rows: SQLite and PostgreSQL rank the
    same. A query that contains an article's synonym matches that article and is expanded
    with its title words; short unknown query words are corrected to indexed words one
    keystroke (jamo) away, and longer unknown compounds are split into indexed words. An
    article matches when it has one of the caller's words (two syllables or more), one of
    its synonyms, or half of the query's bigrams. The public sees published articles, staff
    also drafts and reviews, nobody archived ones; the database has the last word on that.

Freshness
    Every write bumps a token in Django's cache; the index also compares the row counts
    and the latest ``updated_at`` of articles and documents at most once per
    ``CHECK_SECONDS``, so writes from other processes show up within that time even
    without a shared cache. Only changed documents are decoded again.
"""

from __future__ import annotations

import html
import logging
import math
import re
import threading
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from knowledge.models import Article, SearchDocument
from tickets.models import Category

logger = logging.getLogger(__name__)

ANALYZER_VERSION = "kiwi-1"
VERSION_KEY = "_analyzer"
SYNONYM_PHRASES_KEY = "_synonyms"

# Fields as the index sees them, with their BM25F weight and length normalisation (b).
TEXT_FIELDS = ("title", "question", "tags", "synonyms", "answer")
FIELD_WEIGHTS = {"title": 3.0, "question": 2.5, "tags": 2.0, "synonyms": 2.0, "answer": 1.0}
FIELD_B = {"title": 0.5, "question": 0.75, "tags": 0.3, "synonyms": 0.3, "answer": 0.75}
NGRAM_SUFFIX = "~2"  # "title~2": the character bigrams of the title
NGRAM_FIELDS = ("title", "question", "tags", "synonyms")
K1 = 1.2

# Query side.
NGRAM_WEIGHT = 0.5  # a bigram counts half a morpheme
TYPO_WEIGHT = 0.8  # a corrected word counts a little less than the word itself
SPLIT_WEIGHT = 0.8  # the known parts of an unknown compound (전화번호 → 전화, 번호)
EXPANSION_WEIGHT = 0.3  # title words of an article whose synonym the query used
SYNONYM_BONUS = 2.0  # × idf of the synonym phrase, for the article(s) that carry it
MIN_NGRAM_COVERAGE = 0.5  # without a matching word, half the query's bigrams must match
MAX_QUERY_CHARS = 200
MAX_SYNONYM_CHARS = 24

# Analysis.
CONTENT_TAGS = frozenset({"NNG", "NNP", "NR", "XR", "SL", "SN", "SH", "VV", "VA"})
NOUN_TAGS = frozenset({"NNG", "NNP", "NR", "XR", "SL", "SN", "SH"})
STEM_TAGS = frozenset({"VV", "VA"})
STOP_STEMS = frozenset({"하", "되", "있", "없", "않", "같", "그렇", "어떻", "이렇", "저렇"})
MAX_COMPOUND_PARTS = 4
TYPO_MIN_CHARS, TYPO_MAX_CHARS = 2, 4

CHECK_SECONDS = 1.0
LAZY_LIMIT = 200  # articles analysed lazily per reload (~0.5 s); the rest at the next ones
CACHE_KEY = "knowledge:search:token"
SNIPPET_CHARS = 120

_NON_WORD = re.compile(r"[\W_]+")
_HANGUL_WORD = re.compile(r"^[가-힣]+$")


# --- analysis -------------------------------------------------------------------------------

_kiwi: Any = None
_kiwi_lock = threading.Lock()


def kiwi() -> Any:
    """The process's ``Kiwi`` (1–2 s and ~280 MB to create and warm up, so only once)."""
    global _kiwi
    if _kiwi is None:
        with _kiwi_lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                started = time.perf_counter()
                analyser = Kiwi()
                analyser.tokenize("등본 발급")  # the first analysis loads the model (~1 s)
                _kiwi = analyser
                logger.info("Kiwi loaded in %.2f s", time.perf_counter() - started)
    return _kiwi


def _tokenize(texts: list[str]) -> list[list[Any]]:
    if not texts:
        return []
    analyser = kiwi()
    with _kiwi_lock:  # one analysis at a time per process; a query takes well under 1 ms
        return list(analyser.tokenize(texts))


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def compact(text: str) -> str:
    """``text`` without spaces or punctuation: spacing no longer matters."""
    return _NON_WORD.sub("", normalise(text))


def bigrams(text: str) -> list[str]:
    squeezed = compact(text)
    return [squeezed[i : i + 2] for i in range(len(squeezed) - 1)]


@dataclass(frozen=True)
class Morpheme:
    term: str
    noun: bool  # nouns, compounds, numbers, foreign words (stems are not highlighted)


def _morphemes(tokens: Sequence[Any]) -> list[Morpheme]:
    """Content morphemes of one text plus the compounds of adjacent nouns, in text order."""
    out: list[Morpheme] = []
    run: list[str] = []
    run_end = -1

    def close_run() -> None:
        for i in range(len(run)):
            for j in range(i + 2, min(len(run), i + MAX_COMPOUND_PARTS) + 1):
                out.append(Morpheme("".join(run[i:j]), True))
        run.clear()

    for token in tokens:
        tag = token.tag.split("-", 1)[0]
        form = token.form.strip()
        if not form:
            continue
        if tag in NOUN_TAGS:
            if run and token.start != run_end:
                close_run()
            run.append(form)
            run_end = token.start + token.len
        elif run:
            close_run()
        if tag in CONTENT_TAGS and not (tag in STEM_TAGS and form in STOP_STEMS):
            out.append(Morpheme(form, tag in NOUN_TAGS))
    close_run()
    return out


def _field_texts(article: Article) -> dict[str, Any]:
    return {
        "title": article.title or "",
        "question": article.question or "",
        "tags": [str(tag) for tag in (article.tags or []) if str(tag).strip()],
        "synonyms": [str(s) for s in (article.synonyms or []) if str(s).strip()],
        "answer": article.answer or "",
    }


def analyse_articles(articles: Sequence[Article]) -> list[dict[str, list[str]]]:
    """The ``SearchDocument.terms`` of each article, analysed in one Kiwi batch."""
    fields = [_field_texts(article) for article in articles]
    texts = []
    for values in fields:
        for name in TEXT_FIELDS:
            value = values[name]
            # List fields: one item per line so that compounds never join two items.
            texts.append(normalise("\n".join(value) if isinstance(value, list) else value))
    tokens = iter(_tokenize(texts))
    documents = []
    for values in fields:
        terms: dict[str, list[str]] = {}
        for name in TEXT_FIELDS:
            terms[name] = [m.term for m in _morphemes(next(tokens))]
        for name in NGRAM_FIELDS:
            value = values[name]
            items = value if isinstance(value, list) else [value]
            terms[name + NGRAM_SUFFIX] = [gram for item in items for gram in bigrams(item)]
        terms[SYNONYM_PHRASES_KEY] = sorted(
            {compact(s) for s in values["synonyms"] if len(compact(s)) >= 2}
        )
        terms[VERSION_KEY] = [ANALYZER_VERSION]
        documents.append(terms)
    return documents


def analyse_article(article: Article) -> dict[str, list[str]]:
    return analyse_articles([article])[0]


def document_length(terms: dict[str, list[str]]) -> int:
    return sum(len(terms.get(name, ())) for name in TEXT_FIELDS)


# --- writes ---------------------------------------------------------------------------------


def _token_bump() -> None:
    try:
        cache.set(CACHE_KEY, uuid.uuid4().hex, None)
    except Exception:  # a cache outage must not break a save; the DB check still runs
        logger.warning("search: could not bump the index token", exc_info=True)
    _engine.invalidate()


def _changed() -> None:
    _token_bump()
    transaction.on_commit(_token_bump)  # other processes may reload only after commit


def _documents_write(pairs: list[tuple[int, dict[str, list[str]]]]) -> None:
    now = timezone.now()
    SearchDocument.objects.bulk_create(
        [
            SearchDocument(
                article_id=article_id, terms=terms, length=document_length(terms), updated_at=now
            )
            for article_id, terms in pairs
        ],
        update_conflicts=True,
        unique_fields=["article"],
        update_fields=["terms", "length", "updated_at"],
    )


def search_document_update(article: Article) -> SearchDocument | None:
    """Re-analyse ``article`` into its SearchDocument; call after every save of an article.

    An archived article leaves the index (its document is deleted). Cheap enough to call
    inside the saving transaction (a few milliseconds of analysis).
    """
    if article.pk is None:
        raise ValueError("Save the article before indexing it.")
    if article.status == Article.Status.ARCHIVED:
        SearchDocument.objects.filter(article_id=article.pk).delete()
        _changed()
        return None
    terms = analyse_article(article)
    defaults = {"terms": terms, "length": document_length(terms)}
    try:
        with transaction.atomic():
            document, _ = SearchDocument.objects.update_or_create(
                article_id=article.pk, defaults=defaults
            )
    except IntegrityError:  # another process created it in between
        document = SearchDocument.objects.get(article_id=article.pk)
        document.terms, document.length = defaults["terms"], defaults["length"]
        document.save()
    _changed()
    return document


def _stale_article_ids() -> list[int]:
    """Visible articles without a document, or saved after their document was written."""
    return list(
        Article.objects.exclude(status=Article.Status.ARCHIVED)
        .filter(
            Q(search_document__isnull=True) | Q(search_document__updated_at__lt=F("updated_at"))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def search_documents_write(article_ids: Sequence[int], *, batch_size: int = 200) -> int:
    """Analyse the given articles in batches and upsert their documents; returns how many."""
    done = 0
    for start in range(0, len(article_ids), batch_size):
        batch = list(Article.objects.filter(pk__in=article_ids[start : start + batch_size]))
        _documents_write(
            [
                (article.pk, terms)
                for article, terms in zip(batch, analyse_articles(batch), strict=True)
            ]
        )
        done += len(batch)
    return done


def search_index_rebuild(
    *, batch_size: int = 200, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Re-analyse every non-archived article; drop documents of archived ones."""
    started = time.perf_counter()
    removed, _ = SearchDocument.objects.filter(article__status=Article.Status.ARCHIVED).delete()
    ids = list(
        Article.objects.exclude(status=Article.Status.ARCHIVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    vocabulary: set[str] = set()
    for start in range(0, len(ids), batch_size):
        batch = list(Article.objects.filter(pk__in=ids[start : start + batch_size]))
        analysed = analyse_articles(batch)
        _documents_write(
            [(article.pk, terms) for article, terms in zip(batch, analysed, strict=True)]
        )
        for terms in analysed:
            for name in TEXT_FIELDS:
                vocabulary.update(terms[name])
        if progress:
            progress(len(batch))
    _changed()
    by_status = dict(
        Article.objects.values_list("status").annotate(n=Count("pk")).order_by("status")
    )
    return {
        "indexed": len(ids),
        "removed": removed,
        "by_status": by_status,
        "terms": len(vocabulary),
        "seconds": round(time.perf_counter() - started, 2),
    }


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
    try:
        token = cache.get(CACHE_KEY)
        if token is None:
            cache.add(CACHE_KEY, uuid.uuid4().hex, None)
            token = cache.get(CACHE_KEY)
        return token
    except Exception:
        logger.warning("search: cache unavailable; checking the database instead", exc_info=True)
        return None


_engine = _Engine()


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


# --- queries --------------------------------------------------------------------------------


@dataclass
class _Query:
    terms: dict[str, float]  # morpheme → weight
    own: set[str]  # the words the caller typed (they decide whether a document matches)
    grams: list[str]
    squeezed: str
    highlight: set[str]


def _query(text: str, index: _Index) -> _Query:
    text = normalise(text)[:MAX_QUERY_CHARS]
    morphemes = _morphemes(_tokenize([text])[0]) if text.strip() else []
    terms: dict[str, float] = {}
    highlight: set[str] = set()
    for m in morphemes:
        terms.setdefault(m.term, 1.0)
        if m.noun and len(m.term) >= 2:
            highlight.add(m.term)
    own = set(terms)
    unknown = [w for w in terms if len(w) >= 2 and _HANGUL_WORD.match(w) and not index.df(w)]
    for word in unknown:
        if TYPO_MIN_CHARS <= len(word) <= TYPO_MAX_CHARS:
            for fixed in index.corrections(word)[:2]:
                if fixed not in terms:
                    terms[fixed] = TYPO_WEIGHT
                    highlight.add(fixed)
                    # Two syllables have many neighbours (농장 → 통장): when several words
                    # are unknown the query is more likely off-topic than mistyped, and
                    # such a guess only adds to documents that match otherwise.
                    if len(word) > 2 or len(unknown) == 1:
                        own.add(fixed)
    for word in [m.term for m in morphemes if m.noun]:
        if len(word) >= 3 and _HANGUL_WORD.match(word) and index.df(word) == 0:
            for piece in _known_pieces(word, index):
                if piece not in terms:
                    terms[piece] = SPLIT_WEIGHT
                    own.add(piece)
                    highlight.add(piece)
    squeezed = compact(text)
    grams = list(dict.fromkeys(squeezed[i : i + 2] for i in range(len(squeezed) - 1)))
    return _Query(terms=terms, own=own, grams=grams, squeezed=squeezed, highlight=highlight)


def _known_pieces(word: str, index: _Index) -> list[str]:
    """An unknown compound split into indexed words, longest first from the left:
    전화번호 → 전화, 번호 when only those two are indexed."""
    pieces, i = [], 0
    while i < len(word) - 1:
        for j in range(len(word), i + 1, -1):
            if (j - i) < len(word) and index.df(word[i:j]):
                pieces.append(word[i:j])
                i = j
                break
        else:
            i += 1
    return pieces


def _synonym_hits(squeezed: str, index: _Index) -> list[str]:
    found = []
    text = squeezed[: MAX_SYNONYM_CHARS * 3]
    for size in range(min(len(text), MAX_SYNONYM_CHARS), 1, -1):
        for start in range(len(text) - size + 1):
            piece = text[start : start + size]
            if piece in index.synonyms:
                found.append(piece)
    return list(dict.fromkeys(found))


def _rank(
    index: _Index, query: _Query, *, staff: bool, category_ids: list[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Document positions that match, best first, and their scores."""
    n = index.size
    scores = np.zeros(n)
    word_hits = np.zeros(n, dtype=bool)
    gram_hits = np.zeros(n, dtype=np.int32)
    synonym_hit = np.zeros(n, dtype=bool)
    for phrase in _synonym_hits(query.squeezed, index):
        docs = index.synonyms[phrase]
        idf = math.log1p((n - len(docs) + 0.5) / (len(docs) + 0.5))
        scores[docs] += SYNONYM_BONUS * idf
        synonym_hit[docs] = True
        query.highlight.add(phrase)
        for position in docs[:3]:
            for term in index.title_terms[position]:
                query.terms.setdefault(term, EXPANSION_WEIGHT)
    for term, weight in query.terms.items():
        found = index.postings(term)
        if found is None:
            continue
        docs, contribution = found
        scores[docs] += weight * contribution
        if term in query.own and (len(term) >= 2 or not _HANGUL_WORD.match(term)):
            word_hits[docs] = True
    for gram in query.grams:
        found = index.postings("\x00" + gram)
        if found is None:
            continue
        docs, contribution = found
        scores[docs] += NGRAM_WEIGHT * contribution
        gram_hits[docs] += 1
    needed = max(1, math.ceil(MIN_NGRAM_COVERAGE * len(query.grams))) if query.grams else 1
    mask = word_hits | synonym_hit | (gram_hits >= needed)
    mask &= index.status > 0 if staff else index.status == 1
    if category_ids is not None:
        mask &= np.isin(index.category_ids, category_ids) | np.isin(index.parent_ids, category_ids)
    positions = np.flatnonzero(mask)
    order = np.lexsort((index.article_ids[positions], -scores[positions]))
    positions = positions[order]
    return positions, scores[positions]


def category_ids_for(value: str) -> list[int]:
    """The categories a ``category=`` parameter names: a code ("tax"), a name ("세무") or a
    path ("세무/지방세"); their subcategories are included by the ranking."""
    value = value.strip()
    ids = list(Category.objects.filter(Q(code=value) | Q(name=value)).values_list("pk", flat=True))
    if not ids and "/" in value:
        node = None
        for name in (part.strip() for part in value.split("/") if part.strip()):
            node = Category.objects.filter(parent=node, name=name).first()
            if node is None:
                return []
        ids = [node.pk]
    return ids


def search(
    *, query: str, limit: int = 5, category: str = "", staff: bool = False
) -> list[tuple[Article, float, str]]:
    """Articles answering ``query``, best first, each with its score and a highlighted
    snippet. The public sees published articles; staff also drafts and reviews."""
    from knowledge.selectors import visible_articles  # selectors imports this module

    if not query.strip() or limit < 1:
        return []
    index = _engine.index()
    if not index.size:
        return []
    parsed = _query(query, index)
    if not parsed.terms and not parsed.grams:
        return []
    category_ids = None
    if category:
        category_ids = category_ids_for(category)
        if not category_ids:
            return []
    positions, scores = _rank(index, parsed, staff=staff, category_ids=category_ids)
    articles = visible_articles(staff=staff).select_related("category")
    if category_ids:
        articles = articles.filter(
            Q(category_id__in=category_ids) | Q(category__parent_id__in=category_ids)
        )
    results: list[tuple[Article, float, str]] = []
    start, batch = 0, limit + 5
    while start < len(positions) and len(results) < limit:
        # The index may lag a status change by up to CHECK_SECONDS: the database decides.
        ids = [int(pk) for pk in index.article_ids[positions[start : start + batch]]]
        found = articles.in_bulk(ids)
        for pk, score in zip(ids, scores[start : start + batch], strict=True):
            if pk in found and len(results) < limit:
                article = found[pk]
                results.append((article, round(float(score), 3), snippet(article, parsed)))
        start, batch = start + batch, limit * 4
    return results


# --- snippets -------------------------------------------------------------------------------


def _highlighter(words: Iterable[str]) -> re.Pattern | None:
    words = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
    if not words:
        return None
    # Spacing-tolerant: 주민등록 also marks "주민 등록".
    alternatives = [r"\s*".join(re.escape(char) for char in word) for word in words]
    return re.compile("|".join(alternatives), re.IGNORECASE)


_MARKDOWN = [
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [label](url) → label
    (re.compile(r"(\*\*|__|`)"), ""),
    (re.compile(r"(?m)^\s{0,3}(#{1,6}|>|[-*+]|\d+[.)])\s+"), ""),
]


def _plain(markdown: str) -> str:
    for pattern, replacement in _MARKDOWN:
        markdown = pattern.sub(replacement, markdown)
    return re.sub(r"\s+", " ", markdown).strip()


def snippet(article: Article, query: _Query) -> str:
    """The part of the answer with the most query words, those words wrapped in <mark>."""
    text = _plain(article.answer)
    pattern = _highlighter(query.highlight)
    matches = list(pattern.finditer(text)) if pattern else []
    start = 0
    if matches:
        best = -1
        for anchor in matches:
            begin = max(0, anchor.start() - 30)
            seen = {
                compact(m.group(0))
                for m in matches
                if m.start() >= begin and m.end() <= begin + SNIPPET_CHARS
            }
            if len(seen) > best:
                best, start = len(seen), begin
    piece = text[start : start + SNIPPET_CHARS]
    parts, last = [], 0
    for match in pattern.finditer(piece) if pattern else ():
        parts.append(html.escape(piece[last : match.start()]))
        parts.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(html.escape(piece[last:]))
    prefix = "…" if start else ""
    suffix = "…" if start + SNIPPET_CHARS < len(text) else ""
    return prefix + "".join(parts).replace("</mark><mark>", "") + suffix
