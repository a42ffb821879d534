"""The ordering rules of pipelined adds (graphmem/write/batch.py), with a stand-in writer whose
two halves sleep at random: each scope commits in the order given, never two of one scope at
once; no more than `concurrency` windows run; the input is read a bounded way ahead."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

import pytest

from graphmem import AddResult, AddWindow, InputError, LLMError
from graphmem.write.batch import add_many


class FakeWriter:
    def __init__(
        self, fail_prepare: dict[str, Exception] | None = None, fail_commit: dict[str, Exception] | None = None
    ):
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.committing: set[str] = set()
        self.committed: dict[str, list[str]] = defaultdict(list)
        self.fail_prepare = fail_prepare or {}
        self.fail_commit = fail_commit or {}
        self.rng = random.Random(7)

    def prepare(self, messages, *, scope, context, timestamp, metadata):
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            pause = self.rng.random() / 200
        time.sleep(pause)
        with self.lock:
            self.running -= 1
        text = messages[0]
        if text in self.fail_prepare:
            raise self.fail_prepare[text]
        return (scope.key, text)

    def commit(self, prepared):
        key, text = prepared
        with self.lock:
            assert key not in self.committing, "two windows of one scope committed at once"
            self.committing.add(key)
            pause = self.rng.random() / 500
        time.sleep(pause)
        with self.lock:
            self.committing.discard(key)
            if text in self.fail_commit:
                raise self.fail_commit[text]
            self.committed[key].append(text)
        return AddResult()


def _windows(scopes: int, per_scope: int) -> list[AddWindow]:
    return [AddWindow(messages=[f"{s}:{i}"], user_id=f"u{s}") for i in range(per_scope) for s in range(scopes)]


def _order(memory: FakeWriter, scope: int) -> list[str]:
    return memory.committed[AddWindow(messages=[], user_id=f"u{scope}").scope.key]


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_each_scope_commits_in_order_and_the_pipeline_stays_bounded(concurrency):
    memory = FakeWriter()
    windows = _windows(scopes=5, per_scope=30)
    read = 0
    finished: list[int] = []
    ahead: list[int] = []

    def source():
        nonlocal read
        for window in windows:
            ahead.append(read - len(finished))
            read += 1
            yield window

    outcomes = add_many(memory, source(), concurrency=concurrency, on_committed=lambda i, _: finished.append(i))
    assert len(outcomes) == len(windows)
    for scope in range(5):
        assert _order(memory, scope) == [f"{scope}:{i}" for i in range(30)]
    assert memory.most_running <= concurrency
    assert max(ahead) <= 2 * concurrency + 1


def test_an_llm_failure_is_an_outcome_and_the_scope_goes_on():
    boom = LLMError("boom")
    memory = FakeWriter(fail_prepare={"0:3": boom})
    outcomes = add_many(memory, _windows(scopes=2, per_scope=6), concurrency=4)
    assert outcomes[6] is boom  # window 3 of scope 0 is the 7th given
    assert _order(memory, 0) == ["0:0", "0:1", "0:2", "0:4", "0:5"]
    assert _order(memory, 1) == [f"1:{i}" for i in range(6)]


def test_any_other_failure_stops_the_scope_at_a_prefix_and_is_raised():
    memory = FakeWriter(fail_commit={"0:5": ConnectionError("neo4j went away")})
    with pytest.raises(ConnectionError, match="went away"):
        add_many(memory, _windows(scopes=3, per_scope=40), concurrency=4)
    for scope in range(3):
        stored = _order(memory, scope)
        assert stored == [f"{scope}:{i}" for i in range(len(stored))]  # a prefix, no gap
    assert len(_order(memory, 0)) == 5
    assert sum(len(v) for v in memory.committed.values()) < 3 * 40  # the run stopped


def test_concurrency_must_be_positive():
    with pytest.raises(InputError, match="at least 1"):
        add_many(FakeWriter(), [], concurrency=0)
