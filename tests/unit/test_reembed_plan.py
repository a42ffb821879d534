"""What `graphmem init --reembed` must do given the schema status and the configured embedder
(graphmem/store/reembed.decide), and what opening a memory says meanwhile: without Neo4j."""

from __future__ import annotations

import pytest

from graphmem._errors import ConfigError, SchemaError
from graphmem.embed import HashingEmbedder
from graphmem.store.reembed import KINDS, _check_vectors, decide
from graphmem.store.schema import VECTOR_INDEXES, SchemaStatus, check_dimensions, check_reembed

NO_CURSORS: dict = dict.fromkeys(KINDS)


def status(
    model: str | None = "hashing-32",
    dim: int | None = 32,
    index_dim: int | None = 32,
    reembed: tuple[str, int] | None = None,
) -> SchemaStatus:
    return SchemaStatus(
        version=6,
        dim=dim,
        model=model,
        indexes={n: "ONLINE" for n in VECTOR_INDEXES} if index_dim else {},
        index_dims=dict.fromkeys(VECTOR_INDEXES, index_dim) if index_dim else {},
        reembed_model=reembed[0] if reembed else None,
        reembed_dim=reembed[1] if reembed else None,
    )


def test_the_embedder_the_memory_holds_has_nothing_to_re_embed() -> None:
    plan = decide(status(), NO_CURSORS, model="hashing-32", dim=32, has_data=True)
    assert plan.action == "none" and not plan.needed and not plan.drop_vector_indexes
    assert "nothing to re-embed" in plan.describe()


def test_another_model_at_the_same_dimension_keeps_the_indexes() -> None:
    plan = decide(status(model="other-32"), NO_CURSORS, model="hashing-32", dim=32, has_data=True)
    assert plan.action == "start" and plan.needed
    assert not plan.drop_vector_indexes
    assert plan.after == dict.fromkeys(KINDS, "")
    assert (plan.from_model, plan.from_dim, plan.model, plan.dim, plan.version) == ("other-32", 32, "hashing-32", 32, 6)
    assert plan.describe() == "re-embedding the stored memory from other-32 (32 dims) to hashing-32 (32 dims)"


def test_another_dimension_drops_the_vector_indexes() -> None:
    plan = decide(status(), NO_CURSORS, model="hashing-64", dim=64, has_data=True)
    assert plan.action == "start" and plan.drop_vector_indexes


def test_the_same_model_at_another_dimension_is_re_embedded() -> None:
    # an OpenAI model asked for shorter vectors (GRAPHMEM_EMBEDDING_DIM) keeps its name
    recorded = status(model="text-embedding-3-small", dim=1536, index_dim=1536)
    plan = decide(recorded, NO_CURSORS, model="text-embedding-3-small", dim=512, has_data=True)
    assert plan.action == "start" and plan.drop_vector_indexes


def test_an_empty_database_of_another_embedder_switches_its_indexes() -> None:
    plan = decide(status(), NO_CURSORS, model="hashing-64", dim=64, has_data=False)
    assert plan.action == "start" and plan.drop_vector_indexes


def test_a_new_database_is_left_to_init() -> None:
    new = status(model=None, dim=None, index_dim=None)
    assert decide(new, NO_CURSORS, model="hashing-64", dim=64, has_data=False).action == "none"


def test_data_of_an_unrecorded_embedder_is_re_embedded() -> None:
    unrecorded = status(model=None, dim=None, index_dim=None)
    plan = decide(unrecorded, NO_CURSORS, model="hashing-64", dim=64, has_data=True)
    assert plan.action == "start" and not plan.drop_vector_indexes
    assert "an unrecorded embedder" in plan.describe()


def test_an_unfinished_re_embedding_to_the_same_target_resumes_after_its_cursors() -> None:
    stopped = status(index_dim=None, reembed=("hashing-64", 64))  # the indexes were dropped already
    cursors = {"entities": "e42", "facts": "", "messages": None}
    plan = decide(stopped, cursors, model="hashing-64", dim=64, has_data=True)
    assert plan.action == "resume" and not plan.drop_vector_indexes
    assert plan.after == {"entities": "e42", "facts": "", "messages": ""}
    assert plan.describe().startswith("resuming the re-embedding")


def test_a_resumed_re_embedding_drops_indexes_a_stopped_run_had_not_dropped_yet() -> None:
    stopped = status(reembed=("hashing-64", 64))  # stopped between recording the target and the drop
    plan = decide(stopped, NO_CURSORS, model="hashing-64", dim=64, has_data=True)
    assert plan.action == "resume" and plan.drop_vector_indexes


def test_an_unfinished_re_embedding_to_another_target_starts_over() -> None:
    stopped = status(index_dim=None, reembed=("hashing-64", 64))
    cursors = {"entities": "e42", "facts": "f7", "messages": "m1"}
    for model, dim in (("hashing-48", 48), ("hashing-32", 32), ("hashing-64", 48)):
        plan = decide(stopped, cursors, model=model, dim=dim, has_data=True)
        assert plan.action == "restart", (model, dim)
        assert plan.after == dict.fromkeys(KINDS, "")
    # back to the recorded embedder: every vector is made again (those already moved are not its)
    back = decide(status(reembed=("hashing-64", 64)), cursors, model="hashing-32", dim=32, has_data=True)
    assert back.action == "restart" and not back.drop_vector_indexes


def test_opening_a_memory_whose_re_embedding_is_unfinished_names_the_fix() -> None:
    check_reembed(status())  # none under way: fine
    with pytest.raises(SchemaError, match=r"hashing-32 to hashing-64 \(64 dims\) was stopped") as raised:
        check_reembed(status(reembed=("hashing-64", 64)))
    assert "`graphmem init --reembed`" in str(raised.value)


def test_a_dimension_mismatch_names_the_re_embedding() -> None:
    with pytest.raises(SchemaError, match=r"holds 32-dimensional vectors .*`graphmem init --reembed`"):
        check_dimensions(status(), 64, "hashing-64")


def test_vectors_of_another_length_than_configured_are_refused() -> None:
    embedder = HashingEmbedder(64)
    _check_vectors(embedder, 2, embedder.embed(["a", "b"]))
    with pytest.raises(ConfigError, match="returned 32-dimensional vectors but is configured for 64"):
        _check_vectors(embedder, 1, HashingEmbedder(32).embed(["a"]))
    with pytest.raises(ConfigError, match="returned 1 vectors for 2 texts"):
        _check_vectors(embedder, 2, embedder.embed(["a"]))
