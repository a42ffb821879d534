"""The search modes as recipes: every mode has one, every signal a recipe names is registered,
and the table is the one the retriever ran before it was data (lists, order, fusion)."""

from __future__ import annotations

from graphmem.search.recipes import MODES, RECIPES, SIGNALS


def test_every_mode_has_a_recipe_of_registered_signals() -> None:
    assert tuple(RECIPES) == MODES
    for name, recipe in RECIPES.items():
        assert recipe.signals, name
        assert all(signal in SIGNALS for signal in recipe.signals), name
    assert all(name == spec.name for name, spec in SIGNALS.items())


def test_the_recipes_run_the_lists_they_ran() -> None:
    assert {mode: (r.signals, r.fusion, r.turns, r.embeds, r.embeds_words) for mode, r in RECIPES.items()} == {
        "associative": (("triplet", "keyword", "episode", "named"), "walk", True, True, True),
        "hybrid": (("triplet", "keyword", "entity", "episode"), "rrf", True, True, False),
        "entity": (("entity",), "single", False, True, False),
        "triplet": (("triplet",), "single", False, True, False),
        "keyword": (("keyword",), "single", False, False, False),
        "episode": (("episode",), "turns", True, True, False),
    }
    assert {name for name, spec in SIGNALS.items() if spec.cached is not None} == set(SIGNALS)
