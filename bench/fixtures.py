"""The hand-written retrieval fixture shared by tests/integration/test_retrieval.py and bench/search_bench.py.

A small world (people, cities, companies, foods, hobbies) of ~60 facts, each with a fact
sentence, written with `add_triplets` into every one of several users: the users hold
identical facts, so any leak across scopes shows. A few first-person turns go through the
offline extractor on top (Alice lives in Paris, then moves to London). Hand-written queries
name the fact(s) that answer them and the retrieval signal meant to find each:

* ``two_hop``: needs entity expansion over two hops (Alice -> her sister Anna -> Anna's
  employer); the employer fact's sentence shares no meaning with the question.
* ``paraphrase``: shares no word with the stored sentence; only the embedding finds it.
* ``rare_noun``: a rare proper noun; the full-text index finds it.

Facts are identified by (source, relation, target), which is stable across users.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphmem.embed.base import Embedder

BASE_TIME = datetime(2024, 6, 1, tzinfo=UTC)  # valid_from of every triplet fact
LIVED_IN_PARIS = datetime(2025, 1, 1, tzinfo=UTC)
MOVED_TO_LONDON = datetime(2025, 3, 1, tzinfo=UTC)

Key = tuple[str, str, str]  # (source, relation, target)


def _t(source: str, source_type: str, relation: str, target: str, target_type: str, fact: str) -> dict[str, Any]:
    return {
        "source": source,
        "source_type": source_type,
        "relation": relation,
        "target": target,
        "target_type": target_type,
        "fact": fact,
    }


# fmt: off
WORLD: list[dict[str, Any]] = [
    # Alice's small neighbourhood: a sister and a hobby. Where Alice lives comes from the
    # offline-extractor turns (TURNS) so that the move invalidates it.
    _t("Anna", "Person", "sister_of", "Alice", "Person", "Anna is Alice's sister."),
    # the two-hop target: deliberately no word or meaning of "work", "job" or "sister"
    _t("Anna", "Person", "works_at", "Acme", "Organization", "Anna spends weekdays building rockets for Acme."),
    _t("Alice", "Person", "enjoys", "pottery", "Activity", "Alice enjoys pottery."),
    _t("Anna", "Person", "lives_in", "Denver", "City", "Anna lives in Denver."),
    # people, where they live and work
    _t("Bob", "Person", "lives_in", "Lyon", "City", "Bob lives in Lyon."),
    _t("Bob", "Person", "works_at", "Initech", "Organization", "Bob works at Initech as an accountant."),
    _t("Carol", "Person", "lives_in", "Berlin", "City", "Carol lives in Berlin."),
    _t("Carol", "Person", "works_at", "Globex", "Organization", "Carol works at Globex."),
    _t("Carol", "Person", "plays", "cello", "Instrument", "Carol plays the cello in a string quartet."),
    _t("Dmitri", "Person", "lives_in", "Oslo", "City", "Dmitri lives in Oslo."),
    _t("Dmitri", "Person", "works_at", "Umbrella", "Organization", "Dmitri works at Umbrella."),
    _t("Dmitri", "Person", "owns", "Quetzalli", "Animal", "Dmitri owns an axolotl called Quetzalli."),
    _t("Erin", "Person", "lives_in", "Madrid", "City", "Erin lives in Madrid."),
    _t("Erin", "Person", "works_at", "Hooli", "Organization", "Erin works at Hooli."),
    _t("Erin", "Person", "allergic_to", "peanuts", "Food", "Erin is allergic to peanuts."),
    _t("Frank", "Person", "lives_in", "Toronto", "City", "Frank lives in Toronto."),
    _t("Frank", "Person", "works_at", "Stark Industries", "Organization", "Frank works at Stark Industries."),
    _t("Frank", "Person", "likes", "sushi", "Food", "Frank likes sushi."),
    _t("Grace", "Person", "lives_in", "Vienna", "City", "Grace lives in Vienna."),
    _t("Grace", "Person", "works_at", "Wayne Enterprises", "Organization", "Grace works at Wayne Enterprises."),
    _t("Grace", "Person", "enjoys", "chess", "Activity", "Grace enjoys chess."),
    _t("Hector", "Person", "lives_in", "Lisbon", "City", "Hector lives in Lisbon."),
    _t("Hector", "Person", "works_at", "Soylent", "Organization", "Hector works at Soylent."),
    _t("Hector", "Person", "likes", "pizza", "Food", "Hector likes pizza."),
    _t("Ines", "Person", "lives_in", "Rome", "City", "Ines lives in Rome."),
    _t("Ines", "Person", "works_at", "Cyberdyne", "Organization", "Ines works at Cyberdyne."),
    _t("Ines", "Person", "enjoys", "hiking", "Activity", "Ines enjoys hiking."),
    _t("Jamal", "Person", "lives_in", "Chicago", "City", "Jamal lives in Chicago."),
    _t("Jamal", "Person", "works_at", "Tyrell", "Organization", "Jamal works at Tyrell."),
    _t("Jamal", "Person", "likes", "coffee", "Food", "Jamal likes coffee."),
    _t("Keiko", "Person", "lives_in", "Tokyo", "City", "Keiko lives in Tokyo."),
    _t("Keiko", "Person", "works_at", "Massive Dynamic", "Organization", "Keiko works at Massive Dynamic."),
    _t("Keiko", "Person", "enjoys", "surfing", "Activity", "Keiko enjoys surfing."),
    _t("Liam", "Person", "lives_in", "Dublin", "City", "Liam lives in Dublin."),
    _t("Liam", "Person", "works_at", "Aperture", "Organization", "Liam works at Aperture."),
    _t("Liam", "Person", "likes", "chocolate", "Food", "Liam likes chocolate."),
    _t("Mara", "Person", "lives_in", "Prague", "City", "Mara lives in Prague."),
    _t("Mara", "Person", "works_at", "Vandelay", "Organization", "Mara works at Vandelay Industries."),
    _t("Mara", "Person", "enjoys", "photography", "Activity", "Mara enjoys photography."),
    # family and friends
    _t("Bob", "Person", "friend_of", "Carol", "Person", "Bob and Carol are old friends."),
    _t("Erin", "Person", "married_to", "Frank", "Person", "Erin is married to Frank."),
    _t("Grace", "Person", "brother_of", "Hector", "Person", "Hector is Grace's brother."),
    _t("Jamal", "Person", "cousin_of", "Keiko", "Person", "Jamal is Keiko's cousin."),
    _t("Liam", "Person", "mentor_of", "Mara", "Person", "Liam mentors Mara."),
    # companies and cities
    _t("Acme", "Organization", "based_in", "Seattle", "City", "Acme is headquartered in Seattle."),
    _t("Initech", "Organization", "based_in", "Austin", "City", "Initech is based in Austin."),
    _t("Globex", "Organization", "based_in", "Boston", "City", "Globex is based in Boston."),
    _t("Hooli", "Organization", "based_in", "Palo Alto", "City", "Hooli is based in Palo Alto."),
    _t("Lyon", "City", "located_in", "France", "Country", "Lyon is a city in France."),
    _t("Oslo", "City", "located_in", "Norway", "Country", "Oslo is the capital of Norway."),
    # the paraphrase target: a query with none of these words must find it
    _t("Bob", "Person", "fears", "spiders", "Animal", "Bob is terrified of spiders."),
    # foods and hobbies
    _t("Bob", "Person", "likes", "croissants", "Food", "Bob likes croissants."),
    _t("Carol", "Person", "dislikes", "mushrooms", "Food", "Carol dislikes mushrooms."),
    _t("Dmitri", "Person", "enjoys", "ice fishing", "Activity", "Dmitri enjoys ice fishing."),
    _t("Erin", "Person", "enjoys", "salsa dancing", "Activity", "Erin enjoys salsa dancing."),
    _t("Frank", "Person", "enjoys", "woodworking", "Activity", "Frank enjoys woodworking."),
    _t("Hector", "Person", "enjoys", "surfing", "Activity", "Hector enjoys surfing."),
    _t("Ines", "Person", "likes", "gelato", "Food", "Ines likes gelato."),
    _t("Keiko", "Person", "likes", "ramen", "Food", "Keiko likes ramen."),
    _t("Mara", "Person", "likes", "dumplings", "Food", "Mara likes dumplings."),
]
# fmt: on

#: first-person turns through the offline extractor, in order: (message, timestamp)
TURNS: list[tuple[dict[str, str], datetime]] = [
    ({"role": "user", "name": "Alice", "content": "I live in Paris"}, LIVED_IN_PARIS),
    ({"role": "user", "name": "Alice", "content": "I moved to London"}, MOVED_TO_LONDON),
    ({"role": "user", "name": "Alice", "content": "I work at Initrode"}, MOVED_TO_LONDON),
]

ALICE_IN_PARIS: Key = ("Alice", "lives_in", "Paris")
ALICE_IN_LONDON: Key = ("Alice", "lives_in", "London")
TWO_HOP: Key = ("Anna", "works_at", "Acme")
PARAPHRASE: Key = ("Bob", "fears", "spiders")
RARE_NOUN: Key = ("Dmitri", "owns", "Quetzalli")


@dataclass(frozen=True)
class Query:
    text: str
    expected: tuple[Key, ...]  # any of them answers the query (all are valid now)
    kind: str = "plain"  # two_hop | paraphrase | rare_noun | plain
    hops: int = 1
    words: tuple[str, ...] = field(default=())


QUERIES: list[Query] = [
    Query("Where does Alice's sister work?", (TWO_HOP,), kind="two_hop", hops=2),
    Query("Which creepy crawlies make him panic?", (PARAPHRASE,), kind="paraphrase"),
    Query("Quetzalli", (RARE_NOUN,), kind="rare_noun"),
    Query("where does alice live", (ALICE_IN_LONDON,)),
    Query("Who is Alice's sister?", (("Anna", "sister_of", "Alice"),)),
    Query("Where does Carol work?", (("Carol", "works_at", "Globex"),)),
    Query("Which city does Dmitri live in?", (("Dmitri", "lives_in", "Oslo"),)),
    Query("What is Erin allergic to?", (("Erin", "allergic_to", "peanuts"),)),
    Query("What food does Frank like?", (("Frank", "likes", "sushi"),)),
    Query("Who is Erin married to?", (("Erin", "married_to", "Frank"),)),
    Query("What instrument does Carol play?", (("Carol", "plays", "cello"),)),
    Query("Where is Acme headquartered?", (("Acme", "based_in", "Seattle"),)),
    Query("Who enjoys surfing?", (("Keiko", "enjoys", "surfing"), ("Hector", "enjoys", "surfing"))),
    Query("Who is Keiko's cousin?", (("Jamal", "cousin_of", "Keiko"),)),
    Query("Who mentors Mara?", (("Liam", "mentor_of", "Mara"),)),
    Query("Where does Grace live?", (("Grace", "lives_in", "Vienna"),)),
    Query("Where does Alice work now?", (("Alice", "works_at", "Initrode"),)),
    Query("What does Ines like to eat?", (("Ines", "likes", "gelato"),)),
    Query("Which company employs Jamal?", (("Jamal", "works_at", "Tyrell"),)),
    Query("What is Hector's sister called?", (("Grace", "brother_of", "Hector"),)),
]


def key(fact: Any) -> Key:
    """(source, relation, target) of a graphmem Fact."""
    return (fact.source, fact.relation, fact.target)


def build(memory: Any, user_id: str) -> None:
    """Write the whole fixture into one user: the world's triplets, then the turns."""
    memory.add_triplets(WORLD, user_id=user_id, timestamp=BASE_TIME)
    for message, at in TURNS:
        memory.add(message, user_id=user_id, timestamp=at)


