"""Synthetic memories for the search benchmark, bulk-loaded in UNWIND batches.

The data model is the one cypher/write_add.cypher writes: (:Entity {id, name, normalized,
type, embedding, user_id, agent_id, run_id, scope_key, ...})-[:FACT {id, relation, fact,
embedding, valid_from, valid_to, message_ids, ...}]->(:Entity), ids derived as graphmem derives
them. Every fact also comes with the conversation turn that told it, as graphmem stores turns:
(:Message {content: the fact sentence, embedding, stems, ...})-[:MENTIONS]->(both ends), the
turn's id in the fact's message_ids; so N facts come with N turns (bench/cypher/load_messages.cypher).

Embedding every one of 100k sentences with MiniLM takes long on a small machine, so a pool
of distinct fact sentences (and of entity names) is embedded once with the real model and
cached on disk; each fact takes the text of a pool sentence and that sentence's vector plus
a small Gaussian perturbation (cosine ~0.98 to the original), re-normalised; its turn takes
the same vector, as a one-sentence turn embeds like its sentence. Users share sentences
("Maya lives in Lisbon" is in many memories), as real users share facts; about 10% of facts
are closed (valid_to set), as history.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from graphmem._models import Message, Scope, normalize_name
from graphmem._settings import default_home
from graphmem._terms import STEMMER, stem_text
from graphmem.embed.base import Embedder
from graphmem.store.ids import entity_id, fact_id, message_node_id
from graphmem.store.transport import Store

from .common import PREFIX, log, run_statement

NAMES = """Alice Anna Bob Carol Dmitri Erin Frank Grace Hector Ines Jamal Keiko Liam Mara Noah Olga
Priya Quentin Rosa Sven Tariq Uma Victor Wanda Xavier Yara Zoe Amir Bea Chen Dara Elif Felix Gita
Hugo Ivan Jade Kofi Lena Mateo Nadia Omar Paula Rafael Sara Theo Ugo Vera Yusuf Zara Arjun Bruno
Chloe Diego Emma Farah Greta Hana Isaac Jonas""".split()
CITIES = """Paris London Berlin Rome Madrid Lisbon Vienna Prague Oslo Dublin Tokyo Toronto Chicago
Boston Seattle Denver Austin Lyon Milan Munich Zurich Geneva Athens Warsaw Krakow Budapest Helsinki
Stockholm Copenhagen Amsterdam Brussels Seoul Osaka Sydney Melbourne Auckland Nairobi Lagos Cairo
Mumbai Delhi Bangkok Hanoi Lima Bogota Santiago Montreal Vancouver Porto Seville""".split()
ORGS = """Acme Initech Globex Hooli Umbrella Cyberdyne Tyrell Soylent Aperture Vandelay Initrode
Massive-Dynamic Wonka Gringotts Oscorp Wayne-Enterprises Stark-Industries Pied-Piper Dunder-Mifflin
Monarch Nakatomi Virtucon Prestige-Worldwide Gekko Bluth Sterling-Cooper Duff Krusty Paper-Street
Sirius-Cybernetics Weyland Yoyodyne Zorg Blue-Sun Buy-n-Large Omni-Consumer Rekall Spacely Cogswell""".split()
FOODS = """sushi pizza ramen tacos curry dumplings gelato croissants paella falafel pho risotto kimchi
burritos pancakes waffles hummus lasagna bagels pretzels tiramisu baklava churros noodles oysters
mushrooms peanuts shellfish strawberries chocolate coffee tea cheese olives mangoes avocados""".split()
HOBBIES = [
    "archery",
    "baking",
    "birdwatching",
    "bouldering",
    "calligraphy",
    "camping",
    "ceramics",
    "chess",
    "cycling",
    "dancing",
    "drawing",
    "fencing",
    "fishing",
    "gardening",
    "golf",
    "hiking",
    "juggling",
    "kayaking",
    "knitting",
    "origami",
    "painting",
    "photography",
    "pottery",
    "rowing",
    "running",
    "sailing",
    "skiing",
    "surfing",
    "swimming",
    "tennis",
    "woodworking",
    "yoga",
]
PETS = ["dog", "cat", "parrot", "hamster", "rabbit", "turtle", "goldfish", "iguana", "ferret", "tortoise"]
LANGUAGES = [
    "French",
    "German",
    "Spanish",
    "Italian",
    "Japanese",
    "Korean",
    "Swahili",
    "Hindi",
    "Polish",
    "Portuguese",
    "Mandarin",
    "Arabic",
    "Greek",
    "Dutch",
    "Turkish",
]

# relation -> (object pool, object type, sentence template, query template)
RELATIONS: dict[str, tuple[list[str], str, str, str]] = {
    "lives_in": (CITIES, "City", "{s} lives in {o}.", "Where does {s} live?"),
    "works_at": (ORGS, "Organization", "{s} works at {o}.", "Where does {s} work?"),
    "likes": (FOODS, "Food", "{s} likes {o}.", "What food does {s} like?"),
    "enjoys": (HOBBIES, "Activity", "{s} enjoys {o}.", "What does {s} do for fun?"),
    "born_in": (CITIES, "City", "{s} was born in {o}.", "Where was {s} born?"),
    "visited": (CITIES, "City", "{s} visited {o} last year.", "Which cities has {s} visited?"),
    "allergic_to": (FOODS, "Food", "{s} is allergic to {o}.", "What is {s} allergic to?"),
    "friend_of": (NAMES, "Person", "{s} is friends with {o}.", "Who are {s}'s friends?"),
    "sister_of": (NAMES, "Person", "{s} is {o}'s sister.", "Whose sister is {s}?"),
    "owns": (PETS, "Animal", "{s} has a pet {o}.", "What pet does {s} have?"),
    "speaks": (LANGUAGES, "Language", "{s} speaks {o}.", "Which languages does {s} speak?"),
    "studied_at": (ORGS, "Organization", "{s} studied at {o} Academy.", "Where did {s} study?"),
}

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SIGMA = 0.01  # per-dimension noise on unit vectors of 384 dims: cosine ~0.98 to the pool vector
MESSAGE_METADATA = json.dumps({"bench": "search"})  # stored as a JSON string, as graphmem stores it


@dataclass(frozen=True)
class PoolFact:
    source: str
    relation: str
    target: str
    source_type: str
    target_type: str
    sentence: str


def make_pool(size: int, seed: int = 11) -> list[PoolFact]:
    """`size` distinct (subject, relation, object) sentences, drawn at random from all combinations."""
    combos = [
        (s, rel, o)
        for rel, (objects, _, _, _) in RELATIONS.items()
        for s in NAMES
        for o in objects
        if normalize_name(s) != normalize_name(o)
    ]
    if size > len(combos):
        raise ValueError(f"pool size {size} exceeds the {len(combos)} distinct synthetic facts")
    chosen = random.Random(seed).sample(combos, size)
    pool = []
    for s, rel, o in chosen:
        _, target_type, template, _ = RELATIONS[rel]
        pool.append(
            PoolFact(s, rel, o.replace("-", " "), "Person", target_type, template.format(s=s, o=o.replace("-", " ")))
        )
    return pool


def entity_names(pool: list[PoolFact]) -> list[tuple[str, str]]:
    names = {(f.source, f.source_type) for f in pool} | {(f.target, f.target_type) for f in pool}
    return sorted(names)


def cached_embeddings(embedder: Embedder, texts: list[str], tag: str) -> np.ndarray:
    """Real embeddings of `texts`, cached under ~/.cache/graphmem/bench by content hash."""
    digest = hashlib.sha256(("\n".join(texts) + embedder.model_name).encode()).hexdigest()[:16]
    path = Path(default_home()) / "bench" / f"{tag}-{len(texts)}-{digest}.npy"
    if path.is_file():
        return np.load(path)
    started = time.perf_counter()
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    log(
        f"embedded {len(texts)} {tag} texts with {embedder.model_name} in {time.perf_counter() - started:.1f} s "
        f"({len(texts) / (time.perf_counter() - started):.0f}/s); cached in {path}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def perturbed(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = vectors + rng.normal(0.0, SIGMA, size=vectors.shape).astype(np.float32)
    return noisy / np.linalg.norm(noisy, axis=1, keepdims=True)


@dataclass
class SyntheticMemories:
    """Users <prefix>synth-000.. each with a private random order of the pool; growing the data
    to N facts gives every user its next N/users facts of that order."""

    store: Store
    embedder: Embedder
    prefix: str = PREFIX
    users: int = 100
    pool_size: int = 4000
    seed: int = 7
    batch: int = 1000
    loaded: int = 0  # facts per user loaded so far
    pool: list[PoolFact] = field(default_factory=list)
    created_entities: set[str] = field(default_factory=set)
    valid: dict[str, list[PoolFact]] = field(default_factory=dict)  # user -> valid facts loaded

    def __post_init__(self) -> None:
        self.pool = make_pool(self.pool_size, self.seed)
        self.fact_vectors = cached_embeddings(self.embedder, [f.sentence for f in self.pool], "facts")
        self.names = entity_names(self.pool)
        self.name_vectors = cached_embeddings(self.embedder, [n for n, _ in self.names], "names")
        self.name_index = {n: i for i, (n, _) in enumerate(self.names)}
        self.stems = [stem_text(f.sentence) for f in self.pool]  # per pool sentence, not per turn
        self.orders = {
            self.user(u): random.Random(f"{self.seed}-{u}").sample(range(len(self.pool)), len(self.pool))
            for u in range(self.users)
        }

    def user(self, u: int) -> str:
        return f"{self.prefix}synth-{u:03d}"

    @property
    def total(self) -> int:
        return self.loaded * self.users

    def grow_to(self, total_facts: int) -> dict[str, float]:
        """Load facts, and one turn per fact, until the memories hold `total_facts` facts in
        all; returns counts and load timings."""
        per_user = total_facts // self.users
        if per_user > self.pool_size:
            raise ValueError(f"{per_user} facts per user need --pool >= {per_user}")
        if per_user <= self.loaded:
            return {"facts": 0, "entities": 0, "messages": 0, "seconds": 0.0}
        started = time.perf_counter()
        entity_rows: list[dict] = []
        fact_rows: list[dict] = []
        # load_messages takes the scope as statement parameters: turns are grouped by user
        message_rows: dict[str, list[dict]] = {}
        rng = np.random.default_rng([self.seed, per_user])
        for u in range(self.users):
            user = self.user(u)
            scope = Scope(user_id=user)
            picks = self.orders[user][self.loaded : per_user]
            vectors = perturbed(self.fact_vectors[picks], rng)
            for index, vector in zip(picks, vectors):
                f = self.pool[index]
                ids = []
                for name, type_ in ((f.source, f.source_type), (f.target, f.target_type)):
                    key = entity_id(scope, normalize_name(name))
                    ids.append(key)
                    if key not in self.created_entities:
                        self.created_entities.add(key)
                        entity_rows.append(
                            {
                                "id": key,
                                "name": name,
                                "normalized": normalize_name(name),
                                "type": type_,
                                "embedding": self.name_vectors[self.name_index[name]],
                                "created_at": NOW,
                                "mentions": 1,
                                "user_id": user,
                                "scope_key": scope.key,
                            }
                        )
                h = int(hashlib.blake2b(f"{user}{index}".encode(), digest_size=4).hexdigest(), 16)
                valid_from = NOW - timedelta(days=h % 730, seconds=h % 86400)
                closed = h % 10 == 0
                fact_key = fact_id(scope, ids[0], f.relation, ids[1], valid_from)
                fact_rows.append(
                    {
                        "id": fact_key,
                        "source_id": ids[0],
                        "target_id": ids[1],
                        "relation": f.relation,
                        "fact": f.sentence,
                        "embedding": vector,
                        "valid_from": valid_from,
                        "valid_to": valid_from + timedelta(days=30) if closed else None,
                        "invalidated_by": None,
                        "mentions": 1 + h % 3,
                        "user_id": user,
                        "scope_key": scope.key,
                    }
                )
                # the turn that told the fact, sent when the fact became valid; its external id
                # (the pool index) is unique within the user, so its node id is graphmem's own
                external_id = f"synth-{index}"
                message_rows.setdefault(user, []).append(
                    {
                        "id": message_node_id(scope, Message(content=f.sentence, id=external_id)),
                        "external_id": external_id,
                        "role": "user",
                        "speaker": "user",
                        "content": f.sentence,
                        "timestamp": valid_from,
                        "embedding": vector,
                        "stems": self.stems[index],
                        "metadata": MESSAGE_METADATA,
                        "fact_id": fact_key,
                        "source_id": ids[0],
                        "target_id": ids[1],
                    }
                )
                if not closed:
                    self.valid.setdefault(user, []).append(f)
        # entity vectors get their own perturbation, so users' nodes are not exact copies
        if entity_rows:
            noisy = perturbed(np.stack([r["embedding"] for r in entity_rows]), rng)
            for row, vector in zip(entity_rows, noisy):
                row["embedding"] = vector
        prepare_seconds = time.perf_counter() - started
        # entities before the facts between them, facts before the turns that carry them
        entity_seconds = self._load("load_entities", "entities", entity_rows)
        fact_seconds = self._load("load_facts", "facts", fact_rows)
        message_seconds = 0.0
        for user, rows in message_rows.items():
            scope = Scope(user_id=user)
            message_seconds += self._load(
                "load_messages", "messages", rows, {**scope.params(), "scope_key": scope.key, "stemmer": STEMMER}
            )
        self.loaded = per_user
        seconds = time.perf_counter() - started
        return {
            "facts": len(fact_rows),
            "entities": len(entity_rows),
            "messages": sum(len(rows) for rows in message_rows.values()),
            "seconds": round(seconds, 1),
            "facts_per_second": round(len(fact_rows) / seconds, 1),
            "prepare_seconds": round(prepare_seconds, 1),
            "entity_seconds": round(entity_seconds, 1),
            "fact_seconds": round(fact_seconds, 1),
            "message_seconds": round(message_seconds, 1),
        }

    def _load(self, statement: str, key: str, rows: list[dict], params: dict | None = None) -> float:
        """UNWIND `rows` in batches; returns the seconds. Vectors become lists only per batch (a
        fact and its turn share one numpy vector; 100k Python lists of 384 floats take ~1 GB)."""
        started = time.perf_counter()
        for chunk in _chunks(rows, self.batch):
            chunk = [{**row, "embedding": row["embedding"].tolist()} for row in chunk]
            run_statement(self.store, statement, {key: chunk, **(params or {})})
        return time.perf_counter() - started

    def queries(self, count: int, seed: int = 3) -> list[tuple[str, str, tuple[str, str], set[str]]]:
        """`count` templated questions about random users' valid facts: (user, text, (source,
        relation), the sentences of the user's valid facts that answer it, i.e. the turns that do)."""
        rng = random.Random(seed)
        users = sorted(self.valid)
        out = []
        for _ in range(count):
            user = rng.choice(users)
            f = rng.choice(self.valid[user])
            answers = {g.sentence for g in self.valid[user] if (g.source, g.relation) == (f.source, f.relation)}
            out.append((user, RELATIONS[f.relation][3].format(s=f.source), (f.source, f.relation), answers))
        return out


def _chunks(rows: list[dict], size: int) -> Iterator[list[dict]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk
