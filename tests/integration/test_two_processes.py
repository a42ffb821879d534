"""Two OS processes writing one scope: the guarantees the in-process lock gives hold across
processes too, through the scope's write clock that every write checks (cypher/write_add.cypher).

The deterministic test holds both processes after their reads, until both have read, so each
plans its write on the same stale view: without the clock, both would commit. The second
test runs two `graphmem ingest` processes on one user, as two ingest jobs would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from graphmem import GraphMemory
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j

# A process that adds `triplets` for `user`, but holds its first write until every process
# named in `peers` has finished its reads (a file each in `gate`), then reports its AddResult.
WRITER = r"""
import json, sys, time
from pathlib import Path
import graphmem.write.writer as memory_module
from graphmem import GraphMemory

name, peers, gate, user, timestamp, triplets = sys.argv[1:7]
gate, real_apply, held = Path(gate), memory_module.apply_plan, []

def apply_after_peers(*args, **kwargs):
    if not held:  # the first attempt only: a re-match writes straight away
        held.append(True)
        (gate / name).touch()
        deadline = time.monotonic() + 120
        while not all((gate / peer).exists() for peer in peers.split(",")):
            if time.monotonic() > deadline:
                sys.exit("the other writer never finished its reads")
            time.sleep(0.02)
    return real_apply(*args, **kwargs)

memory_module.apply_plan = apply_after_peers
with GraphMemory.from_env() as memory:
    result = memory.add_triplets(json.loads(triplets), user_id=user, timestamp=timestamp)
print(json.dumps({"added": len(result.added), "noop": len(result.noop),
                  "invalidated": len(result.invalidated), "rematches": result.usage.rematches}))
"""


def _valid(store: Store, user: str) -> list[dict]:
    return store.run_text(
        "MATCH (s:Entity)-[f:FACT]->(t:Entity) WHERE f.user_id = $u AND f.valid_to IS NULL "
        "RETURN s.name AS source, f.relation AS relation, t.name AS target, f.mentions AS mentions",
        {"u": user},
    )


def test_two_processes_that_read_the_same_state_commit_one_after_the_other(
    memory: GraphMemory, store: Store, new_user, shared_env, tmp_path: Path
):
    """Both read "Lena works at Acme" and no home; one adds Bosch, the other Siemens, and both
    restate Berlin. The clock makes one of them match again: Berlin is stored once (said
    twice), Acme is history, and one employer is valid."""
    user = new_user("two-writers")
    memory.add_triplets(
        [{"source": "Lena", "source_type": "Person", "relation": "works_at", "target": "Acme"}],
        user_id=user,
        timestamp="2025-01-01T00:00:00Z",
    )

    def writer(name: str, peer: str, firm: str, day: int) -> subprocess.Popen:
        triplets = [
            {"source": "Lena", "source_type": "Person", "relation": "lives_in", "target": "Berlin"},
            {"source": "Lena", "source_type": "Person", "relation": "works_at", "target": firm},
        ]
        args = [name, peer, str(tmp_path), user, f"2025-02-{day:02d}T00:00:00Z", json.dumps(triplets)]
        return subprocess.Popen(
            [sys.executable, "-c", WRITER, *args],
            env=shared_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    procs = [writer("a", "b", "Bosch", 1), writer("b", "a", "Siemens", 2)]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    valid = _valid(store, user)
    homes = [f for f in valid if f["relation"] == "lives_in"]
    employers = [f for f in valid if f["relation"] == "works_at"]
    assert [(h["target"], h["mentions"]) for h in homes] == [("Berlin", 2)], valid
    assert len(employers) == 1 and employers[0]["target"] in {"Bosch", "Siemens"}, valid
    history = memory.get_all(user_id=user, include_invalidated=True)
    assert sorted(f.target for f in history if f.relation == "works_at") == ["Acme", "Bosch", "Siemens"]
    assert len({(f.source_id, f.relation, f.target_id) for f in history}) == len(history)
    assert sorted(r["rematches"] for r in reports) == [0, 1], reports


def _transcript(path: Path, speaker: str, cities: list[str], firms: list[str]) -> None:
    """A conversation of `speaker` moving through `cities` and jobs, each move also restating
    the previous city, so two of them share facts to restate and single values to replace."""
    lines = []
    for i, (city, firm) in enumerate(zip(cities, firms, strict=True)):
        lines.append({"role": "user", "name": speaker, "content": f"I moved to {city}.", "id": f"{path.stem}-{i}a"})
        lines.append({"role": "user", "name": speaker, "content": f"I work at {firm}.", "id": f"{path.stem}-{i}b"})
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")


def test_two_ingest_processes_on_one_user_keep_one_home_and_one_employer(
    memory: GraphMemory, store: Store, new_user, shared_env, spawn, tmp_path: Path
):
    """Two `graphmem ingest` jobs at once, about the same person in one scope: every valid fact
    is stored once, and the single-valued relations had one valid value at every moment."""
    user = new_user("two-ingests")
    cities = ["Berlin", "Munich", "Hamburg", "Cologne", "Leipzig", "Dresden"] * 5
    firms = ["Bosch", "Siemens", "SAP", "BASF", "Bayer", "Adidas"] * 5
    _transcript(tmp_path / "one.jsonl", "Lena", cities, firms)
    _transcript(tmp_path / "two.jsonl", "Lena", cities[::-1], firms[::-1])
    procs = [
        spawn(["ingest", str(tmp_path / name), "--user", user, "--batch", "1", "--concurrency", "4"], shared_env)
        for name in ("one.jsonl", "two.jsonl")
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out + err

    valid = _valid(store, user)
    assert Counter(f["relation"] for f in valid if f["relation"] in {"lives_in", "works_at"}) == {
        "lives_in": 1,
        "works_at": 1,
    }, valid
    keys = Counter((f["source"], f["relation"], f["target"]) for f in valid)
    assert all(n == 1 for n in keys.values()), keys
    # The end state heals itself (the next move closes every valid value), so the history is
    # what shows a race: had two values been valid at once, one move closed both.
    closed_by = Counter(f.invalidated_by for f in memory.get_all(user_id=user, include_invalidated=True))
    closed_by.pop(None, None)
    assert closed_by and max(closed_by.values()) == 1, [c for c in closed_by.items() if c[1] > 1]
    assert len(_nodes_named(store, user, "lena")) == 1


def _nodes_named(store: Store, user: str, normalized: str) -> list[dict]:
    return store.run_text(
        "MATCH (n:Entity) WHERE n.user_id = $u AND n.normalized = $n RETURN n.id AS id", {"u": user, "n": normalized}
    )
