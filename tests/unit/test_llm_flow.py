"""The shared LLM flow (graphmem/llm/_flow.py): how 429s narrow it and successes widen it."""

from __future__ import annotations

import threading
import time

from graphmem.llm._flow import AdaptiveFlow


def test_the_refusals_of_one_burst_halve_the_limit_once_and_successes_grow_it_back():
    flow = AdaptiveFlow(cap=16)
    burst = [flow.slot() for _ in range(8)]
    slots = [s.__enter__() for s in burst]
    for slot in slots[:5]:
        slot.refused(None)  # five refusals of calls started together
    for context in burst:
        context.__exit__(None, None, None)
    assert 8 <= flow.limit < 9 and flow.refusals == 5  # halved once; the 3 successes add a little
    with flow.slot() as later:
        later.refused(None)  # a call started after the decrease narrows again
    assert 4 <= flow.limit < 5
    for _ in range(20):
        with flow.slot():
            pass
    assert 6 < flow.limit < 12  # about one more per round of successes


def test_no_more_calls_than_the_limit_run_at_once():
    flow = AdaptiveFlow(cap=3)
    running, peak, lock = [0], [0], threading.Lock()

    def call() -> None:
        with flow.slot():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.01)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 3


def test_retry_after_pauses_new_calls_of_every_caller():
    flow = AdaptiveFlow(cap=4)
    with flow.slot() as slot:
        slot.refused(0.2)
    started = time.monotonic()
    with flow.slot():
        waited = time.monotonic() - started
    assert 0.15 <= waited < 2
