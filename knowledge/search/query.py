"""Queries: parsing, BM25F ranking, category filters, snippets."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Q, QuerySet

from knowledge.models import Article
from knowledge.search.analysis import (
    _HANGUL_WORD,
    EXPANSION_WEIGHT,
    FEATURES,
    GLOSSARY_WEIGHT,
    LEARNED_WEIGHT,
    MAX_QUERY_CHARS,
    MAX_SYNONYM_CHARS,
    MIN_NGRAM_COVERAGE,
    NGRAM_WEIGHT,
    SIMILAR_SPLIT,
    SIMILAR_WEIGHT,
    SNIPPET_CHARS,
    SPLIT_WEIGHT,
    SYNONYM_BONUS,
    TYPO_MAX_CHARS,
    TYPO_MIN_CHARS,
    TYPO_WEIGHT,
    Morpheme,
    _morphemes,
    _tokenize,
    compact,
    normalise,
)
from knowledge.search.expansion import english_stopword, similar_terms, translations
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
    # A term the caller did not type → (how it came: "similar", "translated", "corrected",
    # "split"; the caller's word it came from). Expansions of synonyms are not listed.
    origin: dict[str, tuple[str, str]] = field(default_factory=dict)
    matches: set[str] = field(default_factory=set)  # terms that make a document match


def query_terms(text: str) -> list[str]:
    """The analysed words of ``text`` as the engine sees the caller's own words (content
    morphemes and noun compounds), in order, once each: what learned evidence is keyed by."""
    text = normalise(text)[:MAX_QUERY_CHARS]
    if not text.strip():
        return []
    morphemes = _morphemes(_tokenize([text])[0])
    return list(
        dict.fromkeys(m.term for m in morphemes if not (m.tag == "SL" and english_stopword(m.term)))
    )


def _query(text: str, index: _Index) -> _Query:
    text = normalise(text)[:MAX_QUERY_CHARS]
    morphemes = _morphemes(_tokenize([text])[0]) if text.strip() else []
    terms: dict[str, float] = {}
    highlight: set[str] = set()
    origin: dict[str, tuple[str, str]] = {}
    morphemes = [m for m in morphemes if not (m.tag == "SL" and english_stopword(m.term))]
    for m in morphemes:
        terms.setdefault(m.term, 1.0)
        if m.noun and len(m.term) >= 2:
            highlight.add(m.term)
    own = set(terms)
    translated: list[Morpheme] = []
    if FEATURES["glossary"]:
        for word, korean in translations(text):
            for morpheme in korean:
                translated.append(morpheme)
                term = morpheme.term
                if term not in terms:
                    terms[term] = GLOSSARY_WEIGHT
                    own.add(term)
                    origin[term] = ("translated", word)
                    highlight.add(term)
    unknown = [w for w in terms if len(w) >= 2 and _HANGUL_WORD.match(w) and not index.df(w)]
    for word in unknown:
        if TYPO_MIN_CHARS <= len(word) <= TYPO_MAX_CHARS:
            for fixed in index.corrections(word)[:2]:
                if fixed not in terms:
                    terms[fixed] = TYPO_WEIGHT
                    origin[fixed] = ("corrected", word)
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
                    origin[piece] = ("split", word)
                    highlight.add(piece)
    matches = {t for t in own if len(t) >= 2 or not _HANGUL_WORD.match(t)}
    if FEATURES["similar"]:
        sources = [(m.term, m.tag) for m in [*morphemes, *translated] if m.tag]
        for word, tag in sources:
            near = similar_terms(word, tag, index)
            for term, similarity in near:
                if term not in terms:
                    # Scored, but no match on its own: a query about drones must not
                    # find articles about aeroplanes only because the words are near.
                    # A word's neighbours share its weight, so that an article with
                    # all of them does not outrank one with the word itself.
                    terms[term] = SIMILAR_WEIGHT * similarity * _share(len(near))
                    origin[term] = ("similar", word)
                    if len(term) >= 2:
                        highlight.add(term)
    squeezed = compact(text)
    grams = list(dict.fromkeys(squeezed[i : i + 2] for i in range(len(squeezed) - 1)))
    return _Query(
        terms=terms,
        own=own,
        grams=grams,
        squeezed=squeezed,
        highlight=highlight,
        origin=origin,
        matches=matches,
    )


def _share(count: int) -> float:
    """What each of a word's ``count`` neighbours gets of its weight."""
    return 1.0 / max(1, count) ** SIMILAR_SPLIT


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


@dataclass
class _Ranking:
    positions: np.ndarray  # document positions that match, best first
    scores: np.ndarray
    postings: dict[str, np.ndarray]  # query term → positions of the documents that have it
    synonym_hit: np.ndarray
    learned: np.ndarray  # distinct choosers whose evidence counted, per position


def _learned_evidence(index: _Index, terms: list[str]) -> dict[int, tuple[float, int]]:
    """Learned evidence for the caller's words, each weighted by how specific it is in the
    index (a word the index lacks is as specific as the rarest)."""
    from knowledge.search import learned  # imports this module's package: at call time

    n = index.size
    weights = {t: math.log1p((n - index.df(t) + 0.5) / (index.df(t) + 0.5)) for t in terms}
    return learned.evidence_for(terms, weights)


