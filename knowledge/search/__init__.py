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

Generalising (issue 14; each can be switched off in ``analysis.FEATURES`` to measure it)
    - similar words (``expansion``): each query morpheme brings up to four of its CoNg
      neighbours that the index has (쓰레기 → 폐기물), weighted by similarity; they rank,
      but never make a document match on their own;
    - English (``expansion`` + ``glossary_en.tsv``): English words and phrases become the
      Korean terms of the city glossary and count as the caller's own words;
    - learned evidence (``learned``): what agents and citizens chose for these words.
    Every result says why it matched (:class:`SearchHit.why`): the caller's words it has,
    the similar, translated and corrected words it was found through, and how many people
    chose it for these words.

Freshness
    Every write bumps a token in Django's cache; the index also compares the row counts
    and the latest ``updated_at`` of articles and documents at most once per
    ``CHECK_SECONDS``, so writes from other processes show up within that time even
    without a shared cache. Only changed documents are decoded again.
"""

from knowledge.search.analysis import ANALYZER_VERSION, analyse_article, analyse_articles, kiwi
from knowledge.search.documents import (
    search_document_update,
    search_documents_write,
    search_index_rebuild,
)
from knowledge.search.index import search_index_reset
from knowledge.search.query import (
    SearchHit,
    category_ids_for,
    query_terms,
    search,
    search_hits,
    snippet,
)

__all__ = [
    "ANALYZER_VERSION",
    "SearchHit",
    "analyse_article",
    "analyse_articles",
    "category_ids_for",
    "kiwi",
    "query_terms",
    "search",
    "search_hits",
    "search_document_update",
    "search_documents_write",
    "search_index_rebuild",
    "search_index_reset",
    "snippet",
]
