"""A scope's memory as a networkx graph, written as GraphML or node-link JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import networkx as nx

from ._models import Fact


def to_networkx(facts: list[Fact]) -> nx.MultiDiGraph:
    """Entities are nodes (id, name, type); facts are keyed edges with their fields.
    Times are ISO strings so every writer can store them."""
    graph = nx.MultiDiGraph()
    for f in facts:
        graph.add_node(f.source_id, name=f.source, type=f.source_type)
        graph.add_node(f.target_id, name=f.target, type=f.target_type)
        graph.add_edge(
            f.source_id,
            f.target_id,
            key=f.id,
            id=f.id,
            relation=f.relation,
            fact=f.fact,
            valid_from=f.valid_from.isoformat(),
            valid_to=f.valid_to.isoformat() if f.valid_to else "",
            mentions=f.mentions,
            confidence=f.confidence,
        )
    return graph


def write_graph(graph: nx.MultiDiGraph, path: Path, fmt: Literal["graphml", "json"]) -> None:
    if fmt == "graphml":
        nx.write_graphml(graph, path)
    else:
        data = nx.node_link_data(graph, edges="edges")
        path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
