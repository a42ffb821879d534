"""graphmem's version: pyproject.toml's, as installed."""

from importlib import metadata

try:
    __version__ = metadata.version("graphmem")
except metadata.PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"
