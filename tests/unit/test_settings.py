"""Settings: sources, precedence and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphmem import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (
        "NEO4J_URI",
        "NEO4J_PASSWORD",
        "GRAPHMEM_HOME",
        "GRAPHMEM_CONFIG",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "GRAPHMEM_LLM_PROVIDER",
        "XDG_CACHE_HOME",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_unrelated_home_variable_does_not_move_the_managed_server(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert load_settings().home == tmp_path / "cache" / "graphmem"
    monkeypatch.setenv("GRAPHMEM_HOME", str(tmp_path / "gm"))
    assert load_settings().home == tmp_path / "gm"


def test_config_file_is_read_and_environment_wins(monkeypatch, tmp_path):
    Path("graphmem.toml").write_text('neo4j_uri = "bolt://filehost:7687"\nllm_model = "from-file"\n')
    cfg = load_settings()
    assert cfg.neo4j_uri == "bolt://filehost:7687" and cfg.llm_model == "from-file"
    monkeypatch.setenv("NEO4J_URI", "bolt://envhost:7687")
    assert load_settings().neo4j_uri == "bolt://envhost:7687"


def test_bad_values_name_the_variable(monkeypatch):
    monkeypatch.setenv("NEO4J_URI", "http://localhost:7474")
    with pytest.raises(ConfigError, match="NEO4J_URI"):
        load_settings()
    monkeypatch.delenv("NEO4J_URI")
    monkeypatch.setenv("GRAPHMEM_BOLT_PORT", "99999")
    with pytest.raises(ConfigError, match="GRAPHMEM_BOLT_PORT"):
        load_settings()


def test_missing_config_file_named_by_variable_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHMEM_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="nope.toml"):
        load_settings()


def test_llm_provider_follows_openai_settings(monkeypatch):
    assert load_settings().resolved_llm_provider == "offline"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    assert load_settings().resolved_llm_provider == "openai"
    monkeypatch.setenv("GRAPHMEM_LLM_PROVIDER", "offline")
    assert load_settings().resolved_llm_provider == "offline"


def test_password_missing_for_managed_server_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHMEM_HOME", str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match="graphmem neo4j start"):
        load_settings().password()


def test_secrets_stay_out_of_reprs(monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "pw-not-for-logs")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-logs")
    settings = load_settings()
    assert settings.password() == "pw-not-for-logs" and settings.openai_api_key == "sk-not-for-logs"
    assert "not-for-logs" not in repr(settings) and "not-for-logs" not in str(settings)


def test_the_conflict_threshold_reaches_the_detector(monkeypatch):
    from neo4j import GraphDatabase

    from graphmem import GraphMemory
    from graphmem.embed.hashing import HashingEmbedder
    from graphmem.llm import OfflineLLM
    from graphmem.store.transport import Store

    assert load_settings().conflict_threshold == 0.85
    monkeypatch.setenv("GRAPHMEM_CONFLICT_THRESHOLD", "0.7")
    settings = load_settings()
    # no schema applied: the store is never reached (the driver connects on first use)
    store = Store(GraphDatabase.driver("bolt://127.0.0.1:9"), database="neo4j", uri="bolt://127.0.0.1:9", user="neo4j")
    memory = GraphMemory(store, llm=OfflineLLM(), embedder=HashingEmbedder(), settings=settings, apply_schema=False)
    assert memory.writer.detector.fact_threshold == 0.7
