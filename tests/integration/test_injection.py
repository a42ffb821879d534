"""Hostile text is data: Cypher fragments, backticks, quotes, $-parameters, null bytes,
100 kB strings, mixed scripts and Lucene syntax, in every field a caller or an LLM fills.

After every example the schema (SHOW INDEXES / SHOW CONSTRAINTS) and a bystander tenant
are byte for byte unchanged. Text Neo4j cannot hold (lone surrogates) and values over
the documented limits fail with an InputError naming the field, never a driver error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem import GraphMemory, InputError, Ontology
from graphmem._models import (
    LABEL_PATTERN,
    MAX_NAME_CHARS,
    RELATION_PATTERN,
    normalize_label,
    normalize_name,
    normalize_relation,
)
from graphmem.llm import OfflineLLM
from graphmem.search.recipes import MODES
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j

RUN = f"inj-{uuid.uuid4().hex[:8]}"
_example = count()

CYPHER = [
    "'; MATCH (n) DETACH DELETE n; //",
    '"}) DETACH DELETE n RETURN 1 //',
    "`Entity`) DETACH DELETE n //",
    "x`) SET n:Admin //",
    "n:Entity {id: 'x'}) SET n.user_id = 'pwned' //",
    "}]->(x) DELETE x //",
    "CALL db.index.fulltext.queryNodes('entity_name', '*') YIELD node DETACH DELETE node",
    "DROP INDEX entity_embedding",
    "DROP CONSTRAINT entity_id IF EXISTS",
    "CREATE INDEX pwned FOR (n:Entity) ON (n.name)",
    "MATCH (n) RETURN n UNION MATCH (m) DETACH DELETE m",
    "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l",
    "$user_id",
    "$(n.type)",
    "${user_id}",
    "$1",
    "$scope_key",
    "$now",
    "\\' OR 1=1 --",
    "' OR '1'='1",
    "\\",
    "\\\\",
    "\\u0027",
    '\\"',
    "/* comment */ RETURN 1",
    "// line comment",
    ";",
]
CONTROL = ["a\x00b", "\x00", "x\x00" * 10, "tab\there", "new\nline\r\n", "\x1b[31mred\x1b[0m", "\x7f\x08"]
SCRIPTS = [
    "Ålesund Москва 東京 القاهرة 🚀 नमस्ते",
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "e\u0301",
    "ﬁ ligature",
    "🏳️‍🌈👩‍👩‍👧",
    "\U0010ffff",
    "\ufeffBOM",
    "İstanbul ß ǅ",
    "\u3000ideographic space",
]
MARKUP = ["<script>alert(1)</script>", "{{7*7}}", "%s%s%n", "[bold red]rich[/]", "null", "NULL", "true", "[]", "{}"]
LUCENE = [
    '+ - && || ! ( ) { } [ ] ^ " ~ * ? : \\ /',
    "AND OR NOT",
    "*",
    "?",
    "title:foo~0.5^2",
    '"unterminated',
    "/regex.*/",
    "[a TO z]",
    "{a TO z}",
    "foo AND",
    "OR bar",
    "NOT",
    "(((",
    ")))",
    "a:b:c",
    "~",
    "^2",
    "\\*",
    "fact:*",
    "relation:lives_in",
    "*:*",
]
CORPUS = CYPHER + CONTROL + SCRIPTS + MARKUP + LUCENE
LONG = ["N" * 20_000, "名" * 20_000]  # the longest entity names allowed (20,000 characters; 60 kB in UTF-8)
HUNDRED_KB = ["A" * 100_000, "Ж" * 50_000, ("$x `y` 'z' \x00 " * 8_000)[:100_000]]

HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

hostile = st.one_of(st.sampled_from(CORPUS), st.text(min_size=1, max_size=40))
hostile_name = st.one_of(st.sampled_from(CORPUS + LONG), st.text(min_size=1, max_size=40)).filter(lambda s: s.strip())


def schema(store: Store) -> tuple[list, list]:
    indexes = store.run_text(
        "SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, options "
        "RETURN name, type, entityType, labelsOrTypes, properties, options ORDER BY name"
    )
    constraints = store.run_text(
        "SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties "
        "RETURN name, type, entityType, labelsOrTypes, properties ORDER BY name"
    )
    return indexes, constraints


def tenant(store: Store, user: str) -> tuple[list, list]:
    nodes = store.run_text(
        "MATCH (n) WHERE n.user_id = $u RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS p ORDER BY id",
        {"u": user},
    )
    rels = store.run_text(
        "MATCH (a)-[r]->(b) WHERE a.user_id = $u OR b.user_id = $u "
        "RETURN elementId(r) AS id, type(r) AS t, properties(r) AS p, elementId(a) AS a, elementId(b) AS b ORDER BY id",
        {"u": user},
    )
    return nodes, rels


@pytest.fixture(scope="module")
def mem(store: Store, embedder, neo4j_settings, delete_tenants) -> Iterator[GraphMemory]:
    memory = GraphMemory(store, llm=OfflineLLM(), embedder=embedder, settings=neo4j_settings)
    yield memory
    delete_tenants(RUN)


@pytest.fixture(scope="module")
def bystander(mem: GraphMemory, store: Store) -> Iterator[str]:
    """A tenant that must never change: its facts name the same things the attacks do."""
    user = f"{RUN}-bystander"
    mem.add_triplets(
        [
            {
                "source": "Alice",
                "source_type": "Person",
                "relation": "lives_in",
                "target": "Paris",
                "target_type": "City",
            },
            {"source": "Alice", "relation": "works_at", "target": "Entity"},
            {"source": "n", "relation": "knows", "target": "$user_id"},
        ],
        user_id=user,
    )
    mem.add(
        {"role": "user", "name": "Alice", "content": "I live in Paris", "id": "m1"}, user_id=user, metadata={"k": "v"}
    )
    yield user


@pytest.fixture
def unchanged(store: Store, bystander: str) -> Iterator[None]:
    """The schema and the bystander tenant are the same after the test as before it."""
    before_schema, before_tenant = schema(store), tenant(store, bystander)
    yield
    assert schema(store) == before_schema
    assert tenant(store, bystander) == before_tenant


# -- hostile values stored and returned as data ----------------------------------------------


@HYPOTHESIS
@given(
    source=hostile_name,
    target=hostile_name,
    source_type=hostile,
    target_type=hostile,
    relation=hostile,
    fact=st.one_of(st.none(), hostile, st.sampled_from(HUNDRED_KB)),
    user_suffix=hostile,
    query=hostile_name,
)
def test_hostile_triplets_are_stored_as_data(
    mem: GraphMemory,
    store: Store,
    unchanged,
    source,
    target,
    source_type,
    target_type,
    relation,
    fact,
    user_suffix,
    query,
) -> None:
    if normalize_name(source) == normalize_name(target):
        # one node otherwise (a self-loop, dropped); cut first so a longest name stays allowed
        source, target = source[: MAX_NAME_CHARS - 4] + " one", target[: MAX_NAME_CHARS - 4] + " two"
    user = f"{RUN}-{next(_example)}-{user_suffix}"
    try:
        result = mem.add_triplets(
            [
                {
                    "source": source,
                    "source_type": source_type,
                    "relation": relation,
                    "target": target,
                    "target_type": target_type,
                    "fact": fact,
                }
            ],
            user_id=user,
        )
        [stored] = mem.get_all(user_id=user)
        assert [f.id for f in result.added] == [stored.id]
        assert (stored.source, stored.target) == (source.strip(), target.strip())
        assert stored.relation == normalize_relation(relation) and RELATION_PATTERN.match(stored.relation)
        assert stored.source_type == normalize_label(source_type) and LABEL_PATTERN.match(stored.source_type)
        assert stored.target_type == normalize_label(target_type)
        assert stored.fact == (
            fact if fact is not None else f"{source.strip()} {stored.relation.replace('_', ' ')} {target.strip()}"
        )
        assert stored.user_id == user and stored.agent_id is None and stored.run_id is None
        assert mem.get(stored.id, user_id=user) == stored
        assert [f.id for f in mem.history(source, user_id=user)] == [stored.id]

        labels = store.run_text("MATCH (n:Entity) WHERE n.user_id = $u RETURN labels(n) AS l", {"u": user})
        assert len(labels) == 2
        for row in labels:
            assert "Entity" in row["l"] and all(LABEL_PATTERN.match(label) for label in row["l"])

        found = 0
        for mode in MODES:  # hostile queries as well; results only from this scope
            results = mem.search(query, user_id=user, mode=mode)
            found += len(results) + len(results.episodes)
            assert all(hit.fact.user_id == user for hit in results)
            assert all(turn.episode.user_id == user for turn in results.episodes)
        assert found, "some mode finds the scope's one fact: the checks above saw results"
        assert mem.delete_all(user_id=user) == 2
        assert mem.get_all(user_id=user, include_invalidated=True) == []
    finally:
        store.run_text(
            "MATCH (n) WHERE (n:Entity OR n:Message) AND n.user_id = $u DETACH DELETE n", {"u": user}, write=True
        )


@HYPOTHESIS
@given(
    content=st.one_of(st.sampled_from(CORPUS + HUNDRED_KB), st.text(min_size=1, max_size=80)).filter(
        lambda s: s.strip()
    ),
    name=st.one_of(st.none(), hostile),
    message_id=hostile,
    metadata=st.dictionaries(
        hostile,
        st.one_of(hostile, st.sampled_from(HUNDRED_KB), st.integers(), st.none(), st.lists(hostile, max_size=3)),
        min_size=1,
        max_size=4,
    ),
    agent=hostile,
)
def test_hostile_messages_and_metadata_are_stored_as_data(
    mem: GraphMemory, store: Store, unchanged, content, name, message_id, metadata, agent
) -> None:
    user = f"{RUN}-{next(_example)}-m"
    agent_id = f"{RUN}-{agent}"
    try:
        message = {"role": "user", "content": content, "name": name, "id": message_id}
        first = mem.add(message, user_id=user, agent_id=agent_id, metadata=metadata)
        assert first.skipped_messages == 0
        [row] = store.run_text(
            "MATCH (m:Message) WHERE m.user_id = $u RETURN m.content AS content, m.speaker AS speaker, "
            "m.external_id AS external_id, m.metadata AS metadata, m.agent_id AS agent",
            {"u": user},
        )
        assert row["content"] == content
        assert row["speaker"] == (name or "user")
        assert row["external_id"] == message_id
        assert row["agent"] == agent_id
        assert json.loads(row["metadata"]) == metadata
        for fact in mem.get_all(user_id=user, agent_id=agent_id):
            assert fact.user_id == user and fact.agent_id == agent_id

        again = mem.add(message, user_id=user, agent_id=agent_id, metadata=metadata)  # the same id: skipped
        assert again.skipped_messages == 1 and not again.added
        assert store.run("scope_stats", {"user_id": user, "agent_id": None, "run_id": None})[0]["messages"] == 1
    finally:
        store.run_text(
            "MATCH (n) WHERE (n:Entity OR n:Message) AND n.user_id = $u DETACH DELETE n", {"u": user}, write=True
        )


@HYPOTHESIS
@given(
    query=st.one_of(
        st.sampled_from(LUCENE + CYPHER + CONTROL + HUNDRED_KB),
        st.lists(
            st.sampled_from(list('+-&|!(){}[]^"~*?:\\/ ') + ["AND", "OR", "NOT", "TO", "paris", "alice", "&&"]),
            max_size=12,
        ).map("".join),
        st.text(max_size=60),
    ).filter(lambda s: s.strip())
)
def test_lucene_syntax_in_queries_never_raises(mem: GraphMemory, bystander: str, query: str) -> None:
    for mode in MODES:
        hits = mem.search(query, user_id=bystander, mode=mode, limit=5)
        assert all(h.fact.user_id == bystander for h in hits)
        assert all(turn.episode.user_id == bystander for turn in hits.episodes)


def test_queries_find_hostile_names_by_their_words(mem: GraphMemory, store: Store, unchanged) -> None:
    user = f"{RUN}-words"
    try:
        mem.add_triplets(
            [{"source": 'O\'Brien (the "boss")', "relation": "works_at", "target": "AT&T [US]"}], user_id=user
        )
        # (a query of only stopwords and one-letter words, like "AT&T", has no term to look for)
        for query in ["O'Brien", "boss*", '"boss"', "[US]", "Brien~2", "title:boss", "us AND NOT boss"]:
            hits = mem.search(query, user_id=user, mode="keyword")
            assert [h.fact.source for h in hits] == ['O\'Brien (the "boss")'], query
    finally:
        store.run_text(
            "MATCH (n) WHERE (n:Entity OR n:Message) AND n.user_id = $u DETACH DELETE n", {"u": user}, write=True
        )


# -- what cannot be stored: a clear InputError naming the field ----------------------------------

SURROGATE = "bad\ud800text"


def _triplet(**overrides: str) -> list[dict]:
    return [{"source": "Alice", "relation": "lives_in", "target": "Paris", **overrides}]


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("source", lambda m, u: m.add_triplets(_triplet(source=SURROGATE), user_id=u)),
        ("target", lambda m, u: m.add_triplets(_triplet(target=SURROGATE), user_id=u)),
        ("fact", lambda m, u: m.add_triplets(_triplet(fact=SURROGATE), user_id=u)),
        ("user_id", lambda m, u: m.add_triplets(_triplet(), user_id=SURROGATE)),
        ("agent_id", lambda m, u: m.add_triplets(_triplet(), user_id=u, agent_id=SURROGATE)),
        ("run_id", lambda m, u: m.add_triplets(_triplet(), user_id=u, run_id=SURROGATE)),
        ("user_id", lambda m, u: m.get_all(user_id=SURROGATE)),
        ("user_id", lambda m, u: m.search("Alice", user_id=SURROGATE)),
        ("user_id", lambda m, u: m.delete_all(user_id=SURROGATE)),
        ("message content", lambda m, u: m.add(SURROGATE, user_id=u)),
        ("message name", lambda m, u: m.add({"role": "user", "name": SURROGATE, "content": "hi"}, user_id=u)),
        ("message id", lambda m, u: m.add({"role": "user", "id": SURROGATE, "content": "hi"}, user_id=u)),
        ("metadata", lambda m, u: m.add("I live in Paris", user_id=u, metadata={SURROGATE: 1})),
        ("metadata", lambda m, u: m.add("I live in Paris", user_id=u, metadata={"k": [SURROGATE]})),
        ("search query", lambda m, u: m.search(SURROGATE, user_id=u)),
        ("search query", lambda m, u: m.search(SURROGATE, user_id=u, mode="keyword")),
        ("history id or name", lambda m, u: m.history(SURROGATE, user_id=u)),
        ("fact id", lambda m, u: m.get(SURROGATE)),
    ],
)
def test_lone_surrogates_are_input_errors_naming_the_field(mem: GraphMemory, store: Store, unchanged, field, call):
    user = f"{RUN}-surrogate"
    with pytest.raises(InputError, match=field):
        call(mem, user)
    assert store.run_text("MATCH (n) WHERE n.user_id = $u RETURN count(n) AS n", {"u": user}) == [{"n": 0}]


def test_the_store_turns_unencodable_text_into_an_input_error(store: Store) -> None:
    with pytest.raises(InputError, match="not valid Unicode"):
        store.run_text("RETURN $x AS x", {"x": SURROGATE})
    assert store.run_text("RETURN $x AS x", {"x": "a\x00b"}) == [{"x": "a\x00b"}]  # null bytes are fine


@pytest.mark.parametrize(
    ("match", "call"),
    [
        (
            "triplet 0: source: String should have at most 20000",
            lambda m, u: m.add_triplets(_triplet(source="A" * 100_000), user_id=u),
        ),
        ("triplet 1: target", lambda m, u: m.add_triplets(_triplet() + _triplet(target=" \t "), user_id=u)),
        ("user_id is 100,000 characters", lambda m, u: m.add_triplets(_triplet(), user_id="u" * 100_000)),
        ("agent_id is 1,001 characters", lambda m, u: m.get_all(user_id=u, agent_id="a" * 1_001)),
        ("user_id must be a string", lambda m, u: m.add_triplets(_triplet(), user_id=42)),
        ("metadata is not JSON", lambda m, u: m.add("I live in Paris", user_id=u, metadata={"when": object()})),
        ("metadata must be a dict", lambda m, u: m.add("I live in Paris", user_id=u, metadata=["a"])),
    ],
)
def test_oversized_and_mistyped_values_are_input_errors(mem: GraphMemory, store: Store, unchanged, match, call):
    user = f"{RUN}-oversized"
    with pytest.raises(InputError, match=match):
        call(mem, user)
    assert store.run_text("MATCH (n) WHERE n.user_id = $u RETURN count(n) AS n", {"u": user}) == [{"n": 0}]


def test_longest_allowed_values_round_trip(mem: GraphMemory, store: Store, unchanged) -> None:
    user = "U" * 1_000  # MAX_ID_CHARS; range-index keys hold it even in 4-byte characters
    other = "😀" * 1_000
    try:
        for uid in (user, other):
            mem.add_triplets(_triplet(source="名" * 20_000, fact="F" * 100_000), user_id=uid)
            [fact] = mem.get_all(user_id=uid)
            assert fact.source == "名" * 20_000 and fact.fact == "F" * 100_000 and fact.user_id == uid
            assert mem.search("Paris", user_id=uid, mode="keyword")
    finally:
        for uid in (user, other):
            mem.delete_all(user_id=uid)


# -- ontologies: names are refused unless they are labels; the rest is prompt text -------------


@pytest.mark.parametrize("text", CYPHER + ["Person`) DETACH DELETE n //", "works_at]->(x) DELETE x //"])
def test_hostile_ontology_names_are_refused(text: str) -> None:
    for declared in (
        {"entity_types": [{"name": text}]},
        {"entity_types": [{"name": "A", "parent": text}]},
        {"entity_types": [{"name": "A", "attributes": {text: {}}}]},
        {"relations": [{"name": text}]},
        {"relations": [{"name": "r", "inverse": text}]},
        {"entity_types": [{"name": "A"}], "relations": [{"name": "r", "source": [text]}]},
    ):
        with pytest.raises(ValueError):
            Ontology.model_validate({"name": "x", **declared})


def test_hostile_ontology_text_and_names_under_it_are_data(
    store: Store, embedder, neo4j_settings, bystander: str, unchanged
) -> None:
    hostile = " ".join(CYPHER[:6])
    ontology = Ontology.model_validate(
        {
            "name": CYPHER[0],
            "description": hostile,
            "mode": "strict",
            "custom_instructions": hostile,
            "entity_types": [{"name": "Person", "description": hostile}, {"name": "Place", "description": hostile}],
            "relations": [{"name": "lives_in", "description": hostile, "source": ["Person"], "target": ["Place"]}],
        }
    )
    memory = GraphMemory(store, llm=OfflineLLM(), embedder=embedder, settings=neo4j_settings, ontology=ontology)
    user = f"{RUN}-onto"
    result = memory.add_triplets(
        [{"source": name, "relation": "lives_in", "target": CYPHER[1], "source_type": "Person"} for name in CYPHER[2:5]]
        + [{"source": CYPHER[5], "relation": CYPHER[6], "target": "x"}],
        user_id=user,
    )
    assert len(result.added) == 3 and len(result.rejected) == 1
    assert {(f.source, f.target_type) for f in memory.get_all(user_id=user)} == {(n, "Place") for n in CYPHER[2:5]}
