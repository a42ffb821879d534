"""Unit tests: pure code, no Neo4j and no torch, so `./run test tests/unit` takes seconds.
A unit run that imported torch fails here, naming the rule."""

from __future__ import annotations

import os
import sys

import pytest

# tests that import onnxruntime themselves: no usage telemetry (graphmem sets this before it imports it)
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    items = getattr(session, "items", [])
    only_unit = items and all("unit" in item.path.parts for item in items)
    if only_unit and "torch" in sys.modules:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        sys.stderr.write("\ntests/unit imported torch: a unit test must not load the embedding model\n")
