"""The async API's lanes: each kind of work has its own slots and threads, so a search never
queues behind an add that waits on a model.

* prepare: an add's extraction (the LLM) and embedding, which read nothing from the graph.
  Sized for waiting, not for the CPU: GRAPHMEM_PREPARE_CONCURRENCY (16).
* commit: an add's Neo4j half (match, conflicts, resolve, the write), deletes and resets:
  GRAPHMEM_MAX_CONCURRENCY (4). One scope's adds commit in the order they arrived.
* read: searches and every other read: GRAPHMEM_READ_CONCURRENCY (4).

Backpressure: at most GRAPHMEM_MAX_PENDING_ADDS (64) adds are accepted and not yet committed,
and GRAPHMEM_MAX_PENDING_PER_SCOPE (8) of one scope; past either, an add is refused at once
with BusyError, which says when to retry. An add once accepted is never dropped. The
per-scope bound is the fairness: a busy scope holds at most that many of the prepare slots and,
its commits being in order, one commit slot at a time, so other scopes' adds and everyone's
searches go on.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, ParamSpec, TypeVar

from ._errors import BusyError, InputError
from ._models import Scope
from ._settings import Settings

_P = ParamSpec("_P")
_T = TypeVar("_T")

Lane = Literal["prepare", "commit", "read"]
LANES: tuple[Lane, ...] = ("prepare", "commit", "read")
#: Retry-After bounds, seconds: an estimate from recent adds' durations, kept sensible
_RETRY_MIN, _RETRY_MAX = 1, 60


@dataclass
class LaneStats:
    """One lane now: work waiting for a slot, and work running (the waits go to `on_wait`)."""

    waiting: int = 0
    running: int = 0


@dataclass
class _ScopeTurn:
    """A scope's adds, in arrival order: each commits after the one before it is done."""

    pending: int = 0
    last: asyncio.Future[None] | None = None


