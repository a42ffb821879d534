"""One scope as the search's cache holds it (graphmem/cache/scope_cache.py): its facts', turns' and
entities' embeddings (rows normalised) with the fields the search lists filter and rank on,
and the postings that make the keyword and seed lists cheap: word -> facts, name word ->
entities, entity -> its facts. Pure data; a refresh lays what changed over it by id,
updating the postings of the items that changed only (a rebuild costs ~0.2 s at 100k facts).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from .._terms import WordTerm, text_words

__all__ = ["NEVER", "EntityRow", "FactRow", "Postings", "ScopeVectors", "TurnRow", "unit_rows"]

NEVER = math.inf  # valid_to of a fact that is still valid
Clocks = tuple[tuple[str, str | None, int], ...]  # (key, epoch, revision) per clock, by key
Postings = dict[str, np.ndarray]  # key -> the indices of the items holding it, ascending
_NONE = np.zeros(0, dtype=np.int64)


class FactRow(NamedTuple):
    """A fact as cypher/scope_vectors.cypher returns it (and a folded write makes it)."""

    id: str
    relation: str
    valid_from: float  # epoch ms
    valid_to: float | None  # epoch ms; None while valid
    vector: Sequence[float]
    source_id: str
    target_id: str
    text: str  # sentence, relation and end names, as search_keyword matches them


class TurnRow(NamedTuple):
    id: str
    time: float  # epoch ms
    stems: str | None
    vector: Sequence[float]


class EntityRow(NamedTuple):
    id: str
    name: str
    normalized: str
    vector: Sequence[float] | None  # None: stored without an embedding yet


# each kind's columns, its ids first: a refresh merges them by id
_FACTS = ("fact_ids", "fact_vectors", "relations", "valid_from", "valid_to", "fact_ends", "fact_texts", "fact_words")
_TURNS = ("turn_ids", "turn_vectors", "turn_times", "turn_stems")
_ENTITIES = ("entity_ids", "entity_vectors", "entity_embedded", "entity_names", "entity_normalized")


@dataclass(frozen=True, eq=False)
class ScopeVectors:
    """Immutable: a refresh builds a new one, so a search ranking from the old one is unharmed."""

    clocks: Clocks
    fact_ids: tuple[str, ...]
    fact_vectors: np.ndarray  # (facts, dim) float32, unit rows
    relations: tuple[str, ...]
    valid_from: np.ndarray  # epoch ms
    valid_to: np.ndarray  # epoch ms, NEVER while valid
    fact_ends: tuple[tuple[str, str], ...]  # (source id, target id)
    fact_texts: tuple[str, ...]  # sentence, relation and end names, as search_keyword matches them
    fact_words: tuple[frozenset[str], ...]  # the words of sentence, relation and end names
    turn_ids: tuple[str, ...]
    turn_vectors: np.ndarray
    turn_times: np.ndarray  # epoch ms
    turn_stems: tuple[str, ...]  # ' stem stem ... ' (graphmem/_terms.py)
    entity_ids: tuple[str, ...]
    entity_vectors: np.ndarray
    entity_embedded: np.ndarray  # bool: a vector seed needs an embedding
    entity_names: tuple[str, ...]
    entity_normalized: tuple[str, ...]
    # postings, kept in step with the columns by build() and updated()
    word_facts: Postings = field(default_factory=dict, repr=False)
    vocabulary: list[str] = field(default_factory=list, repr=False)  # word_facts' keys, sorted
    entity_facts: Postings = field(default_factory=dict, repr=False)
    name_entities: Postings = field(default_factory=dict, repr=False)
    # id -> position per kind, made on first use (by a write folded in)
    _positions: dict[str, dict[str, int]] = field(default_factory=dict, init=False, repr=False)

    def position(self, kind: str, item_id: str) -> int | None:
        """Where the fact, turn or entity (`kind`) of that id is held, if it is."""
        if not self._positions:
            self._positions.update(
                (k, {i: at for at, i in enumerate(getattr(self, f"{k}_ids"))}) for k in ("fact", "turn", "entity")
            )
        return self._positions[kind].get(item_id)

    @property
    def nbytes(self) -> int:
        vectors = self.fact_vectors.nbytes + self.turn_vectors.nbytes + self.entity_vectors.nbytes
        return int(vectors) + 400 * len(self.fact_ids) + 200 * (len(self.turn_ids) + len(self.entity_ids))

    @classmethod
    def build(
        cls,
        clocks: Clocks,
        facts: Sequence[FactRow],
        turns: Sequence[TurnRow],
        entities: Sequence[EntityRow],
        dim: int,
    ) -> ScopeVectors:
        """From the rows of cypher/scope_vectors.cypher (`rows()` types them)."""
        texts = tuple(str(f.text or "") for f in facts)
        scope = cls(
            clocks=clocks,
            fact_ids=tuple(str(f.id) for f in facts),
            fact_vectors=unit_rows([f.vector for f in facts], dim),
            relations=tuple(str(f.relation) for f in facts),
            valid_from=np.array([float(f.valid_from) for f in facts], dtype=np.float64),
            valid_to=np.array([NEVER if f.valid_to is None else float(f.valid_to) for f in facts], dtype=np.float64),
            fact_ends=tuple((str(f.source_id), str(f.target_id)) for f in facts),
            fact_texts=texts,
            fact_words=tuple(text_words(text) for text in texts),
            turn_ids=tuple(str(t.id) for t in turns),
            turn_vectors=unit_rows([t.vector for t in turns], dim),
            turn_times=np.array([float(t.time) for t in turns], dtype=np.float64),
            turn_stems=tuple(str(t.stems or " ") for t in turns),
            entity_ids=tuple(str(e.id) for e in entities),
            entity_vectors=unit_rows([e.vector if e.vector is not None else [0.0] * dim for e in entities], dim),
            entity_embedded=np.array([e.vector is not None for e in entities], dtype=bool),
            entity_names=tuple(str(e.name) for e in entities),
            entity_normalized=tuple(str(e.normalized) for e in entities),
        )
        return scope._reindexed(None, range(len(scope.fact_ids)), range(len(scope.entity_ids)))

    @classmethod
    def rows(
        cls,
        clocks: Clocks,
        facts: Iterable[Sequence[Any]],
        turns: Iterable[Sequence[Any]],
        entities: Iterable[Sequence[Any]],
        dim: int,
    ) -> ScopeVectors:
        """From cypher/scope_vectors.cypher's lists as they come: facts [id, relation,
        valid_from, valid_to, embedding, source id, target id, text], turns [id, timestamp,
        stems, embedding], entities [id, name, normalized, embedding or null]."""
        return cls.build(
            clocks, [FactRow(*f) for f in facts], [TurnRow(*t) for t in turns], [EntityRow(*e) for e in entities], dim
        )

    def updated(self, changes: ScopeVectors) -> ScopeVectors:
        """This scope with `changes` (what was written since) laid over it, by id: an item
        `changes` holds replaces the old one in place, new items go last."""
        columns: dict[str, Any] = {"clocks": changes.clocks}
        touched: dict[str, list[int]] = {}
        for kind in (_FACTS, _TURNS, _ENTITIES):
            old_ids, new_ids = getattr(self, kind[0]), getattr(changes, kind[0])
            order = _merge(old_ids, new_ids)
            touched[kind[0]] = [at for at, (fresh, _) in enumerate(order) if fresh]
            for name in kind:
                old, new = getattr(self, name), getattr(changes, name)
                if isinstance(old, np.ndarray):
                    both = np.concatenate([old, new]) if len(new) else old
                    columns[name] = both[[len(old) + i if fresh else i for fresh, i in order]] if order else old[:0]
                else:
                    columns[name] = tuple(new[i] if fresh else old[i] for fresh, i in order)
        merged = replace(self, **columns)
        return merged._reindexed(self, touched["fact_ids"], touched["entity_ids"])

    def _reindexed(self, old: ScopeVectors | None, facts: Iterable[int], entities: Iterable[int]) -> ScopeVectors:
        """The postings, given those of `old` (None: from nothing) and the positions of the
        facts and entities that are new or changed since (a position below old's count
        replaced the item old held there)."""
        words: dict[str, tuple[list[int], list[int]]] = {}  # key -> (added, removed)
        ends: dict[str, tuple[list[int], list[int]]] = {}
        names: dict[str, tuple[list[int], list[int]]] = {}
        for at in facts:
            if old is not None and at < len(old.fact_ids):
                _note(words, old.fact_words[at], at, removed=True)
                _note(ends, set(old.fact_ends[at]), at, removed=True)
            _note(words, self.fact_words[at], at, removed=False)
            _note(ends, set(self.fact_ends[at]), at, removed=False)
        for at in entities:
            if old is not None and at < len(old.entity_ids):
                _note(names, set(old.entity_normalized[at].split(" ")), at, removed=True)
            _note(names, set(self.entity_normalized[at].split(" ")), at, removed=False)
        word_facts = _posted(old.word_facts if old else {}, words)
        if old is None:
            vocabulary = sorted(word_facts)
        else:
            vocabulary = list(old.vocabulary)
            for word in words:
                present = word in word_facts
                i = bisect_left(vocabulary, word)
                listed = i < len(vocabulary) and vocabulary[i] == word
                if present and not listed:
                    insort(vocabulary, word)
                elif listed and not present:
                    del vocabulary[i]
        return replace(
            self,
            word_facts=word_facts,
            vocabulary=vocabulary,
            entity_facts=_posted(old.entity_facts if old else {}, ends),
            name_entities=_posted(old.name_entities if old else {}, names),
        )

    def facts_saying(self, term: WordTerm) -> np.ndarray:
        """The positions of the facts one of whose words is the term's (search_keyword's
        whole-word match, case-insensitive)."""
        found = [self.word_facts[w] for w in term.words if w in self.word_facts]
        if term.prefix:
            start = bisect_left(self.vocabulary, term.prefix)
            for word in self.vocabulary[start:]:
                if not word.startswith(term.prefix):
                    break
                found.append(self.word_facts[word])
        return np.unique(np.concatenate(found)) if found else _NONE


def _note(index: dict[str, tuple[list[int], list[int]]], keys: Iterable[str], at: int, *, removed: bool) -> None:
    for key in keys:
        index.setdefault(key, ([], []))[1 if removed else 0].append(at)


def _posted(old: Postings, changes: dict[str, tuple[list[int], list[int]]]) -> Postings:
    """`old` (left unchanged) with each key's positions added and removed."""
    if not old:  # a build: sort once
        return {key: np.array(sorted(set(added)), dtype=np.int64) for key, (added, _) in changes.items() if added}
    postings = dict(old)
    for key, (added, removed) in changes.items():
        held = postings.get(key, _NONE)
        kept = np.setdiff1d(held, np.array(removed, dtype=np.int64)) if removed else held
        now = np.union1d(kept, np.array(added, dtype=np.int64)) if added else kept
        if len(now):
            postings[key] = now
        else:
            postings.pop(key, None)
    return postings


def unit_rows(vectors: Sequence[Any], dim: int) -> np.ndarray:
    """The vectors as a (len, dim) float32 matrix of unit rows (a zero row stays zero)."""
    matrix = np.array(vectors, dtype=np.float32).reshape(len(vectors), dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def _merge(old: tuple[str, ...], new: tuple[str, ...]) -> list[tuple[bool, int]]:
    """Where each item of the merged list comes from, (from `new`, index): old order, an
    item `new` holds replaced in place, then new items."""
    fresh = {item: i for i, item in enumerate(new)}
    order = [(True, fresh.pop(item)) if item in fresh else (False, i) for i, item in enumerate(old)]
    return order + [(True, i) for i in fresh.values()]
