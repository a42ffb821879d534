"""The one place an adapter asks for its framework."""

from __future__ import annotations

import importlib
from types import ModuleType

from .._errors import ConfigError


def require(module: str, *, extra: str) -> ModuleType:
    """`module` imported, or a ConfigError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != module.split(".")[0]:
            raise  # the framework is there but broken: its own error says more
        raise ConfigError(
            f'this graphmem integration needs {module.split(".")[0]}: install it with pip install "graphmem[{extra}]"'
        ) from exc
