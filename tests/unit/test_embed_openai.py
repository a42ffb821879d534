"""OpenAIEmbedder against a real HTTP endpoint on 127.0.0.1 (tests/unit/_embedding_stub.py):
batching, order, unit length, `dimensions`, retries, errors, and make_embedder's laziness."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _embedding_stub import EmbeddingStub

from graphmem._errors import ConfigError, LLMError
from graphmem._settings import load_settings
from graphmem.embed import LazyEmbedder, make_embedder
from graphmem.embed.hashing import HashingEmbedder
from graphmem.embed.openai import OpenAIEmbedder

SECRET = "sk-test-embedding-secret-123"
TEXTS = ["Alice works at Acme", "Bob lives in Paris", "", "Alice likes tea", "Paris is in France"]


@pytest.fixture
def stub() -> Iterator[EmbeddingStub]:
    server = EmbeddingStub(dim=64, shuffle=True).start()
    yield server
    server.stop()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Settings from the arguments only, whatever the developer's shell or folder holds."""
    for name in list(os.environ):
        if name.startswith(("GRAPHMEM_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no ./graphmem.toml


def embedder(stub: EmbeddingStub, model: str = "stub-embed", dim: int = 64, **kwargs: Any) -> OpenAIEmbedder:
    kwargs.setdefault("backoff", 0.001)
    kwargs.setdefault("backoff_max", 1.0)
    return OpenAIEmbedder(model, dim=dim, api_key=SECRET, base_url=stub.url, **kwargs)


def close(a: list[float], b: list[float]) -> bool:
    return all(math.isclose(x, y, abs_tol=1e-9) for x, y in zip(a, b, strict=True))


def test_one_request_per_embed_in_input_order_and_unit_length(stub: EmbeddingStub) -> None:
    vectors = embedder(stub).embed(TEXTS)

    assert stub.count == 1
    body = stub.requests[0]
    # an empty string is sent as one space (endpoints reject ""), every other text as is
    assert body["input"] == [t or " " for t in TEXTS]
    assert body["model"] == "stub-embed" and body["encoding_format"] == "float"
    assert "dimensions" not in body  # only the text-embedding-3 models take it
    assert stub.authorizations == [f"Bearer {SECRET}"]

    # the stub lists them in reverse and not normalised: put back by `index`, made unit length
    expected = HashingEmbedder(64).embed([t or " " for t in TEXTS])
    assert len(vectors) == len(TEXTS)
    for got, want in zip(vectors, expected, strict=True):
        assert len(got) == 64
        assert math.isclose(math.sqrt(sum(v * v for v in got)), 1.0, abs_tol=1e-9)
        assert close(got, want)

    assert close(embedder(stub).embed_one("Bob lives in Paris"), expected[1])
    assert stub.count == 2


def test_an_empty_batch_makes_no_request(stub: EmbeddingStub) -> None:
    assert embedder(stub).embed([]) == []
    assert stub.count == 0


def test_dimensions_is_sent_only_to_the_text_embedding_3_models(stub: EmbeddingStub) -> None:
    small = embedder(stub, "text-embedding-3-small", dim=32)
    vectors = small.embed(["one", "two"])
    assert stub.requests[-1]["dimensions"] == 32
    assert [len(v) for v in vectors] == [32, 32]

    embedder(stub, "nomic-embed-text", dim=64).embed(["one"])
    assert "dimensions" not in stub.requests[-1]


def test_vectors_of_another_length_are_a_config_error_naming_the_fix(stub: EmbeddingStub) -> None:
    wrong = embedder(stub, "nomic-embed-text", dim=768)  # the stub makes 64
    with pytest.raises(ConfigError) as caught:
        wrong.embed(["Alice works at Acme"])
    message = str(caught.value)
    assert "'nomic-embed-text'" in message and "64-dimensional" in message and "768" in message
    assert "GRAPHMEM_EMBEDDING_DIM=64" in message
    assert stub.count == 1  # not retried


def test_a_429_is_retried_after_its_retry_after(stub: EmbeddingStub) -> None:
    stub.fail_next(
        429,
        {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"},
        {"retry-after": "0.3"},
    )
    started = time.monotonic()
    vectors = embedder(stub).embed(["Alice works at Acme", "Bob lives in Paris"])
    assert time.monotonic() - started >= 0.3  # the endpoint's wait, not the tiny backoff
    assert stub.count == 2 and stub.requests[0] == stub.requests[1]
    assert close(vectors[0], HashingEmbedder(64).embed_one("Alice works at Acme"))


def test_server_errors_are_retried_then_reported(stub: EmbeddingStub) -> None:
    stub.fail_next(503, {"message": "overloaded"})
    assert len(embedder(stub).embed(["x"])) == 1
    assert stub.count == 2

    for _ in range(3):
        stub.fail_next(500, {"message": "boom"})
    with pytest.raises(LLMError, match=r"HTTP 500\) after 3 attempt"):
        embedder(stub, max_retries=2).embed(["x"])
    assert stub.count == 5


def test_an_exhausted_quota_is_not_retried(stub: EmbeddingStub) -> None:
    stub.fail_next(429, {"message": "You exceeded your current quota", "code": "insufficient_quota"})
    with pytest.raises(LLMError, match="quota"):
        embedder(stub).embed(["x"])
    assert stub.count == 1


def test_a_400_is_not_retried_and_the_error_names_the_endpoint_but_not_the_key(stub: EmbeddingStub) -> None:
    stub.fail_next(400, {"message": f"bad input for key {SECRET}", "type": "invalid_request_error"})
    with pytest.raises(LLMError) as caught:
        embedder(stub).embed(["x"])
    message = str(caught.value)
    assert stub.count == 1
    assert "HTTP 400" in message and "'stub-embed'" in message and stub.url in message
    assert SECRET not in message and "sk-test" not in message
    assert SECRET not in repr(embedder(stub))


def test_an_unreachable_endpoint_is_an_llm_error_naming_it(stub: EmbeddingStub) -> None:
    gone = EmbeddingStub()  # bound, never started, then closed: its port refuses
    url = gone.url
    gone.server_close()
    lost = OpenAIEmbedder("stub-embed", dim=64, base_url=url, max_retries=1, backoff=0.001, backoff_max=0.01)
    with pytest.raises(LLMError, match="could not be reached after 2 attempt") as caught:
        lost.embed(["x"])
    assert url in str(caught.value) and "GRAPHMEM_EMBEDDING_BASE_URL" in str(caught.value)


def test_threads_share_one_embedder(stub: EmbeddingStub) -> None:
    shared = embedder(stub)
    results: dict[int, list[list[float]]] = {}

    def work(i: int) -> None:
        results[i] = shared.embed([f"text {i}", f"other {i}"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stub.count == 8
    for i, vectors in results.items():
        assert close(vectors[1], HashingEmbedder(64).embed_one(f"other {i}"))


def test_make_embedder_is_lazy_until_the_first_embed(stub: EmbeddingStub, clean_env: None) -> None:
    settings = load_settings(embedder="openai", embedding_base_url=stub.url, embedding_dim=64)
    lazy = make_embedder(settings)
    assert isinstance(lazy, LazyEmbedder) and not lazy.loaded
    assert (lazy.dim, lazy.model_name) == (64, "text-embedding-3-small")
    assert stub.count == 0  # no connection opened by building it

    vectors = lazy.embed(["Alice works at Acme"])
    assert lazy.loaded and stub.count == 1
    assert stub.requests[0]["model"] == "text-embedding-3-small" and stub.requests[0]["dimensions"] == 64
    assert stub.authorizations == ["Bearer not-needed"]  # a local server needs no key: a placeholder
    assert close(vectors[0], HashingEmbedder(64).embed_one("Alice works at Acme"))


def test_from_settings_picks_the_endpoint_and_its_key(stub: EmbeddingStub, clean_env: None) -> None:
    llm_key = "sk-llm-key-for-the-chat-endpoint"
    # the embeddings' own endpoint and key
    own = OpenAIEmbedder.from_settings(
        load_settings(embedding_base_url=stub.url, embedding_api_key=SECRET, llm_max_retries=1),
        model="stub-embed",
        dim=64,
    )
    assert own.base_url.startswith(stub.url) and own.max_retries == 1 and own.timeout == 30.0
    own.embed(["x"])
    # the LLM's endpoint and key when the embeddings have none of their own
    shared = OpenAIEmbedder.from_settings(
        load_settings(openai_base_url=stub.url, openai_api_key=llm_key, embedding_timeout=5), model="stub-embed", dim=64
    )
    assert shared.timeout == 5.0
    shared.embed(["x"])
    # the LLM's key is not sent to another server
    OpenAIEmbedder.from_settings(
        load_settings(embedding_base_url=stub.url, openai_api_key=llm_key), model="stub-embed", dim=64
    ).embed(["x"])
    assert stub.authorizations == [f"Bearer {SECRET}", f"Bearer {llm_key}", "Bearer not-needed"]

    openai_default = OpenAIEmbedder.from_settings(load_settings(openai_api_key=llm_key), model="stub-embed", dim=64)
    assert openai_default.base_url.startswith("https://api.openai.com/v1")


def test_no_key_and_no_url_is_a_config_error_naming_both_and_the_local_model(clean_env: None) -> None:
    settings = load_settings(embedder="openai", embedding_dim=64)
    lazy = make_embedder(settings)  # known name and dimension: nothing to fail yet
    with pytest.raises(ConfigError) as caught:
        lazy.embed(["x"])
    message = str(caught.value)
    for name in (
        "GRAPHMEM_EMBEDDING_API_KEY",
        "OPENAI_API_KEY",
        "GRAPHMEM_EMBEDDING_BASE_URL",
        "OPENAI_BASE_URL",
        "GRAPHMEM_EMBEDDER=minilm",
    ):
        assert name in message
    with pytest.raises(ConfigError, match="GRAPHMEM_EMBEDDING_API_KEY"):
        OpenAIEmbedder.from_settings(settings, model="stub-embed", dim=64)


def test_long_texts_are_cut_and_big_batches_split_at_the_endpoints_limits(stub: EmbeddingStub) -> None:
    from graphmem.embed.openai import MAX_INPUT_CHARS, MAX_REQUEST_CHARS, request_chunks

    embedder = OpenAIEmbedder("stub-embed", dim=64, base_url=stub.url, max_retries=0)
    long_turn = "word " * 20_000  # 100,000 characters
    vectors = embedder.embed([long_turn, "short"])
    assert len(vectors) == 2 and len(stub.requests) == 1
    assert [len(t) for t in stub.requests[0]["input"]] == [MAX_INPUT_CHARS, 5]

    many = [f"turn {i} " + "x" * (MAX_INPUT_CHARS - 20) for i in range(100)]  # ~600,000 characters
    chunks = request_chunks(many)
    assert [t for chunk in chunks for t in chunk] == many and len(chunks) > 1
    assert all(sum(map(len, chunk)) <= MAX_REQUEST_CHARS for chunk in chunks)
    stub.requests.clear()
    vectors = embedder.embed(many)
    assert len(stub.requests) == len(chunks)
    expected = embedder.embed(many[:50]) + embedder.embed(many[50:])  # order kept across requests
    assert all(math.isclose(a, b, abs_tol=1e-12) for u, v in zip(vectors, expected) for a, b in zip(u, v))