def recall_at(
    memory: Any,
    user_id: str,
    *,
    mode: str,
    k: int = 10,
    queries: list[Query] = QUERIES,
    embeddings: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
    """Share of queries whose expected fact is among the top k of `mode`, and the misses."""
    found, misses = 0, []
    for q in queries:
        kwargs: dict[str, Any] = {"mode": mode, "limit": k, "hops": q.hops}
        if embeddings and q.text in embeddings:
            from graphmem import Scope

            hits = memory.retriever.search(q.text, Scope(user_id=user_id), embedding=embeddings[q.text], **kwargs)
        else:
            hits = memory.search(q.text, user_id=user_id, **kwargs)
        if any(key(h.fact) in q.expected for h in hits):
            found += 1
        else:
            misses.append(q.text)
    return {"recall": found / len(queries), "queries": len(queries), "misses": misses}


class CachedEmbedder(Embedder):
    """Wraps an embedder and remembers every text's vector: the fixture writes the same
    sentences into several users, and a benchmark asks the same queries many times."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.dim = inner.dim
        self.model_name = inner.model_name
        self._cache: dict[str, list[float]] = {}

    def embed(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.inner.embed(missing)))
        return [self._cache[t] for t in texts]

    def embed_one(self, text: str) -> list[float]:
        return self.embed([text])[0]