@dataclass
class Lanes:
    """The slots, threads and pending-add counts of one AsyncGraphMemory."""

    slots: dict[Lane, int]
    max_pending: int
    max_pending_per_scope: int
    #: called with (lane, seconds) when a work got its slot (the servers' metrics)
    on_wait: Callable[[Lane, float], None] | None = None
    #: called when an add is refused (the servers' metrics)
    on_refused: Callable[[], None] | None = None
    stats: dict[Lane, LaneStats] = field(init=False)
    pending: int = field(default=0, init=False)
    refused: int = field(default=0, init=False)
    _scopes: dict[str, _ScopeTurn] = field(default_factory=dict, init=False)
    _semaphores: dict[Lane, asyncio.Semaphore] = field(default_factory=dict, init=False)
    _pools: dict[Lane, ThreadPoolExecutor] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _add_seconds: float = field(default=1.0, init=False)  # a moving mean of adds' durations
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.stats = {lane: LaneStats() for lane in LANES}

    @classmethod
    def from_settings(cls, settings: Settings, *, commit_slots: int | None = None) -> Lanes:
        if commit_slots is not None and commit_slots < 1:
            raise InputError(f"max_concurrency must be at least 1 (adds committed at once), got {commit_slots}")
        return cls(
            slots={
                "prepare": settings.prepare_concurrency,
                "commit": settings.max_concurrency if commit_slots is None else commit_slots,
                "read": settings.read_concurrency,
            },
            max_pending=settings.max_pending_adds,
            max_pending_per_scope=settings.max_pending_per_scope,
        )

    def _bound(self) -> asyncio.AbstractEventLoop:
        """The running loop, which the lanes' semaphores and order belong to. Another loop may
        take them over once nothing is in flight (`asyncio.run` called again); while something
        is, the second loop is refused by name rather than hang on the first loop's futures."""
        loop = asyncio.get_running_loop()
        if self._closed:
            raise RuntimeError("this AsyncGraphMemory is closed: make a new one")
        if loop is not self._loop:
            busy = self.pending or any(s.waiting or s.running for s in self.stats.values())
            if self._loop is not None and busy:
                raise RuntimeError(
                    "this AsyncGraphMemory has work in flight in another event loop: use one "
                    "AsyncGraphMemory per event loop"
                )
            self._loop, self._semaphores, self._scopes = loop, {}, {}
        return loop

    async def run(self, lane: Lane, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """`fn` on one of the lane's threads, once the lane has a slot free."""
        loop = self._bound()
        stats = self.stats[lane]
        semaphore = self._semaphores.get(lane)
        if semaphore is None:
            semaphore = self._semaphores[lane] = asyncio.Semaphore(self.slots[lane])
        started = time.perf_counter()
        stats.waiting += 1
        try:
            await semaphore.acquire()
        finally:
            stats.waiting -= 1
        stats.running += 1
        try:
            if self.on_wait is not None:
                self.on_wait(lane, time.perf_counter() - started)
            # the caller's context goes with the work (its span is the parent of the work's)
            context = contextvars.copy_context()
            work = loop.run_in_executor(self._pool(lane), lambda: context.run(fn, *args, **kwargs))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                # the thread cannot be stopped: its slot (and an add's place in its scope's
                # order) is held until it is done, so nothing runs beside it that should not,
                # however often the caller is cancelled meanwhile
                while not work.done():
                    try:
                        await asyncio.wait({work})
                    except asyncio.CancelledError:
                        continue
                raise
        finally:
            stats.running -= 1
            semaphore.release()

    def admit(self, scope: Scope) -> _Admitted:
        """An add accepted (its place in its scope's order), or BusyError past the bounds."""
        loop = self._bound()
        turn = self._scopes.get(scope.key)
        full = self.pending >= self.max_pending
        if full or (turn is not None and turn.pending >= self.max_pending_per_scope):
            self.refused += 1
            if self.on_refused is not None:
                self.on_refused()
            wait = min(max(math.ceil(self._add_seconds), _RETRY_MIN), _RETRY_MAX)
            bound = (
                f"{self.pending} adds wait on this memory (GRAPHMEM_MAX_PENDING_ADDS={self.max_pending})"
                if full
                else f"{turn.pending if turn else 0} adds of this scope wait "
                f"(GRAPHMEM_MAX_PENDING_PER_SCOPE={self.max_pending_per_scope})"
            )
            raise BusyError(f"busy: {bound}; nothing of this add was stored: retry in {wait} s", retry_after=wait)
        if turn is None:
            turn = self._scopes[scope.key] = _ScopeTurn()
        before, done = turn.last, loop.create_future()
        turn.last = done
        turn.pending += 1
        self.pending += 1
        return _Admitted(self, scope.key, before, done, time.perf_counter())

    def _finished(self, admitted: _Admitted) -> None:
        turn = self._scopes[admitted.key]
        turn.pending -= 1
        self.pending -= 1
        # done once the add before it is: a later add never overtakes an earlier one
        if admitted.before is None or admitted.before.done():
            _resolve(admitted.done)
        else:
            admitted.before.add_done_callback(lambda _: _resolve(admitted.done))
        if turn.pending == 0:
            del self._scopes[admitted.key]
        self._add_seconds = 0.8 * self._add_seconds + 0.2 * (time.perf_counter() - admitted.started)

    def _pool(self, lane: Lane) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("this AsyncGraphMemory is closed: make a new one")
            pool = self._pools.get(lane)
            if pool is None:
                pool = self._pools[lane] = ThreadPoolExecutor(self.slots[lane], thread_name_prefix=f"graphmem-{lane}")
            return pool

    def close(self) -> None:
        """Waits for the work on the lanes' threads; later work is refused."""
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=True)


@dataclass
class _Admitted:
    """An accepted add: wait for its turn to commit, and say when it is done (ok or not)."""

    lanes: Lanes
    key: str
    before: asyncio.Future[None] | None
    done: asyncio.Future[None]
    started: float

    async def turn(self) -> None:
        """Until the add before it in its scope is done (committed or failed)."""
        if self.before is not None:
            await asyncio.shield(self.before)

    def finish(self) -> None:
        self.lanes._finished(self)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
