"""How Neo4j Browser draws a memory under an ontology: a colour and caption per declared type."""

from __future__ import annotations

from .model import Ontology

#: Browser colours for declared types (fill, border), in declaration order
_PALETTE = [
    ("#4C8EDA", "#2870C2"),
    ("#57C7E3", "#23B3D7"),
    ("#F79767", "#F36924"),
    ("#8DCC93", "#5DB665"),
    ("#D9C8AE", "#C0A378"),
    ("#C990C0", "#B261A5"),
    ("#F16667", "#EB2728"),
    ("#FFC454", "#D7A013"),
    ("#ECB5C9", "#DA7298"),
    ("#569480", "#447666"),
]


def browser_style(ontology: Ontology, base: str) -> str:
    """`base` (graphmem's Browser style) with a block per declared type: its own colour, its
    name as the caption. A subtype shares its root type's colour, drawn smaller."""
    blocks = [base.rstrip(), f"/* the declared types of ontology {ontology.name!r} */"]
    roots = [t.name for t in ontology.entity_types if t.parent is None]
    for t in ontology.entity_types:
        root = ontology.ancestors(t.name)[-1]
        fill, border = _PALETTE[roots.index(root) % len(_PALETTE)] if root in roots else _PALETTE[0]
        size = "65px" if t.parent is None else "55px"
        blocks.append(
            f"node.{t.name} {{\n  color: {fill};\n  border-color: {border};\n  text-color-internal: #FFFFFF;\n"
            f"  diameter: {size};\n  caption: '{{name}}';\n}}"
        )
    return "\n\n".join(blocks) + "\n"
