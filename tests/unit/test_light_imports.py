"""`import graphmem`, `graphmem --help` and `--version` load no model runtime and no LLM
client (issue 28: the torch import made every command take 12-15 s). Each runs in a fresh
interpreter, which reports the modules it ended with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

#: what a command that embeds nothing must never load
HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "onnxruntime",
    "onnx",
    "tokenizers",
    "safetensors",
    "openai",
    "graphmem.embed.minilm",
    "graphmem.llm.openai",
)

#: run `code` in a fresh interpreter, then print the loaded modules' names as JSON, even
#: when the code ends with SystemExit (typer's commands do)
_PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.__stdout__.write("\\nMODULES=" + json.dumps(sorted(sys.modules)) + "\\n"))
{code}
"""


def loaded_modules(code: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )
    line = [part for part in result.stdout.splitlines() if part.startswith("MODULES=")]
    assert line, f"no module list:\n{result.stdout}\n{result.stderr}"
    return set(json.loads(line[-1].removeprefix("MODULES=")))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)


def run_cli(*args: str) -> str:
    return f"import sys\nsys.argv = ['graphmem', *{list(args)!r}]\nfrom graphmem.cli import main\nmain()"


def test_import_graphmem_loads_no_model_and_no_llm_client() -> None:
    assert heavy(loaded_modules("import graphmem, graphmem.cli, graphmem.embed, graphmem.llm")) == []


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["search", "--help"], ["ontology", "show"]])
def test_help_and_version_load_no_model_and_no_llm_client(args: list[str]) -> None:
    assert heavy(loaded_modules(run_cli(*args))) == []


def test_the_probe_sees_a_model_runtime_when_one_loads() -> None:
    """The check above can fail: building the embedder loads ONNX Runtime and the tokenizer."""
    modules = loaded_modules("from graphmem.embed.minilm import MiniLMEmbedder\nMiniLMEmbedder().embed(['x'])")
    assert {"onnxruntime", "tokenizers", "graphmem.embed.minilm"} <= set(heavy(modules))
