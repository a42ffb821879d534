"""mem0 1.0.11's graph memory under the benchmark: its own MemoryGraph, an LLM stand-in.

Only the graph part of mem0 runs: `mem0.memory.graph_memory.MemoryGraph(config)` directly,
with its `add(data, filters)` and `search(query, filters, limit)`. `Memory.add` would also run
mem0's vector-store memory (one more LLM call for fact extraction, one for the update
decision, and a vector store), which graphmem has no counterpart for.

The stand-in is a mem0 `LLMBase` answering `generate_response(messages, tools=...)` with the
tool-call dict mem0's OpenAI LLM returns ({"content", "tool_calls": [{"name", "arguments"}]}):
  extract_entities        -> the script's entities of the text
  establish_relationships -> the script's relations of the text
  delete_graph_memory     -> one call per stored relation that the text replaces: same source,
                             same functional relation (lives_in, works_at), other destination
                             (the rule the graphmem stand-in applies to its resolve call)
It reads only what mem0 puts in the prompt (the text, the existing-memories list).

mem0 is configured as with OpenAI (provider "openai", a placeholder key: the client is never
used) and the stand-in then replaces `graph.llm`; so mem0 picks its plain (non-"structured")
tools, as with OpenAI. `base_label=True` puts every node under `__Entity__` with an index on
user_id (mem0's recommended set-up; without it every lookup scans the whole database).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import Any

os.environ.setdefault("MEM0_TELEMETRY", "False")
os.environ.setdefault("MEM0_DIR", os.path.join(tempfile.gettempdir(), "sidebyside-mem0"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from mem0.configs.base import MemoryConfig  # noqa: E402
from mem0.configs.llms.base import BaseLlmConfig  # noqa: E402
from mem0.llms.base import LLMBase  # noqa: E402
from mem0.memory.graph_memory import MemoryGraph  # noqa: E402

from .data import FUNCTIONAL, Extraction  # noqa: E402
from .meter import Meter  # noqa: E402

MODEL = "gpt-4o-mini"  # only named in the estimated request; nothing is sent anywhere
MEM0_INDEXES = ("entity_single", "entity_composite")


def mem0_name(text: str) -> str:
    """How mem0 normalises names and relations it gets from the LLM."""
    return text.lower().replace(" ", "_")


class Mem0StandIn(LLMBase):
    def __init__(self, answers: dict[str, Extraction], meter: Meter):
        super().__init__(BaseLlmConfig(model=MODEL))
        self.answers = answers
        self.meter = meter

    def _lookup(self, text: str) -> Extraction:
        try:
            return self.answers[text]
        except KeyError:
            raise RuntimeError(f"stand-in has no scripted answer for {text!r}") from None

    def generate_response(
        self, messages: list[dict[str, str]], tools: list[dict] | None = None, tool_choice: str = "auto", **kwargs: Any
    ) -> dict[str, Any]:
        started, cpu = time.perf_counter(), time.process_time()
        tool = tools[0]["function"]["name"] if tools else None
        user = messages[-1]["content"]
        if tool == "extract_entities":
            found = self._lookup(user)
            calls = [
                {
                    "name": "extract_entities",
                    "arguments": {"entities": [{"entity": n, "entity_type": t} for n, t in found.entities]},
                }
            ]
        elif tool == "establish_relationships":
            text = user.rsplit("\n\nText: ", 1)[1]
            found = self._lookup(text)
            calls = [
                {
                    "name": "establish_relationships",
                    "arguments": {
                        "entities": [
                            {"source": r.source, "relationship": r.relation, "destination": r.target}
                            for r in found.relations
                        ]
                    },
                }
            ]
        elif tool == "delete_graph_memory":
            existing, text = user.rsplit(" \n\n New Information: ", 1)
            existing = existing.removeprefix("Here are the existing memories: ")
            calls = [
                {"name": "delete_graph_memory", "arguments": d} for d in self._deletions(existing, self._lookup(text))
            ]
        else:
            raise RuntimeError(f"stand-in got an unexpected mem0 call (tools={tool!r})")
        # what the model would emit: each tool call's name and JSON arguments
        emitted = [{"name": c["name"], "arguments": json.dumps(c["arguments"])} for c in calls]
        request = {"model": MODEL, "messages": messages, "tools": tools, "tool_choice": tool_choice}
        self.meter.llm(request, emitted if emitted else "", time.perf_counter() - started, time.process_time() - cpu)
        return {"content": None, "tool_calls": calls}

    @staticmethod
    def _deletions(existing: str, found: Extraction) -> list[dict[str, str]]:
        stored = []
        for line in existing.splitlines():
            parts = line.split(" -- ")
            if len(parts) == 3:
                stored.append(tuple(parts))
        out: list[dict[str, str]] = []
        for r in found.relations:
            if r.relation not in FUNCTIONAL:
                continue
            for source, relation, destination in stored:
                if source == mem0_name(r.source) and relation == r.relation and destination != mem0_name(r.target):
                    item = {"source": source, "relationship": relation, "destination": destination}
                    if item not in out:
                        out.append(item)
        return out


class Mem0Side:
    name = "mem0"

    def __init__(
        self, *, url: str, user: str, password: str, database: str, model_path: str, answers: dict[str, Extraction]
    ):
        self.meter = Meter()
        config = MemoryConfig(
            embedder={
                "provider": "huggingface",
                "config": {"model": model_path, "embedding_dims": 384, "model_kwargs": {"device": "cpu"}},
            },
            llm={"provider": "openai", "config": {"model": MODEL, "api_key": "sk-placeholder-never-used"}},
            graph_store={
                "provider": "neo4j",
                "config": {
                    "url": url,
                    "username": user,
                    "password": password,
                    "database": database,
                    "base_label": True,
                },
            },
        )
        self.graph = MemoryGraph(config)  # creates mem0's indexes (not counted)
        self.graph.llm = Mem0StandIn(answers, self.meter)
        self._raw_query = self.graph.graph.query
        meter = self.meter

        def query(*args: Any, **kwargs: Any) -> Any:
            with meter.neo4j():
                return self._raw_query(*args, **kwargs)

        self.graph.graph.query = query
        embedder = self.graph.embedding_model
        raw_embed = embedder.embed

        def embed(text: Any, *args: Any, **kwargs: Any) -> Any:
            with meter.embed(1 if isinstance(text, str) else len(text)):
                return raw_embed(text, *args, **kwargs)

        embedder.embed = embed
        self.meter.take()

    def add(self, text: str, user_id: str) -> tuple[dict[str, Any], Any]:
        started, cpu = time.perf_counter(), time.process_time()
        result = self.graph.add(text, {"user_id": user_id})
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        figures = {"wall_s": wall, "cpu_s": cpu, **self.meter.take().as_dict()}
        # what reading graph_memory.py predicts: one similarity query per extracted entity, one
        # update per deleted relation, and per relation two node look-ups and one MERGE; and one
        # single-text embedding per entity plus two per relation
        found = self.graph.llm.answers[text]
        entities = len({mem0_name(n) for n, _ in found.entities})
        relations = len(found.relations)
        figures["predicted_neo4j_queries"] = entities + len(result["deleted_entities"]) + 3 * relations
        figures["predicted_embed_calls"] = entities + 2 * relations
        figures["replaced"] = sum(len(rows) for rows in result["deleted_entities"])  # relations soft-deleted
        return figures, result

    def search(self, query: str, user_id: str, limit: int = 5) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
        started, cpu = time.perf_counter(), time.process_time()
        hits = self.graph.search(query, {"user_id": user_id}, limit=100)  # mem0 returns its BM25 top 5
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        figures = {"wall_s": wall, "cpu_s": cpu, **self.meter.take().as_dict()}
        return figures, [(h["source"], h["relationship"], h["destination"]) for h in hits[:limit]]

    def graph_stats(self, user_id: str) -> dict[str, int]:
        rows = self._raw_query(
            "MATCH (e:`__Entity__` {user_id: $u}) "
            "OPTIONAL MATCH (e)-[r]->(:`__Entity__` {user_id: $u}) "
            "RETURN count(DISTINCT e) AS nodes, count(r) AS relations, "
            "count(CASE WHEN r IS NOT NULL AND (r.valid IS NULL OR r.valid = true) THEN 1 END) AS valid_relations",
            params={"u": user_id},
        )
        return dict(rows[0])

    def delete(self, user_id: str) -> int:
        before = self.graph_stats(user_id)["nodes"]
        self._raw_query("MATCH (n:`__Entity__` {user_id: $u}) DETACH DELETE n", params={"u": user_id})
        return before

    def existing_indexes(self) -> set[str]:
        rows = self._raw_query(
            "SHOW INDEXES YIELD name WHERE name IN $names RETURN name", params={"names": list(MEM0_INDEXES)}
        )
        return {r["name"] for r in rows}

    def drop_indexes(self, names: set[str]) -> None:
        for name in sorted(names):
            self._raw_query(f"DROP INDEX `{name}` IF EXISTS")

    def close(self) -> None:
        self.graph.graph.close()


def preexisting_indexes(url: str, user: str, password: str, database: str) -> set[str]:
    """mem0's index names present before mem0 first connects (so only those it creates are dropped)."""
    import neo4j

    with neo4j.GraphDatabase.driver(url, auth=(user, password)) as driver:
        records, _, _ = driver.execute_query(
            "SHOW INDEXES YIELD name WHERE name IN $names RETURN name",
            {"names": list(MEM0_INDEXES)},
            database_=database,
        )
    return {r["name"] for r in records}
