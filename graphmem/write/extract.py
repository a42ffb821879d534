"""Extraction stages: entity extractor (LLM stage 1), relationship generator (LLM stage 2),
or both in a single pass. Output is cleaned the same way whichever backend made it."""

from __future__ import annotations

from collections.abc import Iterable

from .._models import Entity, ExtractionInput, GraphExtraction, Triplet, Usage, normalize_name
from ..llm.base import LLM

FIRST_PERSON = {"i", "me", "my", "mine", "myself", "user", "the user"}


def _speaker_of(name: str, source: ExtractionInput) -> str:
    """'I'/'me'/'my' (and a bare 'user') become the speaker when the turns have one speaker."""
    speakers = source.speakers
    if normalize_name(name) in FIRST_PERSON and len(speakers) == 1:
        return speakers[0]
    return name


def extract_entities(llm: LLM, source: ExtractionInput, usage: Usage) -> list[Entity]:
    result = llm.extract_entities(source, usage)
    return _dedupe_entities(e.model_copy(update={"name": _speaker_of(e.name, source)}) for e in result.entities)


def generate_relations(llm: LLM, source: ExtractionInput, entities: list[Entity], usage: Usage) -> list[Triplet]:
    return llm.extract_relations(source, entities, usage).triplets


def extract(llm: LLM, source: ExtractionInput, usage: Usage, *, single_pass: bool = False) -> GraphExtraction:
    """Run the extraction stages. Two-pass stops after stage 1 when it found no entity."""
    if single_pass:
        raw = llm.extract_graph(source, usage)
        entities, triplets = list(raw.entities), list(raw.triplets)
    else:
        entities = extract_entities(llm, source, usage)
        triplets = generate_relations(llm, source, entities, usage) if entities else []
    return clean(source, entities, triplets)


def clean(source: ExtractionInput, entities: list[Entity], triplets: list[Triplet]) -> GraphExtraction:
    """Resolve first person, type triplet ends from the entity list, drop self-loops and repeats."""
    types = {normalize_name(e.name): e.type for e in entities}
    kept: dict[tuple[str, str, str], Triplet] = {}
    for t in triplets:
        src, dst = _speaker_of(t.source, source), _speaker_of(t.target, source)
        if normalize_name(src) == normalize_name(dst):
            continue
        triplet = t.model_copy(
            update={
                "source": src,
                "target": dst,
                "source_type": _typed(t.source_type, types.get(normalize_name(src))),
                "target_type": _typed(t.target_type, types.get(normalize_name(dst))),
            }
        )
        kept.setdefault((normalize_name(src), triplet.relation, normalize_name(dst)), triplet)
    all_entities = list(entities) + [
        Entity(name=name, type=kind)
        for t in kept.values()
        for name, kind in ((t.source, t.source_type), (t.target, t.target_type))
    ]
    return GraphExtraction(entities=_dedupe_entities(all_entities), triplets=list(kept.values()))


def _typed(own: str, listed: str | None) -> str:
    if own != "Entity":
        return own
    return listed or own


def _dedupe_entities(entities: Iterable[Entity]) -> list[Entity]:
    """One entity per normalised name; a specific type wins over the generic 'Entity', and
    the attributes of all its mentions are kept."""
    seen: dict[str, Entity] = {}
    for e in entities:
        key = normalize_name(e.name)
        if key not in seen:
            seen[key] = e
            continue
        kept = e if seen[key].type == "Entity" and e.type != "Entity" else seen[key]
        other = seen[key] if kept is e else e
        if other.attributes:
            kept = kept.model_copy(update={"attributes": kept.attributes + other.attributes})
        seen[key] = kept
    return list(seen.values())
