"""The commands that embed nothing load neither an embedder nor an LLM client, against the
real Neo4j, with an LLM endpoint configured (so the client would be built if anything asked
for it); `search` does load the model, which shows the probe can see it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_light_imports import heavy, loaded_modules, run_cli  # noqa: E402

pytestmark = pytest.mark.neo4j


@pytest.fixture
def env(cli_env: dict[str, str], monkeypatch) -> dict[str, str]:
    # an endpoint nobody listens on: building the client costs the import, calling it would fail
    return {**cli_env, "GRAPHMEM_LLM_PROVIDER": "openai", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}


def test_commands_that_embed_nothing_load_no_model_and_no_llm_client(
    env: dict[str, str], memory, new_user, tmp_path: Path
) -> None:
    user = new_user("light")
    memory.add_triplets([{"source": "Anna", "relation": "works_at", "target": "Bosch"}], user_id=user)
    commands = [
        ["facts", "--user", user, "--json"],
        ["history", "Anna", "--user", user, "--json"],
        ["stats", "--user", user, "--json"],
        ["export", "--user", user, "-o", str(tmp_path / "g.json")],
        ["cypher", "RETURN 1 AS one", "--json"],
        ["browser"],
        ["delete", "--user", user, "--yes"],
    ]
    for args in commands:
        assert heavy(loaded_modules(run_cli(*args), env=env, cwd=tmp_path)) == [], args


def test_search_loads_the_model_but_not_the_llm_client(env: dict[str, str], new_user, tmp_path: Path) -> None:
    modules = loaded_modules(
        run_cli("search", "where does Anna work", "--user", new_user("light")), env=env, cwd=tmp_path
    )
    assert {"onnxruntime", "graphmem.embed.minilm"} <= set(heavy(modules))
    assert "openai" not in modules
