"""Many tenants in one database: does an add make the same decisions, and does a search find the
same facts, for a tenant among thousands as for that tenant alone?

    python -m bench.tenants --tenants 1000 10000 --home /tmp/tenants-home --bolt-port 7692

One database fills up, stage by stage, with a crowd of synthetic tenants of `--facts` facts each
(bench/synth.py's sentences and names, real MiniLM vectors perturbed per tenant, one turn per fact
with `--turns`). The names are shared: most tenants know an "Alice", an "Omar", a "Keiko".

Two probe tenants are loaded first into the empty database, then again (fresh ids, the same
content) after each crowd stage:
- small: "Alice Smith lives in Paris", "Omar Haddad works at Acme", "Keiko Tanaka likes sushi",
  and a crowd tenant's `--facts` facts less those about an Alice, an Omar or a Keiko (96 of 100
  at the defaults: 99 facts in all);
- large: the same three, plus `--large-entities` other people ("First Last", first names other
  than the three), each with one fact.
Each probe then gets one scripted add (`add_triplets`): "Alice lives in Berlin", "Omar works at
Globex", "Keiko likes ramen". Alone, the matcher links each first name to the probe's one full
name (its words are contained in it), and the two exclusive relations invalidate the old facts.
Among the crowd, a search of the shared vector index for "Alice" meets thousands of other
tenants' "Alice" nodes first; if the probe's "Alice Smith" is not among what the index returns,
the add makes a duplicate "Alice" and misses the invalidation.

Each add runs twice: with graphmem's scope cache (the default: it ranks the scope's nodes in
this process, exactly) and without it (`search_cache_mb=0`: Neo4j does, by exact scan up to
`scan_max` entities, else through the shared index with a scaled k). Reported per stage:
- decisions: the add's (decision, source, relation, target) set, and whether it equals the alone
  run's, plus the "alice" / "omar" / "keiko" duplicates in the scope;
- recall@10 of `search(mode="triplet")` against the exact top 10 of the facts the probe's scope
  holds by cosine to the query's vector (computed here from the vectors read back), ranked by
  Neo4j (no cache) and by the scope cache;
- search p50/p95 of both, and the add's Neo4j time (round trips and seconds);
- load time, store size and page cache.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from graphmem import GraphMemory, Scope, Usage
from graphmem._models import Message, normalize_name
from graphmem._terms import STEMMER, stem_text
from graphmem.embed.base import Embedder
from graphmem.llm import OfflineLLM
from graphmem.store.ids import entity_id, fact_id, message_node_id
from graphmem.store.transport import Store

from .common import (
    PREFIX,
    RESULTS,
    add_server_args,
    connect,
    delete_bench_data,
    environment,
    log,
    ms,
    percentile,
    run_statement,
    write_json,
)
from .synth import (
    CITIES,
    MESSAGE_METADATA,
    NAMES,
    NOW,
    ORGS,
    RELATIONS,
    PoolFact,
    cached_embeddings,
    make_pool,
    perturbed,
)

TENANTS = PREFIX + "tenants-"
#: the probe's three people: first name (what the scripted add says) -> full name (what it holds)
PROBES = {"Alice": "Alice Smith", "Omar": "Omar Haddad", "Keiko": "Keiko Tanaka"}
HELD = [("Alice Smith", "lives_in", "Paris"), ("Omar Haddad", "works_at", "Acme"), ("Keiko Tanaka", "likes", "sushi")]
SCRIPTED = [("Alice", "lives_in", "Berlin"), ("Omar", "works_at", "Globex"), ("Keiko", "likes", "ramen")]
SURNAMES = """Smith Haddad Tanaka Garcia Muller Rossi Novak Silva Kim Nguyen Cohen Ivanova Okafor Larsen
Dubois Costa Horvat Kowalski Yilmaz Papadopoulos Andersen Moreau Fischer Romano Santos Lopez Weber
Ward Hughes Bennett Foster Price Russell Griffin Hayes Myers Ford Hamilton Graham Sullivan Wallace West
Cole Jordan Reynolds Marshall Owens Harper Stone Burke Fraser Lynch Doyle Quinn Barker Pearce Walsh
Mendes Ortiz Reyes Cruz Flores Ramos Vargas Castillo Herrera Medina Aguilar Rojas Navarro Molina""".split()
TYPES = {"lives_in": "City", "works_at": "Organization", "likes": "Food"}
WARMUP = 5  # untimed searches before the timed ones


@dataclass(frozen=True)
class Row(PoolFact):
    """A fact as one tenant holds it: with its own perturbed vector."""

    vector: np.ndarray


class Loader:
    """Bulk loads of tenants (bench/cypher/load_*), graphmem's data model and ids."""

    def __init__(self, store: Store, name_vectors: dict[str, np.ndarray], turns: bool, batch: int = 5000):
        self.store, self.name_vectors, self.turns, self.batch = store, name_vectors, turns, batch
        self.rng = np.random.default_rng(5)

    def load(self, tenants: list[tuple[str, list[Row]]]) -> dict[str, float]:
        entities: list[dict[str, Any]] = []
        facts: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        for user, rows in tenants:
            scope = Scope(user_id=user)
            seen: set[str] = set()
            for i, row in enumerate(rows):
                ids = []
                for name, kind in ((row.source, row.source_type), (row.target, row.target_type)):
                    key = entity_id(scope, normalize_name(name))
                    ids.append(key)
                    if key not in seen:
                        seen.add(key)
                        entities.append(
                            {
                                "id": key,
                                "name": name,
                                "normalized": normalize_name(name),
                                "type": kind,
                                "embedding": self.name_vectors[name],
                                "created_at": NOW,
                                "mentions": 1,
                                "user_id": user,
                                "scope_key": scope.key,
                            }
                        )
                valid_from = NOW - timedelta(days=1 + i % 700)
                key = fact_id(scope, ids[0], row.relation, ids[1], valid_from)
                facts.append(
                    {
                        "id": key,
                        "source_id": ids[0],
                        "target_id": ids[1],
                        "relation": row.relation,
                        "fact": row.sentence,
                        "embedding": row.vector,
                        "valid_from": valid_from,
                        "valid_to": None,
                        "invalidated_by": None,
                        "mentions": 1,
                        "user_id": user,
                        "scope_key": scope.key,
                    }
                )
                if self.turns:
                    external = f"tenants-{i}"
                    messages.append(
                        {
                            "user_id": user,
                            "scope_key": scope.key,
                            "id": message_node_id(scope, Message(content=row.sentence, id=external)),
                            "external_id": external,
                            "role": "user",
                            "speaker": "user",
                            "content": row.sentence,
                            "timestamp": valid_from,
                            "embedding": row.vector,
                            "stems": stem_text(row.sentence),
                            "metadata": MESSAGE_METADATA,
                            "fact_id": key,
                            "source_id": ids[0],
                            "target_id": ids[1],
                        }
                    )
        # each tenant's nodes get their own noise: tenants' "Alice" nodes are near, not equal
        noisy = perturbed(np.stack([e["embedding"] for e in entities]), self.rng)
        for entity, vector in zip(entities, noisy):
            entity["embedding"] = vector
        seconds = {"entities": self._load("load_entities", "entities", entities)}
        seconds["facts"] = self._load("load_facts", "facts", facts)
        seconds["messages"] = self._load("load_tenant_messages", "messages", messages, {"stemmer": STEMMER})
        return {
            "entities": len(entities),
            "facts": len(facts),
            **{f"{k}_seconds": round(v, 1) for k, v in seconds.items()},
        }

    def _load(
        self, statement: str, key: str, rows: list[dict[str, Any]], params: dict[str, Any] | None = None
    ) -> float:
        started = time.perf_counter()
        for start in range(0, len(rows), self.batch):
            chunk = [{**r, "embedding": r["embedding"].tolist()} for r in rows[start : start + self.batch]]
            run_statement(self.store, statement, {key: chunk, **(params or {})})
        return time.perf_counter() - started


