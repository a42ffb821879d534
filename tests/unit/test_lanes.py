"""The async API's lanes (graphmem/_lanes.py), without Neo4j: a read runs while every add is
stuck in its LLM half; one scope's adds commit in arrival order whatever order their LLM halves
end in; past the pending bounds an add is refused at once (BusyError with a retry time) and
the others go on; nothing accepted is lost. No timing asserts: each test blocks work on events
and checks what could run meanwhile."""

from __future__ import annotations

import asyncio
import threading

import pytest

from graphmem import BusyError, Scope
from graphmem._lanes import Lanes

WAIT = 10  # seconds an event wait may take before the test counts it as stuck


def lanes(prepare: int = 4, commit: int = 2, read: int = 2, pending: int = 64, per_scope: int = 8) -> Lanes:
    return Lanes(
        slots={"prepare": prepare, "commit": commit, "read": read},
        max_pending=pending,
        max_pending_per_scope=per_scope,
    )


async def add(lanes: Lanes, scope: Scope, prepare, commit) -> object:
    """What AsyncGraphMemory._add does, with stand-in halves."""
    admitted = lanes.admit(scope)
    try:
        prepared = await lanes.run("prepare", prepare)
        await admitted.turn()
        return await lanes.run("commit", commit, prepared)
    finally:
        admitted.finish()


def test_a_read_runs_while_every_add_waits_on_its_model() -> None:
    async def main() -> None:
        lane = lanes(prepare=4, commit=1, read=1)
        model_answers = threading.Event()  # set by the read: the adds' "LLM" answers only after it

        def slow_prepare() -> bool:
            return model_answers.wait(WAIT)

        adds = [asyncio.create_task(add(lane, Scope(user_id=f"u{i}"), slow_prepare, lambda p: p)) for i in range(6)]
        await asyncio.sleep(0)  # the adds are admitted and waiting on their model
        found = await asyncio.wait_for(lane.run("read", lambda: "found"), WAIT)
        assert found == "found" and lane.stats["prepare"].running == 4 and lane.stats["prepare"].waiting == 2
        model_answers.set()
        assert await asyncio.gather(*adds) == [True] * 6  # none timed out: the read did not wait for them

    asyncio.run(main())


def test_one_scopes_adds_commit_in_arrival_order() -> None:
    async def main() -> None:
        lane = lanes(prepare=8, commit=4)
        scope = Scope(user_id="u")
        gates = [threading.Event() for _ in range(5)]
        committed: list[int] = []

        def prepare(i: int):
            return lambda: gates[i].wait(WAIT) and i

        adds = [asyncio.create_task(add(lane, scope, prepare(i), committed.append)) for i in range(5)]
        await asyncio.sleep(0)
        for gate in reversed(gates):  # the LLM answers the last add first
            gate.set()
            await asyncio.sleep(0.01)
        await asyncio.gather(*adds)
        assert committed == [0, 1, 2, 3, 4]

    asyncio.run(main())


def test_a_failed_add_lets_the_next_of_its_scope_commit() -> None:
    async def main() -> None:
        lane = lanes()
        scope = Scope(user_id="u")

        def fails() -> None:
            raise RuntimeError("the model refused")

        first = asyncio.create_task(add(lane, scope, fails, lambda p: "never"))
        second = asyncio.create_task(add(lane, scope, lambda: "ok", lambda p: p))
        outcomes = await asyncio.gather(first, second, return_exceptions=True)
        assert outcomes[1] == "ok"
        assert isinstance(first.exception(), RuntimeError) and lane.pending == 0

    asyncio.run(main())


def test_past_the_bounds_an_add_is_refused_and_the_others_go_on() -> None:
    async def main() -> None:
        lane = lanes(pending=4, per_scope=2)
        release = threading.Event()
        busy, other = Scope(user_id="busy"), Scope(user_id="other")
        accepted = [
            asyncio.create_task(add(lane, scope, lambda: release.wait(WAIT), lambda p: p))
            for scope in (busy, busy, other)
        ]
        await asyncio.sleep(0)
        with pytest.raises(BusyError, match="GRAPHMEM_MAX_PENDING_PER_SCOPE=2") as per_scope:
            lane.admit(busy)
        assert per_scope.value.retry_after >= 1 and "retry in" in str(per_scope.value)
        accepted.append(asyncio.create_task(add(lane, Scope(user_id="third"), lambda: True, lambda p: p)))
        await asyncio.sleep(0)
        with pytest.raises(BusyError, match="GRAPHMEM_MAX_PENDING_ADDS=4"):
            lane.admit(Scope(user_id="fourth"))  # the server's bound: 4 pending
        assert lane.refused == 2
        release.set()
        assert await asyncio.gather(*accepted) == [True] * 4  # nothing accepted was dropped
        assert lane.pending == 0
        await add(lane, busy, lambda: "again", lambda p: p)  # room again

    asyncio.run(main())


@pytest.mark.parametrize("cancels", [1, 5])
def test_a_cancelled_add_keeps_its_place_until_its_thread_is_done(cancels: int) -> None:
    """Cancelled once, or again and again (as an MCP client's cancel scope does each time the
    task resumes): the slot and the scope's order stay held until the thread is done."""

    async def main() -> None:
        lane = lanes(prepare=4, commit=4)
        scope = Scope(user_id="u")
        in_commit, finish_commit = threading.Event(), threading.Event()
        committed: list[str] = []

        def slow_commit(p: str) -> None:
            in_commit.set()
            finish_commit.wait(WAIT)
            committed.append(p)

        first = asyncio.create_task(add(lane, scope, lambda: "first", slow_commit))
        while not in_commit.is_set():
            await asyncio.sleep(0.01)
        second = asyncio.create_task(add(lane, scope, lambda: "second", committed.append))
        for _ in range(cancels):
            first.cancel()
            await asyncio.sleep(0.02)
        # the second waits: the first's thread still runs its commit
        assert committed == [] and lane.stats["commit"].running == 1 and lane.pending == 2
        finish_commit.set()
        await asyncio.gather(first, second, return_exceptions=True)
        assert committed == ["first", "second"] and lane.pending == 0

    asyncio.run(main())


def test_closed_lanes_refuse_work_and_another_loop_takes_over_only_when_idle() -> None:
    lane = lanes()
    assert asyncio.run(lane.run("read", lambda: 1)) == 1
    assert asyncio.run(lane.run("read", lambda: 2)) == 2  # a second asyncio.run: nothing was in flight
    lane.close()
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(lane.run("read", lambda: 3))
