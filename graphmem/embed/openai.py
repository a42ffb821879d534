"""Embeddings from any OpenAI-compatible /embeddings endpoint: OpenAI, Azure (via base_url),
Ollama, vLLM, llama.cpp, LM Studio and similar servers.

One request per `embed` call (the whole batch, split only past the endpoint's limits per
request), vectors put back in input order by their `index` and normalised to unit length (not
every server does). Texts are cut at MAX_INPUT_CHARS characters. Retries, error texts and
the client set-up are the chat client's (graphmem/llm/openai.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import openai
from openai.types import CreateEmbeddingResponse

from .._errors import ConfigError, LLMError
from ..llm._endpoint import Names, RetryPolicy, connect, error_text
from .base import Embedder

if TYPE_CHECKING:
    from .._settings import Settings

_NAMES = Names(
    model="GRAPHMEM_EMBEDDING_MODEL",
    base_url="GRAPHMEM_EMBEDDING_BASE_URL (or OPENAI_BASE_URL)",
    api_key="GRAPHMEM_EMBEDDING_API_KEY (OPENAI_API_KEY when the endpoint is the LLM's)",
    timeout="GRAPHMEM_EMBEDDING_TIMEOUT",
    bad_request="check that GRAPHMEM_EMBEDDING_MODEL is an embedding model and that the texts fit its input limit",
)
#: a text is embedded from its first this many characters: OpenAI's models take 8,191 tokens
#: at most, and a token is rarely under one character (MiniLM reads its first 256 word pieces)
MAX_INPUT_CHARS = 6_000
#: one request carries at most this many inputs and characters (OpenAI: 2,048 inputs and
#: 300,000 tokens per request)
MAX_REQUEST_INPUTS = 2_048
MAX_REQUEST_CHARS = 200_000
#: OpenAI's endpoint: where the openai client goes when no base URL is set
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


def accepts_dimensions(model: str) -> bool:
    """Whether the model takes a `dimensions` parameter (shortened vectors): OpenAI's
    text-embedding-3 models, also behind a proxy's `provider/` prefix. Others reject it."""
    return model.rsplit("/", 1)[-1].startswith("text-embedding-3-")