class World:
    """The crowd's and the probes' contents, deterministic from the seed."""

    def __init__(self, embedder: Embedder, facts: int, large_entities: int, pool_size: int, seed: int = 7):
        self.facts, self.seed = facts, seed
        pool = [f for f in make_pool(pool_size, seed=11) if f.relation != "friend_of" and f.relation != "sister_of"]
        self.pool = pool
        pool_vectors = cached_embeddings(embedder, [f.sentence for f in pool], "tenants-facts")
        self.pool_vectors = pool_vectors
        others = [n for n in NAMES if n not in PROBES]
        people = [f"{first} {last}" for last in SURNAMES for first in others]
        people += [f"{first} {a}-{b}" for a, b in zip(SURNAMES, SURNAMES[1:] + SURNAMES[:1]) for first in others]
        people += [f"{first} {a}-{b}" for a, b in zip(SURNAMES, SURNAMES[2:] + SURNAMES[:2]) for first in others]
        if large_entities > len(people):
            raise SystemExit(f"--large-entities is at most {len(people)}")
        self.people = random.Random(seed).sample(people, large_entities)
        self.large_facts = [
            (p, rel, random.Random(f"{seed}-{p}").choice(CITIES if rel == "lives_in" else ORGS))
            for p, rel in zip(self.people, ["lives_in", "works_at"] * large_entities)
        ]
        names = sorted(
            {f.source for f in pool}
            | {f.target for f in pool}
            | set(self.people)
            | {s for s, _, _ in HELD + SCRIPTED}
            | {t for _, _, t in HELD + SCRIPTED}
            | set(CITIES)
            | set(ORGS)
        )
        vectors = cached_embeddings(embedder, names, "tenants-names")
        self.name_vectors = dict(zip(names, vectors))
        sentences = [_sentence(*t) for t in HELD + self.large_facts]
        self.probe_vectors = dict(zip(sentences, cached_embeddings(embedder, sentences, f"tenants-probe-{seed}")))

    def crowd(self, u: int) -> list[Row]:
        rng = np.random.default_rng([self.seed, u])
        picks = random.Random(f"{self.seed}-{u}").sample(range(len(self.pool)), self.facts)
        vectors = perturbed(self.pool_vectors[picks], rng)
        rows = []
        for index, vector in zip(picks, vectors):
            f = self.pool[index]
            rows.append(Row(f.source, f.relation, f.target, f.source_type, f.target_type, f.sentence, vector))
        return rows

    def probe(self, large: bool) -> list[Row]:
        """The probe's facts: the three held ones, then the small probe's crowd-like facts about
        other first names, or the large probe's people."""
        held = [self._row(*t) for t in HELD]
        if large:
            return held + [self._row(*t) for t in self.large_facts]
        crowd = [r for r in self.crowd(10**6) if r.source not in PROBES and r.target not in PROBES]
        return held + crowd[: self.facts - len(held)]

    def _row(self, source: str, relation: str, target: str) -> Row:
        sentence = _sentence(source, relation, target)
        target_type = TYPES.get(relation, RELATIONS[relation][1])
        return Row(source, relation, target, "Person", target_type, sentence, self.probe_vectors[sentence])


def _sentence(source: str, relation: str, target: str) -> str:
    return RELATIONS[relation][2].format(s=source, o=target)


def decisions(result: Any) -> list[tuple[str, str, str, str]]:
    out = []
    for kind in ("added", "updated", "invalidated", "noop"):
        out += [(kind, f.source, f.relation, f.target) for f in getattr(result, kind)]
    return sorted(out)


def probe_stage(
    store: Store, memory: dict[str, GraphMemory], loader: Loader, world: World, embedder: Embedder, tag: str
) -> dict[str, Any]:
    """Load both probes under fresh ids, add the scripted triplets with and without the cache,
    and measure recall and latency."""
    report: dict[str, Any] = {}
    for size in ("small", "large"):
        rows = world.probe(large=size == "large")
        out: dict[str, Any] = {"facts": len(rows)}
        for cache in ("cache", "no_cache"):
            user = f"{TENANTS}probe-{size}-{cache}-{tag}"
            loader.load([(user, rows)])
            mem = memory[cache]
            # the scope's write clock, as graphmem's own writes create it: the scope cache holds
            # only a scope with its clock (without it every add falls back to Neo4j's ranking)
            mem.queries.claim_scope(Scope(user_id=user), datetime.now(UTC), usage=Usage())
            if cache == "cache":
                mem.search("warm the scope cache", user_id=user, limit=1)  # the process loads the scope
                if mem.cache is not None:
                    mem.cache.wait()  # (in the background) and holds it
            cached = mem.cache is not None and mem.cache.held(Scope(user_id=user)) is not None
            result = mem.add_triplets(
                [
                    {"source": s, "source_type": "Person", "relation": r, "target": t, "target_type": TYPES[r]}
                    for s, r, t in SCRIPTED
                ],
                user_id=user,
            )
            names = [normalize_name(n) for n in PROBES]
            held = {
                e["normalized"]
                for e in store.run_text(
                    "MATCH (e:Entity) WHERE e.user_id = $u AND e.normalized IN $names RETURN e.normalized AS normalized",
                    {"u": user, "names": names},
                )
            }
            out[cache] = {
                "held": cached,
                "decisions": decisions(result),
                "duplicates": sorted(held),
                "neo4j_round_trips": result.usage.neo4j_round_trips,
                "seconds": round(result.usage.seconds, 3),
                "stages": {k: round(v, 4) for k, v in result.usage.stages.items()},
            }
        out["recall_at_10"], out["search_ms"] = recall(
            store, memory["no_cache"], embedder, rows, f"{TENANTS}probe-{size}-no_cache-{tag}"
        )
        # the same searches ranked by the scope cache, which holds the other probe's copy
        out["cache_recall_at_10"], out["cache_search_ms"] = recall(
            store, memory["cache"], embedder, rows, f"{TENANTS}probe-{size}-cache-{tag}"
        )
        report[size] = out
    return report


def recall(
    store: Store, memory: GraphMemory, embedder: Embedder, rows: list[Row], user: str
) -> tuple[float, dict[str, float]]:
    """Recall@10 of triplet search against the exact top 10 of the facts the probe's scope holds
    (read back with their vectors: the loaded ones, and the scripted add's, valid or not), for 30
    questions about the probe's facts, timed after WARMUP of them."""
    rng = random.Random(3)
    questions = [RELATIONS[r.relation][3].format(s=r.source) for r in rng.sample(rows, min(30, len(rows)))]
    query_vectors = np.asarray(embedder.embed(questions), dtype=np.float32)
    held = store.run_text(
        "MATCH ()-[f:FACT]->() WHERE f.user_id = $u RETURN f.id AS id, f.embedding AS embedding", {"u": user}
    )
    ids = [h["id"] for h in held]
    matrix = np.asarray([h["embedding"] for h in held], dtype=np.float32)
    matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    for question in questions[:WARMUP]:  # query plans and the page cache, as bench.quality does
        memory.search(question, user_id=user, mode="triplet", limit=10, episodes=0, include_invalidated=True)
    found, wanted, seconds = 0, 0, []
    for question, vector in zip(questions, query_vectors):
        scores = matrix @ (vector / np.linalg.norm(vector))
        truth = {ids[i] for i in np.argsort(-scores)[:10]}
        started = time.perf_counter()
        hits = memory.search(question, user_id=user, mode="triplet", limit=10, episodes=0, include_invalidated=True)
        seconds.append(time.perf_counter() - started)
        found += len(truth & {h.fact.id for h in hits})
        wanted += len(truth)
    return round(found / wanted, 4), {"p50": ms(percentile(seconds, 50)), "p95": ms(percentile(seconds, 95))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tenants", description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[1000, 10000], help="crowd sizes, in stages")
    parser.add_argument("--facts", type=int, default=100, help="facts per crowd tenant")
    parser.add_argument("--large-entities", type=int, default=5000, help="people of the large probe")
    parser.add_argument("--pool", type=int, default=8000, help="distinct synthetic sentences")
    parser.add_argument("--turns", action=argparse.BooleanOptionalAction, default=True, help="one turn per fact")
    parser.add_argument("--chunk", type=int, default=200, help="tenants per load batch")
    parser.add_argument("--out", default="tenants.json")
    parser.add_argument("--keep", action="store_true", help="keep the data (default: deleted at the start)")
    parser.add_argument(
        "--loaded",
        type=int,
        default=0,
        help="with --keep: the crowd tenants already loaded by an earlier run (only the probes run again)",
    )
    parser.add_argument(
        "--alone",
        metavar="RESULT",
        help="with --keep --loaded: the alone figures from this result file (a --tenants 0 run in an empty "
        "database, e.g. of a newer graphmem) instead of the report's own",
    )
    parser.add_argument("--table", nargs="+", metavar="RESULT", help="print the README table of result files, and stop")
    add_server_args(parser)
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.table))
        return 0

    settings, store = connect(args)
    from graphmem.embed.minilm import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    if not args.keep:
        log(f"deleting earlier benchmark data: {delete_bench_data(store, TENANTS)} nodes")
    world = World(embedder, args.facts, args.large_entities, args.pool)
    loader = Loader(store, world.name_vectors, args.turns)
    memory = {
        "cache": GraphMemory(store, llm=OfflineLLM(), embedder=embedder, settings=settings),
        "no_cache": GraphMemory(
            store, llm=OfflineLLM(), embedder=embedder, settings=settings.model_copy(update={"search_cache_mb": 0})
        ),
    }
    report: dict[str, Any] = {
        "environment": environment(store),
        "args": vars(args) | {"home": str(args.home)},
        "stages": [],
    }
    run = time.strftime("%H%M%S")  # probe ids of this run: a --keep run loads its probes anew
    if args.keep and args.loaded:
        # a run cut short goes on: its report grows (the alone figures are its own: the database
        # is no longer empty), and the chunk it was loading is deleted and loaded again
        report = json.loads((RESULTS / args.out).read_text())
        report["args_resumed"] = vars(args) | {"home": str(args.home)}
        for u in range(args.loaded, args.loaded + args.chunk, 10):
            delete_bench_data(store, f"{TENANTS}crowd-{u // 10:04d}")
        alone = report["alone"]
        if args.alone:
            for earlier in report["stages"]:  # they were measured against the alone run of their time
                earlier.setdefault("alone", report["alone"])
            alone = json.loads((RESULTS / args.alone).read_text())["alone"]
            report["alone_from"] = args.alone
    else:
        alone = probe_stage(store, memory, loader, world, embedder, f"alone-{run}")
    report["alone"] = alone
    log(f"alone: {_summary(alone)}")
    loaded = args.loaded if args.keep else 0
    # with --keep --loaded N --tenants N: no load, the probes again at N (a quiet re-measure)
    for target in sorted(t for t in args.tenants if t > loaded) or [loaded]:
        started = time.perf_counter()
        totals: dict[str, float] = {}
        for first in range(loaded, target, args.chunk):
            batch = [(f"{TENANTS}crowd-{u:05d}", world.crowd(u)) for u in range(first, min(first + args.chunk, target))]
            for key, value in loader.load(batch).items():
                totals[key] = totals.get(key, 0) + value
            log(f"  crowd {min(first + args.chunk, target)}/{target} tenants ({time.perf_counter() - started:.0f} s)")
        loaded = target
        load_seconds = time.perf_counter() - started
        store.run_text("CALL db.awaitIndexes(3600)")  # vector indexes are populated asynchronously
        wait_seconds = time.perf_counter() - started - load_seconds
        # whether it decided as alone is read from the decisions (table): not stored beside them
        stage = probe_stage(store, memory, loader, world, embedder, f"t{target}-{run}")
        counts = store.run_text("MATCH (e:Entity) WITH count(e) AS e MATCH ()-[f:FACT]->() RETURN e, count(f) AS f")[0]
        # a re-measure at a size replaces that size's figures, keeping how long its load took
        earlier = [s for s in report["stages"] if s["tenants"] == target]
        if earlier and not totals:
            totals, load_seconds = earlier[-1]["load"], earlier[-1]["load"].get("seconds", 0.0)
        report["stages"] = [s for s in report["stages"] if s["tenants"] != target]
        report["stages"].append(
            {
                "tenants": target,
                "entities": counts["e"],
                "facts": counts["f"],
                "load": totals
                | {
                    "seconds": round(load_seconds, 1),
                    "index_wait_seconds": round(wait_seconds, 1),
                },
                "probes": stage,
                "environment": environment(store),
            }
        )
        log(f"{target} tenants ({counts['f']:,} facts): {_summary(stage)}")
        path = write_json(args.out, report)
    log(f"wrote {path}")
    return 0


