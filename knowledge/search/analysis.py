"""Korean analysis: kiwipiepy morphemes, noun runs and character bigrams; the field set."""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.models import Article

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
# Semantic expansion (knowledge.search.expansion): Kiwi's CoNg neighbours of a query word
# that the index has, each weighted SIMILAR_WEIGHT × its cosine similarity.
SIMILAR_WEIGHT = 0.6
SIMILAR_MIN = 0.55  # below this cosine a neighbour is more often unrelated than related
SIMILAR_PER_WORD = 4
SIMILAR_SPLIT = 0.5  # n neighbours of one word get 1 / n ** SIMILAR_SPLIT of its weight each
SIMILAR_TOP = 30  # neighbours asked of Kiwi per word (most are not in the index)
GLOSSARY_WEIGHT = 1.0  # an English word's Korean terms count as the caller's own words
LEARNED_WEIGHT = 8.0  # × learned evidence (a weighted mean over the query's words, ≤ 4)
MIN_NGRAM_COVERAGE = 0.5  # without a matching word, half the query's bigrams must match
MAX_QUERY_CHARS = 200

# What the engine adds to plain BM25F; all off is the engine as it was before issue 14
# (bench/search.py switches them to measure each one).
FEATURES = {"similar": True, "glossary": True, "learned": True}
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
    tag: str = ""  # Kiwi's tag of a single morpheme ("NNG", "VV"…); "" for a compound


def _morphemes(tokens: Sequence[Any]) -> list[Morpheme]:
    """Content morphemes of one text plus the compounds of adjacent nouns, in text order."""
    out: list[Morpheme] = []
    run: list[str] = []
    run_end = -1

    def close_run() -> None:
        for i in range(len(run)):
            for j in range(i + 2, min(len(run), i + MAX_COMPOUND_PARTS) + 1):
                out.append(Morpheme("".join(run[i:j]), True, ""))
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
            out.append(Morpheme(form, tag in NOUN_TAGS, tag))
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
