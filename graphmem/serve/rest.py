"""`graphmem serve`: a REST service (FastAPI) over AsyncGraphMemory. A thin layer: routes
validate the request's shape, call the memory API and map its errors to one JSON shape,
`{"error": {"type", "message"}}`; no memory logic lives here."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations at runtime
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from .._errors import BusyError, ConfigError, GraphmemError, InputError, LLMError, Neo4jUnavailable, SchemaError
from .._lanes import Lanes
from .._memory import AsyncGraphMemory
from .._models import AddResult, Fact, Scope
from .._requests import AddFactsRequest, AddRequest, AgentId, RunId, SearchRequest, UserId
from .auth import UNAUTHORIZED, ASGIApp, AsgiScope, Receive, Send, authorized
from .wire import Deleted, FactList, SearchPayload, search_payload

log = logging.getLogger("graphmem.serve")

MAX_BODY_BYTES = 1 << 20

#: status and error type of each expected failure; the message is the error's own (it names
#: the bad input and the fix)
ERROR_STATUS: list[tuple[type[GraphmemError], int, str]] = [
    (InputError, 400, "bad_request"),
    (Neo4jUnavailable, 503, "neo4j_unavailable"),
    (LLMError, 502, "llm_failed"),
    (SchemaError, 500, "schema_mismatch"),
    (ConfigError, 500, "bad_configuration"),
]


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def error_response(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status, headers=headers)


# -- request bodies ------------------------------------------------------------------


def scope_query(user_id: UserId = None, agent_id: AgentId = None, run_id: RunId = None) -> Scope:
    return Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)


ScopeQuery = Annotated[Scope, Depends(scope_query)]


# -- metrics ---------------------------------------------------------------------------


class Metrics:
    """Per app (not the global registry), so two apps in one process count apart."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "graphmem_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "graphmem_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.adds = Counter("graphmem_adds", "add requests that committed", ["kind"], registry=self.registry)
        self.facts = Counter(
            "graphmem_facts_written",
            "facts per decision of the adds (rejected: refused by the ontology)",
            ["action"],
            registry=self.registry,
        )
        self.llm_calls = Counter("graphmem_llm_calls", "LLM calls of the adds", registry=self.registry)
        self.llm_tokens = Counter("graphmem_llm_tokens", "LLM tokens of the adds", ["kind"], registry=self.registry)

    def watch(self, lanes: Lanes) -> None:
        """The lanes' queues (graphmem/_lanes.py): work waiting and running per lane, adds
        accepted and not yet stored, adds refused, and each lane's waits for a slot."""
        waiting = Gauge("graphmem_lane_waiting", "work waiting for a slot", ["lane"], registry=self.registry)
        running = Gauge("graphmem_lane_running", "work running", ["lane"], registry=self.registry)
        for lane, stats in lanes.stats.items():
            waiting.labels(lane).set_function(functools.partial(getattr, stats, "waiting"))
            running.labels(lane).set_function(functools.partial(getattr, stats, "running"))
        pending = Gauge("graphmem_adds_pending", "adds accepted and not yet stored", registry=self.registry)
        pending.set_function(lambda: lanes.pending)
        refused = Counter("graphmem_adds_refused", "adds refused as busy (HTTP 429)", registry=self.registry)
        refused.inc(lanes.refused)  # those refused before this app watched, if any
        lanes.on_refused = refused.inc
        waits = Histogram(
            "graphmem_lane_wait_seconds",
            "how long work waited for a slot of its lane",
            ["lane"],
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        lanes.on_wait = lambda lane, seconds: waits.labels(lane).observe(seconds)

    def record_add(self, kind: str, result: AddResult) -> None:
        self.adds.labels(kind).inc()
        for action in ("added", "updated", "invalidated", "noop", "rejected"):
            self.facts.labels(action).inc(len(getattr(result, action)))
        self.llm_calls.inc(result.usage.llm_calls)
        self.llm_tokens.labels("prompt").inc(result.usage.prompt_tokens)
        self.llm_tokens.labels("completion").inc(result.usage.completion_tokens)


def create_app(memory: AsyncGraphMemory, *, token: str, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The service over `memory` (closed when the app shuts down)."""
    metrics = Metrics()
    metrics.watch(memory.lanes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await memory.close()

    app = FastAPI(
        title="graphmem",
        summary="Long-term graph memory for AI agents, on Neo4j",
        lifespan=lifespan,
        redirect_slashes=False,  # an API answers the path it was asked, not a redirect
        responses={
            400: {"description": "bad input (the message names the field)"},
            401: {"description": "missing or wrong bearer token"},
            429: {"description": "too many adds waiting: retry after Retry-After seconds (nothing was stored)"},
            503: {"description": "Neo4j unreachable"},
        },
    )
    bearer = HTTPBearer(auto_error=False, description="GRAPHMEM_API_TOKEN, or the file the server named at start")

    def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
        if not authorized(header, token):
            raise ApiError(401, UNAUTHORIZED["error"]["type"], UNAUTHORIZED["error"]["message"])

    authed = [Depends(require_token)]

    # -- errors: one shape ------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="graphmem"'} if exc.status == 401 else None
        return error_response(exc.status, exc.kind, exc.message, headers)

    @app.exception_handler(GraphmemError)
    async def _graphmem_error(_: Request, exc: GraphmemError) -> JSONResponse:
        if isinstance(exc, BusyError):  # nothing of the add was stored: the client sends it again later
            return error_response(429, "busy", str(exc), {"Retry-After": str(exc.retry_after)})
        for kind, status, name in ERROR_STATUS:
            if isinstance(exc, kind):
                return error_response(status, name, str(exc))
        return error_response(500, "error", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        # a field of several shapes (messages: a text or a list) fails once per shape; the
        # plain-text shape's "should be a valid string" says less than the others
        detailed = [e for e in errors if not (e.get("loc") and _is_shape(e["loc"][-1]))]
        problems = dict.fromkeys(
            f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in detailed or errors
        )
        return error_response(400, "bad_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, kind, str(exc.detail))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal_error", f"unexpected {type(exc).__name__}: see the server log")

    # -- body limit and metrics ---------------------------------------------------------
    app.add_middleware(BodyLimit, limit=max_body_bytes)

    @app.middleware("http")
    async def _measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    # -- routes -------------------------------------------------------------------------
    @app.get("/healthz", summary="Liveness and Neo4j reachability (no token needed)")
    async def healthz() -> JSONResponse:
        try:
            info = await memory.info()
        except Neo4jUnavailable as exc:
            return JSONResponse({"status": "unavailable", "neo4j": {"reachable": False, "error": str(exc)}}, 503)
        return JSONResponse({"status": "ok", "neo4j": {"reachable": True, **info.neo4j}})

    @app.get("/metrics", dependencies=authed, summary="Prometheus metrics", response_class=PlainTextResponse)
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/memories", dependencies=authed, summary="Add conversation turns")
    async def add_memories(body: AddRequest) -> AddResult:
        result = await memory.add(**body.arguments())
        metrics.record_add("memories", result)
        return result

    @app.post("/v1/facts", dependencies=authed, summary="Add facts as triplets")
    async def add_facts(body: AddFactsRequest) -> AddResult:
        result = await memory.add_triplets(**body.arguments())
        metrics.record_add("facts", result)
        return result

    @app.post("/v1/search", dependencies=authed, summary="Facts and turns relevant to a query, and the context")
    async def search(body: SearchRequest) -> SearchPayload:
        results = await memory.search(**body.arguments())
        return search_payload(results, body.max_tokens)

    @app.get("/v1/facts", dependencies=authed, summary="The scope's facts")
    async def list_facts(
        scope: ScopeQuery, include_invalidated: bool = False, limit: Annotated[int, Query(ge=1, le=10000)] = 1000
    ) -> FactList:
        facts = await memory.get_all(**scope.params(), include_invalidated=include_invalidated, limit=limit)
        return FactList(facts=facts)

    @app.get("/v1/facts/{fact_id}", dependencies=authed, summary="One fact of the scope")
    async def get_fact(fact_id: str, scope: ScopeQuery) -> Fact:
        fact = await memory.get(fact_id, **scope.params())
        if fact is None:
            raise _not_found(fact_id)
        return fact

    @app.get("/v1/history", dependencies=authed, summary="Every version of a fact, or every fact of an entity")
    async def history(
        scope: ScopeQuery, name_or_id: Annotated[str, Query(description="entity name, entity id or fact id")]
    ) -> FactList:
        return FactList(facts=await memory.history(name_or_id, **scope.params()))

    @app.delete("/v1/facts/{fact_id}", dependencies=authed, summary="Delete one fact of the scope")
    async def delete_fact(fact_id: str, scope: ScopeQuery) -> Deleted:
        if not await memory.delete(fact_id, **scope.params()):
            raise _not_found(fact_id)
        return Deleted(deleted=1)

    @app.delete("/v1/scopes", dependencies=authed, summary="Delete every memory of a scope (confirm=true)")
    async def delete_scope(scope: ScopeQuery, confirm: bool = False) -> Deleted:
        if not confirm:
            raise ApiError(400, "bad_request", "confirm: deleting a whole scope needs confirm=true")
        return Deleted(deleted=await memory.delete_all(**scope.params()))

    return app


def _not_found(fact_id: str) -> ApiError:
    # another scope's fact gets the same answer as a missing one: its existence is not revealed
    return ApiError(404, "not_found", f"no fact {fact_id!r} in this scope")


def _location(loc: Any) -> str:
    """`messages.0.content` for ('body', 'messages', 'list[ChatMessage]', 0, 'content')."""
    where = list(loc)[1:] if loc and loc[0] in ("body", "query", "path") else list(loc)
    parts = [str(p) for p in where if not _is_shape(p)]
    return ".".join(parts) or "request"


def _is_shape(part: Any) -> bool:
    return isinstance(part, str) and (part in ("str", "int", "float", "bool") or "[" in part)


class BodyLimit:
    """ASGI middleware: a body over `limit` bytes is answered 413 before the app sees it,
    whether its length is announced or it comes in chunks (read up to the limit, then replayed)."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await error_response(413, "body_too_large", _too_large_message(self.limit))(scope, receive, send)
            return
        received: list[MutableMapping[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            size += len(message.get("body", b""))
            if size > self.limit:
                await error_response(413, "body_too_large", _too_large_message(self.limit))(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> MutableMapping[str, Any]:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)


def _too_large_message(limit: int) -> str:
    return f"the request body is over {limit:,} bytes: send less at once"
