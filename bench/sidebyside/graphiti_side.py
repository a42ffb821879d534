"""Graphiti (graphiti-core, Zep's open-source temporal graph) under the benchmark: its real
`Graphiti.add_episode` / `Graphiti.search` on the same Neo4j, MiniLM and script.

Graphiti is async; one event loop of this harness runs it. It takes three clients, all given
here, so nothing reaches a network:
* `ScriptedGraphitiLLM`, an `LLMClient` answering each structured prompt from the script,
  dispatched on the response model Graphiti asks for (the prompt tags it reads are named
  below). Graphiti asks for:
    ExtractedEntities  -> the script's entities of the turn (<CURRENT MESSAGE>)
    NodeResolutions    -> an entity is the existing one of the same name (<ENTITIES> /
                          <EXISTING ENTITIES>), otherwise new
    ExtractedEdges     -> the script's relations of the turn, as graphmem's stand-in words
                          them ("Sam lives in Berlin."), valid from the turn's time
                          (<REFERENCE_TIME>), so no EdgeTimestamps call is needed
    EdgeDuplicate      -> a stored fact saying the same is a duplicate; a stored fact giving the
                          same source another value of a single-valued relation (lives_in,
                          works_at) is contradicted: the rule both other stand-ins apply
    SummarizedEntities -> "<name>." for each entity it lists (the script has no summaries)
  Any other model gets the emptiest answer its schema allows, counted under its name.
* `MiniLMEmbedder`, an `EmbedderClient` over the same MiniLM instance graphmem uses.
* `NoRerank`, a `CrossEncoderClient` (only search configs with a cross-encoder call it; the
  plain `search` used here does not).

Tokens: len(JSON)/4 of the messages Graphiti passes its client (its prompt, with the JSON
schema it appends) and of the answer: the estimate the other sides use.
Neo4j queries: each query the neo4j driver runs for Graphiti (`execute_query`, and each
`run` inside Graphiti's write transactions), counted at the driver.
"""

from __future__ import annotations

import ast
import asyncio
import contextvars
import json
import os
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.setdefault("GRAPHITI_TELEMETRY_ENABLED", "false")

from graphiti_core import Graphiti  # noqa: E402
from graphiti_core.cross_encoder.client import CrossEncoderClient  # noqa: E402
from graphiti_core.embedder.client import EmbedderClient  # noqa: E402
from graphiti_core.llm_client.client import LLMClient  # noqa: E402
from graphiti_core.nodes import EpisodeType  # noqa: E402

from graphmem.embed.base import Embedder  # noqa: E402

from .data import FUNCTIONAL, SPEAKER, Extraction, Relation  # noqa: E402
from .meter import Meter  # noqa: E402

MODEL = "gpt-4o-mini"  # only named in the estimated request; nothing is sent anywhere
#: the indexes graphiti-core 0.31.2 creates (build_indices_and_constraints), for --cleanup after an
#: interrupted run: its range index on :Entity(name) refuses the long names graphmem allows
INDEXES = (
    "community_group_id community_name community_uuid created_at_edge_index created_at_entity_index "
    "created_at_episodic_index edge_name_and_fact entity_group_id entity_uuid episode_content "
    "episode_group_id episode_uuid expired_at_edge_index has_episode_group_id has_episode_uuid "
    "has_member_uuid invalid_at_edge_index mention_group_id mention_uuid name_edge_index "
    "name_entity_index next_episode_group_id next_episode_uuid node_name_and_summary "
    "relation_group_id relation_uuid saga_group_id saga_name saga_uuid valid_at_edge_index "
    "valid_at_episodic_index"
).split()
START = datetime(2025, 1, 1, tzinfo=UTC)
_inside_query = contextvars.ContextVar("inside_query", default=False)


def _between(text: str, tag: str) -> str | None:
    found = re.search(rf"<{re.escape(tag)}>\s*(.*?)\s*</{re.escape(tag)}>", text, re.S)
    return found.group(1) if found else None


def _norm(name: str) -> str:
    return " ".join(name.casefold().replace("_", " ").split())


def fact_text(r: Relation) -> str:
    return f"{r.source} {r.relation.replace('_', ' ')} {r.target}."


class ScriptedGraphitiLLM(LLMClient):
    def __init__(self, answers: dict[str, Extraction], meter: Meter):
        super().__init__(config=None)
        self.answers = answers
        self.meter = meter
        self.models: Counter[str] = Counter()  # calls per response model, over the whole run
        self.facts: dict[str, Relation] = {}  # sentence -> relation, for the facts it worded

    def _lookup(self, text: str) -> Extraction:
        body = text.strip()
        if body.startswith(f"{SPEAKER}:"):
            body = body[len(SPEAKER) + 1 :].strip()
        try:
            return self.answers[body]
        except KeyError:
            raise RuntimeError(f"stand-in has no scripted answer for {body!r}") from None

    async def _generate_response(
        self, messages: list[Any], response_model: Any = None, max_tokens: int = 0, model_size: Any = None
    ) -> dict[str, Any]:
        started, cpu = time.perf_counter(), time.process_time()
        name = response_model.__name__ if response_model is not None else "text"
        user = messages[-1].content
        answer = self._answer(name, user, response_model)
        self.models[name] += 1
        request = {"model": MODEL, "messages": [{"role": m.role, "content": m.content} for m in messages]}
        self.meter.llm(request, answer, time.perf_counter() - started, time.process_time() - cpu)
        return answer

    def _answer(self, name: str, user: str, model: Any) -> dict[str, Any]:
        if name == "ExtractedEntities":
            found = self._lookup(_between(user, "CURRENT MESSAGE") or _between(user, "TEXT") or "")
            return {"extracted_entities": [{"name": n, "entity_type_id": 0} for n, _ in found.entities]}
        if name == "NodeResolutions":
            new = json.loads(_between(user, "ENTITIES") or "[]")
            known = json.loads(_between(user, "EXISTING ENTITIES") or "[]")
            resolutions = []
            for item in new:
                same = [
                    c.get("candidate_id", c.get("idx", -1)) for c in known if _norm(c["name"]) == _norm(item["name"])
                ]
                duplicate = same[0] if same else -1
                resolutions.append(
                    {
                        "id": item["id"],
                        "name": item["name"],
                        "duplicate_candidate_id": duplicate,
                        "duplicate_idx": duplicate,
                        "duplicates": same,
                    }
                )
            return {"entity_resolutions": resolutions}
        if name == "ExtractedEdges":
            found = self._lookup(_between(user, "CURRENT_MESSAGE") or _between(user, "CURRENT MESSAGE") or "")
            when = (_between(user, "REFERENCE_TIME") or "").split("#")[0].strip() or None  # "<iso>  # ..."
            listed = [e["name"] for e in json.loads(_between(user, "ENTITIES") or "[]")]
            edges = []
            for r in found.relations:
                self.facts[fact_text(r)] = r
                edges.append(
                    {
                        "source_entity_name": r.source,
                        "target_entity_name": r.target,
                        "source_entity_id": listed.index(r.source) if r.source in listed else 0,
                        "target_entity_id": listed.index(r.target) if r.target in listed else 0,
                        "relation_type": r.relation.upper(),
                        "fact": fact_text(r),
                        "valid_at": when,
                        "invalid_at": None,
                        "episode_indices": [0],
                    }
                )
            return {"edges": edges}
        if name == "EdgeDuplicate":
            new = self.facts.get((_between(user, "NEW FACT") or "").strip())
            existing = ast.literal_eval(_between(user, "EXISTING FACTS") or "[]")
            candidates = ast.literal_eval(_between(user, "FACT INVALIDATION CANDIDATES") or "[]")
            duplicates = [c["idx"] for c in existing if new is not None and c["fact"] == fact_text(new)]
            contradicted = []
            for c in existing + candidates:
                old = self.facts.get(c["fact"])
                if (
                    new is not None
                    and old is not None
                    and new.relation in FUNCTIONAL
                    and old.relation == new.relation
                    and _norm(old.source) == _norm(new.source)
                    and _norm(old.target) != _norm(new.target)
                ):
                    contradicted.append(c["idx"])
            return {"duplicate_facts": duplicates, "contradicted_facts": contradicted, "fact_type": "DEFAULT"}
        if name == "SummarizedEntities":
            listed = json.loads(_between(user, "ENTITIES") or "[]")
            return {"summaries": [{"name": e["name"], "summary": f"{e['name']}."} for e in listed]}
        return _emptiest(model.model_json_schema() if model is not None else {})


