"""Word terms for keyword search, the same on the query side and the stored side.

A query is cut into content words (case-folded, stop words dropped); each word is reduced to
its English stem (Porter, as Lucene's `english` analyzer does), so "work", "works", "worked"
and "working" are one term. Stored turns keep their stems as one space-padded string
(`stem_text`), so a scope scanned exactly matches a stem with a plain `CONTAINS ' stem '`,
and a larger scope goes through the full-text indexes, whose `english` analyzer stems alike.
The stemmer is snowball's classic Porter, the algorithm of Lucene's PorterStemFilter; a turn
records which stemmer made its stems (`m.stemmer`), and `graphmem init` re-stems the others.
Only letters, digits and _ survive, so a term is safe as a Lucene term too.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have he her his how i in is it its me my of on or "
    "our she so that the their them they this to was we were what when where which who whom why will with "
    "you your about doing into than then there these those".split()
)
MAX_QUERY_WORDS = 32

_WORD = re.compile(r"\w+")
#: the stemmer stored turns record; a change here is a migration (`graphmem init` re-stems)
STEMMER = "snowball-porter"
_stemmer = snowballstemmer.stemmer("porter")
_stemmer_lock = threading.Lock()  # a snowball stemmer keeps its state while it works


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English stem of one case-folded word ("working" -> "work", "studies" -> "studi").
    Words of one or two letters stay as they are ("us" is not "u"), as in Porter's reference
    implementation and Lucene's."""
    if len(word) <= 2:
        return word
    with _stemmer_lock:
        return str(_stemmer.stemWord(word))


@dataclass(frozen=True)
class WordTerm:
    """One stem of a query's words, as keyword search matches it against a whole word of the
    raw text: the words themselves, or any word starting with the stem (`prefix`; "work"
    finds "works", "worked"). A stem of under four letters is only matched whole, since "ag"
    of "age" would find "again"."""

    words: frozenset[str]
    prefix: str | None

    def pattern(self) -> str:
        """As a regular expression of \\w characters, `|` and `\\w*` only (words hold only \\w
        characters, `words()`): cypher/search_keyword.cypher matches it between word bounds."""
        return "|".join(sorted(self.words | ({self.prefix + r"\w*"} if self.prefix else set())))

    def matches(self, word: str) -> bool:
        """Whether a whole word of a text, lower-cased, is this term's."""
        return word in self.words or (self.prefix is not None and word.startswith(self.prefix))


def word_terms(words: list[str]) -> list[WordTerm]:
    """The keyword terms of a query's words, one per stem, in the words' order."""
    by_stem: dict[str, set[str]] = {}
    for word in words:
        by_stem.setdefault(stem(word), set()).add(word)
    return [
        WordTerm(frozenset(found | ({s} if len(s) < 4 else set())), s if len(s) >= 4 else None)
        for s, found in by_stem.items()
    ]


def word_patterns(words: list[str]) -> list[str]:
    """For an exactly scanned scope's keyword search (cypher/search_keyword.cypher), one regular
    expression per term (`word_terms`), matched as a whole word of the raw text."""
    return [term.pattern() for term in word_terms(words)]


def text_words(text: str) -> frozenset[str]:
    """The whole words of a raw text, lower-cased, as search_keyword's patterns see them
    (maximal runs of \\w characters; no stop word dropped, no possessive cut)."""
    return frozenset(word.lower() for word in _WORD.findall(text))


def words(text: str) -> list[str]:
    """Every word of a text, case-folded; possessive 's dropped ("Anna's" -> "anna")."""
    return _WORD.findall(text.casefold().replace("'s", " ").replace("\u2019s", " "))


def query_words(query: str) -> list[str]:
    """The query's content words, case-folded, deduplicated, in order."""
    found = [w for w in words(query) if w not in STOPWORDS and len(w) > 1]
    return list(dict.fromkeys(found))[:MAX_QUERY_WORDS]


def query_stems(query: str) -> list[str]:
    """The stems of the query's content words, deduplicated, in order."""
    return list(dict.fromkeys(stem(w) for w in query_words(query)))


def stem_text(text: str) -> str:
    """A text as its stems, space-separated and space-padded: ' my brother work at bosch '."""
    return " " + " ".join(stem(w) for w in words(text)) + " "
