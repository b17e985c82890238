"""Query expansion: similar words from Kiwi's CoNg embeddings, and English words through
the city glossary (knowledge/search/glossary_en.tsv).

Similar words
    Kiwi's default model (CoNg, shipped in the ``kiwipiepy-model`` package, so nothing is
    downloaded) embeds every morpheme; ``most_similar_morphemes`` gives its neighbours
    (쓰레기 → 폐기물, 과태료 → 범칙금). A query word is expanded with the neighbours the
    index has, weighted by their similarity, so a citizen's everyday word meets the
    article's official one. The neighbours of a word are computed once per process
    (an LRU cache); filtering them by the index's vocabulary costs a few dict lookups.

English
    Citizens, residents from abroad and mixed messages use English words for city services
    ("passport", "parking ticket"). The glossary maps English words and phrases to Korean
    terms; the longest phrase wins, and plurals and -ing/-ed forms are reduced first.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from knowledge.search.analysis import (
    CONTENT_TAGS,
    SIMILAR_MIN,
    SIMILAR_PER_WORD,
    SIMILAR_TOP,
    Morpheme,
    _kiwi_lock,
    _morphemes,
    _tokenize,
    kiwi,
    normalise,
)

GLOSSARY = Path(__file__).resolve().parent / "glossary_en.tsv"
MAX_PHRASE_WORDS = 3
_ENGLISH_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")


# --- similar words --------------------------------------------------------------------------


@functools.lru_cache(maxsize=20_000)
def _neighbours(word: str, tag: str) -> tuple[tuple[str, float], ...]:
    """Kiwi's nearest content morphemes of (word, tag) with cosine ≥ SIMILAR_MIN."""
    analyser = kiwi()
    try:
        with _kiwi_lock:
            found = analyser.most_similar_morphemes((word, tag), top_n=SIMILAR_TOP)
    except (ValueError, KeyError):  # a word Kiwi has no embedding for
        return ()
    out: dict[str, float] = {}
    for neighbour in found:
        form = normalise(neighbour.form)
        if (
            neighbour.score >= SIMILAR_MIN
            and neighbour.tag.split("-", 1)[0] in CONTENT_TAGS
            and form != word
            and form not in out
        ):
            out[form] = float(neighbour.score)
    return tuple(out.items())


def similar_terms(word: str, tag: str, index) -> list[tuple[str, float]]:
    """Up to SIMILAR_PER_WORD neighbours of a query morpheme that the index has."""
    if not tag:
        return []
    found = []
    for form, score in _neighbours(word, tag):
        if index.df(form):
            found.append((form, score))
            if len(found) == SIMILAR_PER_WORD:
                break
    return found


# --- English --------------------------------------------------------------------------------


@functools.cache
def _glossary() -> dict[str, tuple[Morpheme, ...]]:
    """English phrase → the Korean morphemes of its translation (analysed once)."""
    pairs = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        english, _, korean = line.partition("\t")
        if korean.strip():
            pairs.append((" ".join(_ENGLISH_WORD.findall(english.lower())), korean.strip()))
    analysed = _tokenize([normalise(korean) for _, korean in pairs])
    glossary: dict[str, tuple[Morpheme, ...]] = {}
    for (english, _), tokens in zip(pairs, analysed, strict=True):
        morphemes = tuple(m for m in _morphemes(tokens) if len(m.term) >= 2 or m.tag)
        glossary[english] = glossary.get(english, ()) + morphemes
    return glossary


def _base_forms(word: str) -> list[str]:
    forms = [word]
    if len(word) > 4 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if len(word) > 3 and word.endswith("es"):
        forms.append(word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            stem = word[: -len(suffix)]
            forms += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                forms.append(stem[:-1])
    return forms


# English words that say nothing about which service is meant: never a query term.
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "about",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "so",
        "some",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


def english_stopword(term: str) -> bool:
    return term in ENGLISH_STOPWORDS


def translations(text: str) -> list[tuple[str, list[Morpheme]]]:
    """The English words and phrases of ``text`` the glossary knows, with their Korean
    morphemes, longest phrase first from the left."""
    words = _ENGLISH_WORD.findall(normalise(text))
    if not words:
        return []
    glossary = _glossary()
    found: list[tuple[str, list[Morpheme]]] = []
    i = 0
    while i < len(words):
        for size in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            piece = words[i : i + size]
            hit = None
            for last in _base_forms(piece[-1]):
                hit = glossary.get(" ".join([*piece[:-1], last]))
                if hit:
                    break
            if hit:
                found.append((" ".join(piece), list(hit)))
                i += size
                break
        else:
            i += 1
    return found