def _emptiest(schema: dict[str, Any]) -> dict[str, Any]:
    """The least answer a response schema allows: empty lists, None, 0, ''."""
    out: dict[str, Any] = {}
    for field, spec in schema.get("properties", {}).items():
        kind = spec.get("type")
        out[field] = {"array": [], "integer": -1, "number": 0.0, "string": "", "boolean": False}.get(kind)
    return out


class MiniLMEmbedder(EmbedderClient):
    def __init__(self, embedder: Embedder, meter: Meter):
        self.embedder = embedder
        self.meter = meter

    async def create(self, input_data: Any) -> list[float]:
        texts = [input_data] if isinstance(input_data, str) else list(input_data)
        with self.meter.embed(len(texts)):
            return self.embedder.embed([str(t) for t in texts])[0]

    async def create_batch(self, input_data_list: list[str]) -> list[list[float]]:
        with self.meter.embed(len(input_data_list)):
            return self.embedder.embed(list(input_data_list))


class NoRerank(CrossEncoderClient):
    async def rank(self, query: str, passages: list[str]) -> list[tuple[str, float]]:
        return [(p, 1.0) for p in passages]


def _meter_driver(meter: Meter) -> None:
    """Counts (and times) every query the async neo4j driver runs: `execute_query` as one,
    and each `run` of a transaction or session outside it."""
    import neo4j
    from neo4j._async.work.session import AsyncSession
    from neo4j._async.work.transaction import AsyncTransactionBase

    if getattr(neo4j.AsyncDriver, "_sidebyside_metered", False):
        return
    raw_execute = neo4j.AsyncDriver.execute_query
    raw_tx_run = AsyncTransactionBase.run
    raw_session_run = AsyncSession.run

    async def execute_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        token = _inside_query.set(True)
        try:
            with meter.neo4j():
                return await raw_execute(self, *args, **kwargs)
        finally:
            _inside_query.reset(token)

    def wrap(raw: Any) -> Any:
        async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            if _inside_query.get():
                return await raw(self, *args, **kwargs)
            with meter.neo4j():
                return await raw(self, *args, **kwargs)

        return run

    neo4j.AsyncDriver.execute_query = execute_query  # type: ignore[method-assign]
    AsyncTransactionBase.run = wrap(raw_tx_run)  # type: ignore[method-assign]
    AsyncSession.run = wrap(raw_session_run)  # type: ignore[method-assign]
    neo4j.AsyncDriver._sidebyside_metered = True  # type: ignore[attr-defined]


