"""Queries: parsing, BM25F ranking, category filters, snippets."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.db.models import Q, QuerySet

from knowledge.models import Article
from knowledge.search.analysis import (
    _HANGUL_WORD,
    EXPANSION_WEIGHT,
    MAX_QUERY_CHARS,
    MAX_SYNONYM_CHARS,
    MIN_NGRAM_COVERAGE,
    NGRAM_WEIGHT,
    SNIPPET_CHARS,
    SPLIT_WEIGHT,
    SYNONYM_BONUS,
    TYPO_MAX_CHARS,
    TYPO_MIN_CHARS,
    TYPO_WEIGHT,
    _morphemes,
    _tokenize,
    compact,
    normalise,
)
from knowledge.search.index import _engine, _Index
from tickets.models import Category

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


def visible_articles(*, staff: bool) -> QuerySet[Article]:
    """Staff see drafts and reviews (flagged); the public sees published articles only."""
    articles = Article.objects.exclude(status=Article.Status.ARCHIVED)
    return articles if staff else articles.filter(status=Article.Status.PUBLISHED)


def search(
    *, query: str, limit: int = 5, category: str = "", staff: bool = False
) -> list[tuple[Article, float, str]]:
    """Articles answering ``query``, best first, each with its score and a highlighted
    snippet. The public sees published articles; staff also drafts and reviews."""
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
