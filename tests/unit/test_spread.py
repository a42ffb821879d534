"""The associative walk (graphmem/search/spread.py) and the search terms (graphmem/_terms.py), pure:
no Neo4j. The graph tests on real data are in tests/integration/test_associative.py."""

from __future__ import annotations

from graphmem._terms import query_stems, query_words, stem_text
from graphmem.search.spread import Edge, SpreadConfig, Walk, aspect_match, hub_damping, lateral, spread

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
    chain = [
        Edge("a", "s", "x", 0.5, (1.0, 0.0, 0.0)),
        Edge("b", "x", "y", 0.5, (0.0, 1.0, 0.0)),
        Edge("c", "y", "z", 0.5, (0.0, 0.0, 1.0)),
        Edge("d", "z", "w", 0.5, (0.0, 0.0, 1.0)),
    ]
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


def test_a_sideways_step_answers_nothing():
    # "which pastime does Noah enjoy?": Noah -enjoys-> chess <-enjoys- Renate says only that
    # Renate enjoys chess too; without the rule it answered "pastime" and outranked Noah's fact
    graph = [
        Edge("noah", "noah", "chess", 0.6, (0.4, 1.0), relation="enjoys"),
        Edge("renate", "renate", "chess", 0.6, (1.0, 1.0), relation="enjoys"),
    ]
    reached = spread({"noah": 1.0}, graph, {})
    assert ranked(reached)[0] == "noah", reached
    assert lateral(("enjoys", False), "enjoys", False)  # both end at chess
    assert lateral(("parent_of", True), "parent_of", True)  # both start at the parent
    assert not lateral(("brother_of", False), "works_at", True)  # a chain goes on
    assert not lateral(("brother_of", False), "brother_of", True)  # on along the same relation
    assert not lateral(("", False), "", False)  # unnamed relations: no rule


def test_the_walk_fetched_hop_by_hop_finds_what_the_whole_graph_gives():
    walk = Walk({"lena": 1.0}, width=2)
    fetched: set[str] = set()
    around = {node: [e for e in GRAPH if node in (e.source_id, e.target_id)] for node in DEGREE}
    for depth in range(3):
        nodes = walk.wanted(None if depth == 0 else 8, fetched)
        fetched.update(nodes)
        walk.add([e for node in nodes for e in around[node]], DEGREE)
        walk.step()
    assert fetched >= {"lena", "jonas"}
    whole = spread({"lena": 1.0}, GRAPH, DEGREE)
    assert {k: round(v.score, 9) for k, v in walk.best.items()} == {k: round(v.score, 9) for k, v in whole.items()}


def test_the_walk_asks_for_the_best_paths_ends_and_hubs_last():
    graph = [
        Edge("to-hub", "s", "hub", 0.9, (1.0,)),
        Edge("to-person", "s", "person", 0.5, (1.0,)),
        Edge("hub-more", "hub", "x", 0.5, (0.0,)),
    ]
    walk = Walk({"s": 1.0}, width=1)
    assert walk.wanted(None, set()) == ["s"]
    walk.add(graph[:2], {"s": 2, "hub": 400, "person": 3})
    walk.step()
    assert walk.wanted(None, {"s"}) == ["person", "hub"]  # the hub's better path is damped
    assert walk.wanted(1, {"s"}) == ["person"]
    assert walk.wanted(None, {"s", "person", "hub"}) == []


def _random_graph(rng, nodes: int, facts: int, width: int) -> list[Edge]:
    edges = []
    for i in range(facts):
        s, t = rng.randrange(nodes), rng.randrange(nodes)
        aspects = tuple(rng.choice((0.0, 0.0, 0.2, rng.random(), 1.0)) for _ in range(width))
        edges.append(Edge(f"f{i}", f"n{s}", f"n{t}", rng.uniform(-0.2, 0.9), aspects, rng.choice("abcd")))
    return edges


def _top(reached, bonus, limit):
    scores = {f: r.score for f, r in reached.items()}
    for f, points in bonus.items():
        scores[f] = scores.get(f, 0.0) + points
    top = sorted(scores, key=lambda f: scores[f], reverse=True)[:limit]
    return [(f, round(scores[f], 12), reached[f].via if f in reached else None) for f in top]


def test_pruning_by_the_floor_never_changes_the_top_results():
    # branch and bound: paths dropped by walk_floor could not have changed the top `limit`
    import random

    from graphmem.search.fusion import walk_floor

    rng = random.Random(7)
    dropped = 0
    for _ in range(200):
        width, limit = rng.randrange(0, 3), rng.choice((1, 3, 10))
        edges = _random_graph(rng, rng.randrange(5, 40), rng.randrange(5, 120), width)
        degree = {}
        for e in edges:
            degree[e.source_id] = degree.get(e.source_id, 0) + 1
            degree[e.target_id] = degree.get(e.target_id, 0) + 1
        seeds = {f"n{i}": rng.random() for i in range(rng.randrange(1, 4))}
        bonus = {e.fact_id: 1 / (60 + r) for r, e in enumerate(rng.sample(edges, min(len(edges), 8)), start=1)}
        full, pruned = Walk(seeds, width), Walk(seeds, width)
        for walk in (full, pruned):
            walk.add(edges, degree)
        for depth in range(3):
            if depth:
                before = len(pruned._frontier)
                pruned.prune(walk_floor(pruned.best, bonus, limit))
                dropped += before - len(pruned._frontier)
            full.step()
            pruned.step()
        assert _top(pruned.best, bonus, limit) == _top(full.best, bonus, limit)
    assert dropped > 0  # the floor did cut paths, so the equality above was tested


def test_the_floor_is_zero_until_there_are_enough_results():
    from graphmem.search.fusion import walk_floor
    from graphmem.search.spread import Reach

    assert walk_floor({"a": Reach(0.9)}, {}, limit=2) == 0.0
    assert walk_floor({"a": Reach(0.9), "b": Reach(0.5)}, {"b": 0.01}, limit=2) == 0.51 - 0.01


def test_short_words_keep_their_form_and_patterns_match_word_or_stem():
    import re

    from graphmem._terms import stem, word_patterns

    assert stem("us") == "us" and stem("working") == "work" and stem("age") == "ag"
    patterns = word_patterns(["age", "working", "works", "us"])
    assert patterns == ["ag|age", "work\\w*|working|works", "us"]
    text = "Ana works at the US office at age 30, again"
    found = [p for p in patterns if re.search(rf"(?i)\b(?:{p})\b", text)]
    assert found == patterns  # "age" by its word; "again" is not "ag"
    assert not re.search(rf"(?i)\b(?:{patterns[0]})\b", "again and agent")