class GraphitiSide:
    name = "graphiti"

    def __init__(self, *, url: str, user: str, password: str, answers: dict[str, Extraction], embedder: Embedder):
        self.meter = Meter()
        self.loop = asyncio.new_event_loop()
        self.llm = ScriptedGraphitiLLM(answers, self.meter)
        self.graphiti = Graphiti(
            url,
            user,
            password,
            llm_client=self.llm,
            embedder=MiniLMEmbedder(embedder, self.meter),
            cross_encoder=NoRerank(),
        )
        self.indexes_before = self._index_names()
        self.loop.run_until_complete(self.graphiti.build_indices_and_constraints())
        _meter_driver(self.meter)
        self.names: dict[str, str] = {}  # node uuid -> name, from the adds' results
        self.turns: Counter[str] = Counter()
        self.meter.take()

    def _run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def _query(self, text: str, **params: Any) -> list[dict[str, Any]]:
        records, _, _ = self._run(self.graphiti.driver.client.execute_query(text, params))
        return [dict(r) for r in records]

    def add(self, text: str, user_id: str) -> tuple[dict[str, Any], Any]:
        self.turns[user_id] += 1
        when = START + timedelta(minutes=self.turns[user_id])  # one turn a minute, in order
        started, cpu = time.perf_counter(), time.process_time()
        result = self._run(
            self.graphiti.add_episode(
                name=f"turn {self.turns[user_id]}",
                episode_body=f"{SPEAKER}: {text}",
                source_description="chat",
                reference_time=when,
                source=EpisodeType.message,
                group_id=user_id,
            )
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        figures = {"wall_s": wall, "cpu_s": cpu, **self.meter.take().as_dict()}
        self.names.update({node.uuid: node.name for node in result.nodes})
        figures["replaced"] = sum(1 for e in result.edges if e.invalid_at is not None or e.expired_at is not None)
        return figures, result

    def search(self, query: str, user_id: str, limit: int = 5) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
        started, cpu = time.perf_counter(), time.process_time()
        edges = self._run(self.graphiti.search(query, group_ids=[user_id], num_results=2 * limit))
        current = [e for e in edges if e.invalid_at is None and e.expired_at is None][:limit]  # it returns history too
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        figures = {"wall_s": wall, "cpu_s": cpu, **self.meter.take().as_dict()}
        found = [
            (self.names.get(e.source_node_uuid, ""), e.name.lower(), self.names.get(e.target_node_uuid, ""))
            for e in current
        ]
        return figures, found

    def valid_relations(self, user_id: str, relations: list[str]) -> list[dict[str, Any]]:
        rows = self._query(
            "MATCH (s:Entity {group_id: $g})-[r:RELATES_TO]->(t:Entity) "
            "WHERE r.invalid_at IS NULL AND r.expired_at IS NULL AND toLower(r.name) IN $rels "
            "RETURN s.name AS source, toLower(r.name) AS relation, t.name AS target",
            g=user_id,
            rels=relations,
        )
        self.meter.take()
        return rows

    def graph_stats(self, user_id: str) -> dict[str, int]:
        rows = self._query(
            "MATCH (e:Entity {group_id: $g}) OPTIONAL MATCH (e)-[r:RELATES_TO]->(:Entity) "
            "RETURN count(DISTINCT e) AS nodes, count(r) AS relations, "
            "count(CASE WHEN r IS NOT NULL AND r.invalid_at IS NULL AND r.expired_at IS NULL THEN 1 END) "
            "AS valid_relations",
            g=user_id,
        )
        self.meter.take()
        return rows[0]

    def delete(self, user_id: str) -> int:
        rows = self._query("MATCH (n {group_id: $g}) DETACH DELETE n RETURN count(n) AS c", g=user_id)
        self.meter.take()
        return int(rows[0]["c"])

    def _index_names(self) -> set[str]:
        return {r["name"] for r in self._query("SHOW INDEXES YIELD name RETURN name")}

    def created_indexes(self) -> set[str]:
        return self._index_names() - self.indexes_before

    def drop_indexes(self, names: set[str]) -> None:
        for name in sorted(names):
            if re.fullmatch(r"[A-Za-z0-9_]+", name):  # index names as Graphiti makes them
                self._query(f"DROP INDEX `{name}` IF EXISTS")

    def close(self) -> None:
        self._run(self.graphiti.close())
        self.loop.close()
