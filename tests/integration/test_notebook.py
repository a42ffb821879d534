"""notebooks/explore.ipynb runs top to bottom against the test Neo4j (nbclient, no Jupyter server).

The kernel is this test's own interpreter (the project venv): a kernelspec pointing at
sys.executable is written to a temporary JUPYTER_PATH, which Jupyter searches first, so a
`python3` kernelspec elsewhere on the machine (~/.local/share/jupyter) cannot take over.
The notebook is told its scope and to clean it up through environment variables; the
executed copy is kept in artifacts/explore.executed.ipynb for a look when it fails.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from pathlib import Path

import pytest

from graphmem import Scope, Settings
from graphmem.store.transport import Store

pytestmark = pytest.mark.neo4j

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"
ARTIFACTS = ROOT / "artifacts"
CELL_TIMEOUT = 300  # seconds; the first cell loads the embedder, slow on a busy 2-core machine


def _outputs(nb) -> tuple[str, int, list[str]]:
    """All printed text, the number of images, and any error outputs."""
    text, images, errors = [], 0, []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream" and out["name"] == "stdout":
                text.append(out["text"])
            elif out["output_type"] in ("execute_result", "display_data"):
                images += "image/png" in out["data"]
                text.append(out["data"].get("text/plain", ""))
            elif out["output_type"] == "error":
                errors.append(f"{out['ename']}: {out['evalue']}")
    return "\n".join(text), images, errors


def test_explore_notebook_runs(neo4j_settings: Settings, store: Store, tmp_path: Path, monkeypatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")

    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (graphmem test)",
        "language": "python",
    }))  # fmt: skip
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    user_id = f"test-notebook-{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if k != "GRAPHMEM_CONFIG"}
    env.update(
        NEO4J_URI=neo4j_settings.bolt_uri,
        NEO4J_USER=neo4j_settings.neo4j_user,
        NEO4J_PASSWORD=neo4j_settings.password(),
        NEO4J_DATABASE=neo4j_settings.neo4j_database,
        GRAPHMEM_LLM_PROVIDER="offline",
        GRAPHMEM_EMBEDDER="minilm",  # what the schema of the test database was made for
        HF_HUB_OFFLINE="1",
        GRAPHMEM_NOTEBOOK_USER=user_id,
        GRAPHMEM_NOTEBOOK_CLEANUP="1",
    )

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint('KERNEL-PREFIX', sys.prefix)"))
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    try:
        client.execute(env=env)
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"a notebook cell failed (see artifacts/explore.executed.ipynb):\n{exc}")
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        nbformat.write(nb, ARTIFACTS / "explore.executed.ipynb")
        store.run("delete_scope", Scope(user_id=user_id).params(), write=True)

    text, images, errors = _outputs(nb)
    assert not errors, errors
    assert f"KERNEL-PREFIX {sys.prefix}" in text, "the kernel did not run in the test's interpreter"
    assert f"user_id={user_id!r}" in text and "extractor: offline" in text
    for mode in ("hybrid", "entity", "triplet", "keyword"):
        assert f"--- {mode}: " in text
    assert "--- hybrid: 0 hits" not in text
    assert "Maya -[lives_in]-> London" in text  # current facts, search hits
    assert "Maya -[lives_in]-> Paris" in text and "replaced by Maya -[lives_in]-> London" in text  # timeline
    assert "MultiDiGraph with" in text  # networkx summary
    centrality = re.findall(r"^(\S+) +[01]\.\d\d  \(degree \d+\)$", text, re.MULTILINE)
    assert centrality and centrality[0] == "Maya", centrality  # the speaker is the hub
    assert images >= 2, "expected the graph drawing and the timeline plot"
    # the ontology section: an inverse mapped, a type narrowed, a rejection, a `one` relation decided
    assert "stored    Maya -[works_for]-> Acme  (Customer -> Company)" in text
    assert "stored    Maya -[owns]-> Pro plan  (Customer -> Product)" in text
    assert "rejected  likes: relation 'likes' is not declared in ontology 'customer-support'" in text
    assert "invalidated ['Maya -[works_for]-> Acme'] with 0 LLM calls" in text
    # The last cell deleted the scope (GRAPHMEM_NOTEBOOK_CLEANUP=1).
    assert "deleted " in text and f"of {user_id!r}" in text
    left = store.run_text(
        "MATCH (n) WHERE (n:Entity OR n:Message) AND n.user_id = $user_id RETURN count(n) AS n", {"user_id": user_id}
    )
    assert left[0]["n"] == 0