def table(paths: list[str]) -> str:
    """The README's table from result files (one per Neo4j line)."""
    lines = [
        "| Neo4j | tenants | facts | probe | decisions as alone (cache / no cache) | duplicates (no cache) "
        "| recall@10 (no cache / cache) | search p50 / p95 ms, no cache | search p50 / p95 ms, cache "
        "| add, no cache: s (match s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path in paths:
        report = json.loads((RESULTS / path).read_text())
        version = report["environment"]["neo4j"].get("version", "?")
        for stage in [{"tenants": 0, "facts": 0, "probes": report["alone"]}, *report["stages"]]:
            for size in ("small", "large"):
                probe = stage["probes"][size]
                cache, bare = probe["cache"], probe["no_cache"]
                # against the alone run of the stage's time (a stage of an older graphmem is not
                # compared with a newer one's)
                alone = stage.get("alone", report["alone"])[size]
                same = [
                    "-"
                    if stage["tenants"] == 0
                    else ("yes" if _same(d["decisions"], alone[kind]["decisions"]) else "**no**")
                    for d, kind in ((cache, "cache"), (bare, "no_cache"))
                ]
                if not cache.get("held"):  # an earlier run's probes had no scope clock: not cached
                    same[0] = "(not held)"
                lines.append(
                    f"| {version} | {stage['tenants']:,} | {stage['facts']:,} | {size} ({probe['facts']:,} facts) "
                    f"| {' / '.join(same)} | {', '.join(bare['duplicates']) or 'none'} "
                    f"| {probe['recall_at_10']} / {probe.get('cache_recall_at_10', '-')} "
                    f"| {probe['search_ms']['p50']} / {probe['search_ms']['p95']} | {_cached_ms(probe)} "
                    f"| {bare['seconds']} ({bare['stages'].get('match', 0):.3f}) |"
                )
    return "\n".join(lines)


def _cached_ms(probe: dict[str, Any]) -> str:
    """The cache's search p50 / p95, measured since the cache column came (earlier results: -)."""
    cached = probe.get("cache_search_ms")
    return f"{cached['p50']} / {cached['p95']}" if cached else "-"


def _same(decided: list[Any], alone: list[Any]) -> bool:
    """Two decision lists alike, whether read back from JSON (lists) or just made (tuples)."""
    return [list(d) for d in decided] == [list(d) for d in alone]


def _summary(stage: dict[str, Any]) -> str:
    parts = []
    for size in ("small", "large"):
        for cache in ("cache", "no_cache"):
            d = stage[size][cache]
            parts.append(f"{size}/{cache}: {len(d['decisions'])} decisions, dup {d['duplicates']}")
        parts.append(f"{size} recall@10 {stage[size]['recall_at_10']} p50 {stage[size]['search_ms']['p50']} ms")
        if "cache_search_ms" in stage[size]:
            parts.append(
                f"{size} cached recall@10 {stage[size]['cache_recall_at_10']} "
                f"p50 {stage[size]['cache_search_ms']['p50']} ms"
            )
    return "; ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
