"""Which Java runs the managed Neo4j: the default one when it is new enough, else a newer JDK
installed beside it (the 2026 line needs Java 21; many machines default to 17)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from graphmem import ServerError, _managed_neo4j


def _fake_java(home: Path, version: str) -> Path:
    java = home / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2025-01-01' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return java


@pytest.fixture
def jdks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "jvm"
    root.mkdir()
    monkeypatch.setattr(_managed_neo4j, "JDK_DIRS", (root,))
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path / "default-17", "17.0.15").parent.parent))
    return root


def test_the_default_java_when_it_is_new_enough(jdks: Path) -> None:
    _fake_java(jdks / "temurin-25", "25.0.1")
    java, major = _managed_neo4j._java(17)
    assert major == 17 and "default-17" in java


def test_a_newer_jdk_beside_an_older_default(jdks: Path) -> None:
    _fake_java(jdks / "openjdk-11", "11.0.2")
    newer = _fake_java(jdks / "temurin-25", "25.0.1")
    assert _managed_neo4j._java(21) == (str(newer), 25)


def test_no_new_enough_java_names_what_to_install(jdks: Path) -> None:
    _fake_java(jdks / "openjdk-11", "11.0.2")
    with pytest.raises(ServerError, match=r"Java 21 or newer.*openjdk-21-jre-headless"):
        _managed_neo4j._java(21)


def test_a_jdk_linked_under_two_names_and_a_broken_one(jdks: Path) -> None:
    newer = _fake_java(jdks / "temurin-25", "25.0.1")
    (jdks / "java-25-link").symlink_to(jdks / "temurin-25")
    broken = jdks / "zulu-99" / "bin" / "java"
    broken.parent.mkdir(parents=True)
    broken.write_text("#!/bin/sh\necho nonsense >&2\n")
    broken.chmod(0o755)
    java, major = _managed_neo4j._java(21)  # the broken "99" is passed over
    assert major == 25 and Path(java).resolve() == newer.resolve()
    assert len([p for p in _managed_neo4j._installed_javas() if "25" in p]) == 1  # counted once