def _rank(index: _Index, query: _Query, *, staff: bool, category_ids: list[int] | None) -> _Ranking:
    """Document positions that match, best first, with their scores and the evidence."""
    n = index.size
    scores = np.zeros(n)
    word_hits = np.zeros(n, dtype=bool)
    gram_hits = np.zeros(n, dtype=np.int32)
    synonym_hit = np.zeros(n, dtype=bool)
    learned = np.zeros(n, dtype=np.int32)
    postings: dict[str, np.ndarray] = {}
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
        postings[term] = docs
        if term in query.matches:
            word_hits[docs] = True
    for gram in query.grams:
        found = index.postings("\x00" + gram)
        if found is None:
            continue
        docs, contribution = found
        scores[docs] += NGRAM_WEIGHT * contribution
        gram_hits[docs] += 1
    if FEATURES["learned"] and query.own:
        evidence = _learned_evidence(index, sorted(query.own))
        if evidence:
            ids = np.fromiter(evidence, dtype=np.int64, count=len(evidence))
            at = np.searchsorted(index.article_ids, ids)
            at = np.minimum(at, n - 1)
            known = index.article_ids[at] == ids
            for position, article_id in zip(at[known], ids[known], strict=True):
                bonus, choosers = evidence[int(article_id)]
                scores[position] += LEARNED_WEIGHT * bonus
                learned[position] = choosers
            word_hits[at[known]] = True
    needed = max(1, math.ceil(MIN_NGRAM_COVERAGE * len(query.grams))) if query.grams else 1
    mask = word_hits | synonym_hit | (gram_hits >= needed)
    mask &= index.status > 0 if staff else index.status == 1
    if category_ids is not None:
        mask &= np.isin(index.category_ids, category_ids) | np.isin(index.parent_ids, category_ids)
    positions = np.flatnonzero(mask)
    order = np.lexsort((index.article_ids[positions], -scores[positions]))
    positions = positions[order]
    return _Ranking(positions, scores[positions], postings, synonym_hit, learned)


def _why(position: int, query: _Query, ranking: _Ranking) -> dict:
    """Why the document at ``position`` matched: the caller's words it has, and the words
    it was found through (similar, translated, corrected), and learned evidence."""

    def has(term: str) -> bool:
        docs = ranking.postings.get(term)
        if docs is None:
            return False
        at = int(np.searchsorted(docs, position))
        return at < len(docs) and int(docs[at]) == position

    why: dict = {"terms": [], "similar": [], "translated": [], "corrected": [], "learned": 0}
    for term in query.terms:
        if not has(term):
            continue
        how, word = query.origin.get(term, ("own" if term in query.own else "", ""))
        if how in ("own", "split") and (len(term) >= 2 or not _HANGUL_WORD.match(term)):
            if term not in why["terms"]:
                why["terms"].append(term)
        elif how in ("similar", "translated", "corrected"):
            why[how].append({"word": word, "term": term})
    why["learned"] = int(ranking.learned[position]) if position < len(ranking.learned) else 0
    return why


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


@dataclass
class SearchHit:
    article: Article
    score: float
    snippet: str
    why: dict

    @property
    def found_through(self) -> str:
        """ "translated" or "similar" when none of the caller's own words is in the article
        and it was found through English or similar words; else ""."""
        if self.why["terms"]:
            return ""
        return "translated" if self.why["translated"] else "similar" if self.why["similar"] else ""

    @property
    def weak(self) -> bool:
        """Found through none of the caller's own words and no learned evidence."""
        return not self.why["terms"] and not self.why["learned"] and not self.why["translated"]


def search_hits(
    *, query: str, limit: int = 5, category: str = "", staff: bool = False
) -> list[SearchHit]:
    """Articles answering ``query``, best first, each with its score, a highlighted snippet
    and why it matched. The public sees published articles; staff also drafts and reviews."""
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
    ranking = _rank(index, parsed, staff=staff, category_ids=category_ids)
    positions, scores = ranking.positions, ranking.scores
    articles = visible_articles(staff=staff).select_related("category")
    if category_ids:
        articles = articles.filter(
            Q(category_id__in=category_ids) | Q(category__parent_id__in=category_ids)
        )
    results: list[SearchHit] = []
    start, batch = 0, limit + 5
    while start < len(positions) and len(results) < limit:
        # The index may lag a status change by up to CHECK_SECONDS: the database decides.
        chunk = positions[start : start + batch]
        ids = [int(pk) for pk in index.article_ids[chunk]]
        found = articles.in_bulk(ids)
        for pk, position, score in zip(ids, chunk, scores[start : start + batch], strict=True):
            if pk in found and len(results) < limit:
                article = found[pk]
                results.append(
                    SearchHit(
                        article,
                        round(float(score), 3),
                        snippet(article, parsed),
                        _why(int(position), parsed, ranking),
                    )
                )
        start, batch = start + batch, limit * 4
    return results


def search(
    *, query: str, limit: int = 5, category: str = "", staff: bool = False
) -> list[tuple[Article, float, str]]:
    """:func:`search_hits` as (article, score, snippet) triples."""
    return [
        (hit.article, hit.score, hit.snippet)
        for hit in search_hits(query=query, limit=limit, category=category, staff=staff)
    ]


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
