"""graphmem.integrations._require: a missing framework names the extra that installs it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from graphmem import ConfigError
from graphmem.integrations._require import require


def test_require_returns_the_module() -> None:
    assert require("json.decoder", extra="none").__name__ == "json.decoder"


def test_a_missing_framework_names_its_extra() -> None:
    with pytest.raises(ConfigError, match=r'pip install "graphmem\[someframework\]"') as caught:
        require("graphmem_no_such_framework_x1.store", extra="someframework")
    assert "graphmem_no_such_framework_x1" in str(caught.value)
    assert isinstance(caught.value.__cause__, ImportError)


def test_a_broken_framework_keeps_its_own_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the framework is installed, but one of its own imports fails: that error is the useful one
    package = tmp_path / "graphmem_broken_framework_x1"
    package.mkdir()
    (package / "__init__.py").write_text("import graphmem_missing_dependency_x1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError) as caught:
        require("graphmem_broken_framework_x1", extra="broken")
    assert not isinstance(caught.value, ConfigError)
    assert caught.value.name == "graphmem_missing_dependency_x1"
    sys.modules.pop("graphmem_broken_framework_x1", None)
