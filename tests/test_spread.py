"""The associative walk (graphmem/_spread.py) and the search terms (graphmem/_terms.py), pure:
no Neo4j. The graph tests on real data are in tests/test_associative.py."""

from __future__ import annotations

from graphmem._spread import Edge, SpreadConfig, aspect_match, hub_damping, spread
from graphmem._terms import query_stems, query_words, stem_text

# aspects: ("brother", "work")
LENA_BROTHER = Edge("f-brother", "jonas", "lena", similarity=0.6, aspects=(1.0, 0.0))
JONAS_JOB = Edge("f-jonas-job", "jonas", "bosch", similarity=0.4, aspects=(0.0, 1.0))
LENA_JOB = Edge("f-lena-job", "lena", "acme", similarity=0.7, aspects=(0.0, 1.0))
LENA_CITY = Edge("f-lena-city", "lena", "berlin", similarity=0.5, aspects=(0.0, 0.1))
JONAS_CITY = Edge("f-jonas-city", "jonas", "munich", similarity=0.3, aspects=(0.0, 0.1))
GRAPH = [LENA_BROTHER, JONAS_JOB, LENA_JOB, LENA_CITY, JONAS_CITY]
DEGREE = {"lena": 3, "jonas": 3, "bosch": 1, "acme": 1, "berlin": 1, "munich": 1}


def ranked(reached):
    return [fact for fact, _ in sorted(reached.items(), key=lambda kv: kv[1].score, reverse=True)]


def test_the_chain_that_answers_every_part_outranks_the_seed_s_own_fact():
    reached = spread({"lena": 1.0}, GRAPH, DEGREE)
    order = ranked(reached)
    assert order[0] == "f-jonas-job", order
    assert reached["f-jonas-job"].via == ("f-brother",)
    assert reached["f-jonas-job"].hops == 2
    assert order.index("f-jonas-job") < order.index("f-lena-job")


def test_a_one_part_question_keeps_the_direct_fact_first():
    # "where does Lena work?": one aspect; the chain through her brother covers nothing more
    one_aspect = [Edge(e.fact_id, e.source_id, e.target_id, e.similarity, e.aspects[1:]) for e in GRAPH]
    assert ranked(spread({"lena": 1.0}, one_aspect, DEGREE))[0] == "f-lena-job"


def test_a_fact_after_the_answered_part_that_asks_nothing_drifts_down():
    reached = spread({"lena": 1.0}, GRAPH, DEGREE)
    # Jonas's city comes after "brother" was answered but says nothing about work
    assert reached["f-jonas-city"].score < reached["f-lena-job"].score


def test_three_hops_are_reached_and_the_bound_holds():
    chain = [Edge("a", "s", "x", 0.5, (1.0, 0.0, 0.0)), Edge("b", "x", "y", 0.5, (0.0, 1.0, 0.0)),
             Edge("c", "y", "z", 0.5, (0.0, 0.0, 1.0)), Edge("d", "z", "w", 0.5, (0.0, 0.0, 1.0))]
    reached = spread({"s": 1.0}, chain, {})
    assert ranked(reached)[0] == "c" and reached["c"].via == ("a", "b")
    assert "d" not in reached  # a fourth fact is past the default bound
    assert "c" not in spread({"s": 1.0}, chain, {}, SpreadConfig(max_hops=2))


def test_a_hub_passes_on_less():
    # the same chain, once through a node of 400 facts: its continuation scores lower
    through_hub = spread({"lena": 1.0}, GRAPH, {**DEGREE, "jonas": 400})
    normal = spread({"lena": 1.0}, GRAPH, DEGREE)
    assert through_hub["f-jonas-job"].score < normal["f-jonas-job"].score / 3
    assert hub_damping(20, 20) == 1.0 and hub_damping(80, 20) == 0.5


def test_seed_weight_scales_paths_and_no_seed_reaches_nothing():
    assert spread({}, GRAPH, DEGREE) == {}
    strong = spread({"lena": 1.0}, GRAPH, DEGREE)
    weak = spread({"lena": 0.5}, GRAPH, DEGREE)
    assert abs(weak["f-lena-job"].score - strong["f-lena-job"].score / 2) < 1e-9


def test_no_cycles_and_no_fact_twice():
    loop = [Edge("a", "s", "x", 0.5, (1.0,)), Edge("b", "x", "s", 0.5, (1.0,))]
    reached = spread({"s": 1.0}, loop, {})
    assert all(fact not in reach.via for fact, reach in reached.items())


def test_aspect_match():
    assert aspect_match(True, -1.0) == 1.0
    assert aspect_match(False, 0.05) == 0.0
    assert aspect_match(False, 0.9) == 1.0
    assert 0.0 < aspect_match(False, 0.25) < 1.0


def test_terms_stem_both_sides_alike():
    assert query_stems("Where does Lena's brother work?") == ["lena", "brother", "work"]
    assert query_words("Where WORKED the brothers?") == ["worked", "brothers"]
    text = stem_text("Jonas worked at Bosch; his studies were in Munich.")
    for word in ("working", "works", "study", "bosch"):
        assert f" {query_stems(word)[0]} " in text, word
    assert " lena " in stem_text("Lena's brother")
