"""What every request to an OpenAI-compatible endpoint shares, whatever it asks (chat
completions, embeddings): the client, which failures are retried and for how long, and an
error text that names the setting to fix without ever showing the key."""

from __future__ import annotations

import re
from dataclasses import dataclass

import openai
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential

from .._errors import ConfigError, short

_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_*-]{6,}")


def make_client(api_key: str | None, base_url: str | None, timeout: float) -> openai.OpenAI:
    if api_key is None and base_url:
        api_key = "not-needed"  # local servers (Ollama, vLLM, llama.cpp) ignore the key but the client wants one
    try:
        return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
    except openai.OpenAIError as exc:
        raise ConfigError(
            f"cannot create the OpenAI client ({exc}); set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server"
        ) from None


def connect(
    client: openai.OpenAI | None, api_key: str | None, base_url: str | None, timeout: float
) -> tuple[openai.OpenAI, str | None]:
    """The client requests go through (the given one, or a new one), with its own retries off
    (RetryPolicy is the only retry layer), and the key to scrub from error texts."""
    if client is None:
        client = make_client(api_key, base_url, timeout)
    key = api_key or getattr(client, "api_key", None)
    secret = key if isinstance(key, str) and len(key) >= 8 else None
    return client.with_options(max_retries=0, timeout=timeout), secret


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.RateLimitError):
        # An exhausted quota is also a 429, but waiting will not fix it.
        return exc.code != "insufficient_quota"
    if isinstance(exc, (openai.APIConnectionError, openai.InternalServerError)):  # timeouts included
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


def retry_after(exc: BaseException | None) -> float | None:
    """The seconds a 429 or 503 asks to wait (Retry-After / retry-after-ms), if it says."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
        if (seconds := headers.get("retry-after")) is not None:
            return max(0.0, float(seconds))
    except ValueError:  # an HTTP date: rare from LLM endpoints; the exponential wait applies
        return None
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` retries, waiting `backoff` s doubling to `backoff_max` (longer when the
    endpoint's Retry-After says so); a 429 is retried for `rate_limit_patience` s at least, as
    rate limits delay work, they do not fail it (an exhausted quota is not retried at all)."""

    max_retries: int
    rate_limit_patience: float
    backoff: float = 1.0
    backoff_max: float = 30.0

    def retrying(self) -> Retrying:
        return Retrying(stop=self.stop, wait=self.wait, retry=retry_if_exception(retryable), reraise=True)

    def stop(self, state: RetryCallState) -> bool:
        if state.attempt_number < self.max_retries + 1:
            return False
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, openai.RateLimitError):
            return (state.seconds_since_start or 0.0) >= self.rate_limit_patience
        return True

    def wait(self, state: RetryCallState) -> float:
        asked = retry_after(state.outcome.exception() if state.outcome else None)
        exponential = wait_exponential(multiplier=self.backoff, max=self.backoff_max)(state)
        return exponential if asked is None else max(exponential, min(asked, self.backoff_max))


@dataclass(frozen=True)
class Names:
    """The settings an error text tells the user to check, and the advice a 400 gets."""

    model: str
    base_url: str
    api_key: str
    timeout: str
    bad_request: str
    slow_hint: str = ""


def scrubbed(exc: openai.OpenAIError, secret: str | None) -> str:
    """The error's text without the key (servers sometimes echo it back), shortened."""
    detail = getattr(exc, "message", None) or str(exc)
    if secret:
        detail = detail.replace(secret, "***")
    return short(_KEY_LIKE.sub("sk-***", detail), 300)


def error_text(
    exc: openai.OpenAIError, names: Names, policy: RetryPolicy, *, timeout: float, secret: str | None
) -> str:
    """What went wrong and which setting to check, for a request that failed for good."""
    attempts = f"after {policy.max_retries + 1} attempt(s)"
    detail = scrubbed(exc, secret)
    if isinstance(exc, openai.APITimeoutError):
        return f"timed out ({timeout:g}s per request) {attempts}; raise {names.timeout}{names.slow_hint}"
    if isinstance(exc, openai.APIConnectionError):
        return f"could not be reached {attempts} ({detail}); check {names.base_url} and that the server is running"
    if isinstance(exc, openai.RateLimitError):
        if exc.code == "insufficient_quota":
            return f"refused the request, the quota is exhausted (HTTP 429): {detail}; check your plan and billing"
        return (
            f"kept rate-limiting (HTTP 429) for {policy.rate_limit_patience:g} s or more: {detail}; check your "
            "quota, lower GRAPHMEM_MAX_CONCURRENCY or raise GRAPHMEM_LLM_RATE_LIMIT_PATIENCE"
        )
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return f"rejected the credentials (HTTP {exc.status_code}): {detail}; check {names.api_key}"
    if isinstance(exc, openai.NotFoundError):
        return f"was not found (HTTP 404): {detail}; check {names.model} and {names.base_url} (it usually ends in /v1)"
    if isinstance(exc, openai.BadRequestError):
        return f"rejected the request (HTTP 400): {detail}; {names.bad_request}"
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        return (
            f"failed with a server error (HTTP {exc.status_code}) {attempts}: {detail}; the endpoint is down or "
            f"overloaded, try again later or check {names.base_url}/{names.api_key}"
        )
    if isinstance(exc, openai.APIStatusError):
        return f"refused the request (HTTP {exc.status_code}): {detail}; check {names.base_url}/{names.api_key}"
    return f"failed: {detail}; check {names.base_url}/{names.api_key}"
