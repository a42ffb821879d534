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


def word_patterns(words: list[str]) -> list[str]:
    """For an exactly scanned scope's keyword search (cypher/search_keyword.cypher), one regular
    expression per stem of the words, matched as a whole word of the raw text: the words
    themselves, or the stem as a prefix ("work" finds "works", "worked"; a stem of under four
    letters only as a whole word, since "ag" of "age" would find "again"). Words hold only
    \\w characters (`words()`), so a pattern is made of them, `|` and `\\w*` only."""
    by_stem: dict[str, set[str]] = {}
    for word in words:
        by_stem.setdefault(stem(word), set()).add(word)
    return ["|".join(sorted(found | {s + r"\w*" if len(s) >= 4 else s})) for s, found in by_stem.items()]


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