class OpenAIEmbedder(Embedder):
    """`Embedder` backed by an embeddings endpoint. Thread-safe: it keeps no state but the
    (thread-safe) openai client.

    `backoff` is the first retry wait in seconds (doubling up to `backoff_max`, longer when
    the endpoint's Retry-After says so); tests set it tiny. The openai client's own retries
    are off so tenacity is the only retry layer. A 429 is retried for `rate_limit_patience`
    seconds at least; an exhausted quota (also a 429) and other 4xx are not retried.
    """

    def __init__(
        self,
        model: str,
        *,
        dim: int,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        rate_limit_patience: float = 120.0,
        client: openai.OpenAI | None = None,
        backoff: float = 1.0,
        backoff_max: float = 30.0,
    ) -> None:
        if not model or not model.strip():
            raise ConfigError("no embedding model name: set GRAPHMEM_EMBEDDING_MODEL (e.g. text-embedding-3-small)")
        if dim < 1:
            raise ConfigError(f"the embedding dimension must be >= 1 (got {dim}): set GRAPHMEM_EMBEDDING_DIM")
        if max_retries < 0:
            raise ConfigError(f"max_retries must be >= 0 (got {max_retries}): set GRAPHMEM_LLM_MAX_RETRIES")
        self.model_name = model
        self.dim = dim
        self.timeout = timeout
        self.sends_dimensions = accepts_dimensions(model)
        self._client, self._secret = connect(client, api_key, base_url, timeout)
        self.retry = RetryPolicy(max_retries, rate_limit_patience, backoff, backoff_max)

    @classmethod
    def from_settings(cls, settings: Settings, *, model: str, dim: int) -> OpenAIEmbedder:
        """The endpoint of GRAPHMEM_EMBEDDING_BASE_URL / GRAPHMEM_EMBEDDING_API_KEY, else the LLM's
        (OPENAI_BASE_URL / OPENAI_API_KEY). OPENAI_API_KEY is only sent to the LLM's endpoint:
        embeddings on another server (a local one, say) get their own key or none."""
        base_url = settings.embedding_base_url or settings.openai_base_url
        api_key = settings.embedding_api_key
        if api_key is None and _same_endpoint(base_url, settings.openai_base_url):
            api_key = settings.openai_api_key
        if not api_key and not base_url:
            raise ConfigError(
                "GRAPHMEM_EMBEDDER=openai needs an API key (GRAPHMEM_EMBEDDING_API_KEY or OPENAI_API_KEY, for OpenAI) "
                "or a base URL (GRAPHMEM_EMBEDDING_BASE_URL or OPENAI_BASE_URL, for a local OpenAI-compatible "
                "server such as Ollama); set one, or use the default local model: GRAPHMEM_EMBEDDER=minilm"
            )
        return cls(
            model,
            dim=dim,
            api_key=api_key or None,
            base_url=base_url,
            timeout=settings.embedding_timeout,
            max_retries=settings.llm_max_retries,
            rate_limit_patience=settings.llm_rate_limit_patience,
        )

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    @property
    def max_retries(self) -> int:
        return self.retry.max_retries

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIEmbedder(model={self.model_name!r}, dim={self.dim}, base_url={self.base_url!r})"

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        # OpenAI (and some local servers) reject an empty string with a 400 that fails the
        # whole batch; a single space embeds as "nothing" and keeps every position. A text
        # past the model's input limit fails it too: each is cut at MAX_INPUT_CHARS.
        inputs = [text[:MAX_INPUT_CHARS] or " " for text in texts]
        vectors: list[list[float]] = []
        for chunk in request_chunks(inputs):
            vectors.extend(self._vectors(self._create(chunk), len(chunk)))
        return vectors

    # --- the request ----------------------------------------------------------------------

    def _create(self, inputs: list[str]) -> CreateEmbeddingResponse:
        try:
            return self.retry.retrying()(self._attempt, inputs)
        except openai.OpenAIError as exc:
            raise self._error(exc) from None

    def _attempt(self, inputs: list[str]) -> CreateEmbeddingResponse:
        return self._client.embeddings.create(
            model=self.model_name,
            input=inputs,
            encoding_format="float",
            dimensions=self.dim if self.sends_dimensions else openai.omit,
        )

    # --- the answer -----------------------------------------------------------------------

    def _vectors(self, response: CreateEmbeddingResponse, count: int) -> list[list[float]]:
        """The unit vectors in input order (by each item's `index`; its position when a server
        leaves it out), checked for count, length and sense."""
        data = getattr(response, "data", None)
        if not isinstance(data, list) or len(data) != count:
            got = len(data) if isinstance(data, list) else "no"
            raise LLMError(
                f"{self._where} returned {got} embeddings for {count} texts; check that "
                "GRAPHMEM_EMBEDDING_BASE_URL (or OPENAI_BASE_URL) points to an OpenAI-compatible embeddings API"
            )
        ordered: list[list[float] | None] = [None] * count
        for position, item in enumerate(data):
            index = getattr(item, "index", None)
            index = position if index is None else index
            if not isinstance(index, int) or not 0 <= index < count or ordered[index] is not None:
                raise LLMError(
                    f"{self._where} returned embeddings with a missing, repeated or out-of-range index "
                    f"({index!r} for {count} texts); the server does not follow the embeddings API"
                )
            ordered[index] = self._unit(getattr(item, "embedding", None), index)
        return [vector for vector in ordered if vector is not None]

    def _unit(self, raw: object, index: int) -> list[float]:
        if not isinstance(raw, list):
            raise LLMError(
                f"{self._where} returned embedding {index} as {type(raw).__name__}, not a list of floats; "
                "the server must support encoding_format=float"
            )
        if len(raw) != self.dim:
            raise ConfigError(
                f"embedding model {self.model_name!r} at {self.base_url} returns {len(raw)}-dimensional vectors, "
                f"not the {self.dim} configured: set GRAPHMEM_EMBEDDING_DIM={len(raw)} (a database built for "
                f"{self.dim} then needs `graphmem init --reembed`)"
            )
        try:
            vector = [float(value) for value in raw]
        except (TypeError, ValueError):
            raise LLMError(f"{self._where} returned embedding {index} with values that are not numbers") from None
        norm = math.sqrt(math.fsum(value * value for value in vector))
        if norm == 0.0 or not math.isfinite(norm):
            raise LLMError(
                f"{self._where} returned a zero or non-finite vector for text {index}, which has no direction "
                "to compare; check the model"
            )
        return [value / norm for value in vector]

    # --- errors ---------------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"embeddings: model {self.model_name!r} at {self.base_url}"

    def _error(self, exc: openai.OpenAIError) -> LLMError:
        text = error_text(exc, _NAMES, self.retry, timeout=self.timeout, secret=self._secret)
        return LLMError(f"{self._where} {text}")


def request_chunks(inputs: list[str]) -> list[list[str]]:
    """The inputs in order, in as few requests as the endpoint's limits allow (an add's or a
    search's texts are one request; a re-embedding's batch of long turns may be several)."""
    chunks: list[list[str]] = [[]]
    size = 0
    for text in inputs:
        if chunks[-1] and (len(chunks[-1]) == MAX_REQUEST_INPUTS or size + len(text) > MAX_REQUEST_CHARS):
            chunks.append([])
            size = 0
        chunks[-1].append(text)
        size += len(text)
    return chunks


def _same_endpoint(url: str | None, llm_url: str | None) -> bool:
    """Whether an embeddings URL (None: the LLM's) is the LLM's endpoint (None: OpenAI's)."""
    if url is None:
        return True
    return url.rstrip("/") == (llm_url or OPENAI_DEFAULT_BASE_URL).rstrip("/")
