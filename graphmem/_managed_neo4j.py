"""The managed local Neo4j Community server: jars from Maven Central, run without Docker.

Used when no NEO4J_URI is configured. Needs Java 17+ (`java`; 21+ for the 2025.x and
2026.x releases) to run and Maven (`mvn`) for the one-time download. Everything lives
under ``settings.home`` (GRAPHMEM_HOME, default ~/.cache/graphmem):

    neo4j/<version>/lib/                 the server's jars (~214 jars, ~137 MB)
    neo4j/password                       the `neo4j` user's password, mode 0600
    neo4j/server/conf/neo4j.conf         rewritten from Settings on every start
    neo4j/server/data/                   the databases (users live in the system database)
    neo4j/server/logs/console.log        JVM stdout/stderr of the current run
    neo4j/server/logs/neo4j.log          Neo4j's own log (debug.log has the details)
    neo4j/server/run/graphmem-neo4j.pid  pid of the running server

Where the jars come from (the first complete folder wins; ``install`` downloads only
when none is found):

1. ``$GRAPHMEM_NEO4J_LIB``: a folder holding the jars of this version, used in place
   (CI caches, machines without Maven Central). A wrong folder is an error, not skipped.
2. ``<home>/neo4j/<version>/lib``.
3. ``<default home>/neo4j/<version>/lib`` (default home = ~/.cache/graphmem, or
   $XDG_CACHE_HOME/graphmem): a temporary home (tests, a second instance on other
   ports) shares the per-user download instead of fetching 137 MB again. The jars
   are only ever read, so sharing them between servers is safe.

Otherwise the jars are resolved by Maven into ``<home>/neo4j/<version>/lib``: into a
temporary folder first, renamed into place only when complete, so an interrupted
download is simply redone. Maven keeps its usual copy in ~/.m2 (so a re-install is
quick and ~/.m2/settings.xml mirrors and proxies apply).

Public API: ``install``, ``start``, ``stop``, ``status``, ``ensure_running`` and
``ServerStatus``. POSIX only (signals, process sessions, flock).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ._errors import ConfigError, ServerError
from ._settings import Settings, default_home
from .store import statements

__all__ = ["ServerStatus", "ensure_running", "install", "lib_dir", "start", "status", "stop"]

log = logging.getLogger(__name__)

LIB_ENV = "GRAPHMEM_NEO4J_LIB"
BROWSER_VERSION = "5.24.0"  # Neo4j Browser is released separately from the server
MIN_JAVA = 17
# The calendar-versioned releases (2025.01 on) are compiled for Java 21; 5.x runs on 17.
MIN_JAVA_CALVER = 21
INSTALL_HINT = (
    "e.g. `sudo apt-get install maven openjdk-17-jre-headless` (Debian/Ubuntu) "
    "or `brew install maven openjdk@17` (macOS)"
)
PID_FILE_NAME = "graphmem-neo4j.pid"
MAVEN_TIMEOUT = 30 * 60
LOG_TAIL_LINES = 20

# JVM options the neo4j launch script would add; the entry point is started directly here.
# --add-opens lets Neo4j use direct buffers and fast I/O on Java 17+ instead of slower fallbacks.
_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)
# Added for the calendar-versioned releases, as their neo4j.conf does (no JNA "restricted method" warning).
_JVM_FLAGS_CALVER = ("--enable-native-access=ALL-UNNAMED",)
# Java 24+ warns when sun.misc.Unsafe memory access is used (netty, jctools); the option exists from Java 23.
_JVM_FLAGS_JAVA23 = ("--sun-misc-unsafe-memory-access=allow",)
# Entry points of the Community server: renamed from CommunityEntryPoint to Neo4jCommunity in the 2026 line.
_ENTRY_POINTS = ("org.neo4j.server.CommunityEntryPoint", "org.neo4j.server.Neo4jCommunity")
_ENTRY_POINT_SERVICE = "META-INF/services/org.neo4j.server.startup.EntryPoint"

_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>graphmem</groupId>
  <artifactId>neo4j-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.neo4j.app</groupId><artifactId>neo4j-server</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.neo4j</groupId><artifactId>neo4j</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.neo4j.client</groupId><artifactId>neo4j-browser</artifactId><version>{browser}</version></dependency>
  </dependencies>
  <build>
    <pluginManagement>
      <plugins>
        <!-- Pinned so every Maven release copies the jars the same way. -->
        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
      </plugins>
    </pluginManagement>
  </build>
</project>
"""


class ServerStatus(BaseModel):
    """What `graphmem neo4j status` reports. ``home`` is the Neo4j server folder."""

    running: bool
    version: str | None
    edition: str | None
    bolt_uri: str
    http_url: str
    pid: int | None
    home: str
    logs: str
    password_file: str
    installed: bool

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class _Paths:
    root: Path  # <home>/neo4j
    server: Path  # NEO4J_HOME

    @property
    def conf(self) -> Path:
        return self.server / "conf"

    @property
    def data(self) -> Path:
        return self.server / "data"

    @property
    def logs(self) -> Path:
        return self.server / "logs"

    @property
    def run(self) -> Path:
        return self.server / "run"

    @property
    def plugins(self) -> Path:
        return self.server / "plugins"

    @property
    def import_(self) -> Path:
        return self.server / "import"

    @property
    def pid_file(self) -> Path:
        return self.run / PID_FILE_NAME

    @property
    def console_log(self) -> Path:
        return self.logs / "console.log"

    @property
    def auth_ini(self) -> Path:
        return self.data / "dbms" / "auth.ini"


def _paths(settings: Settings) -> _Paths:
    # Absolute: neo4j.conf paths must not depend on the directory Neo4j is started from.
    root = settings.home.absolute() / "neo4j"
    return _Paths(root=root, server=root / "server")


def _bolt_uri(settings: Settings) -> str:
    # Not settings.bolt_uri: that is NEO4J_URI when set, and this is always the local server.
    return f"bolt://127.0.0.1:{settings.bolt_port}"


def _http_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.http_port}"


def _check_settings(settings: Settings) -> None:
    # Both values reach pom.xml, neo4j.conf and the java command line: accept only plain shapes.
    if not re.fullmatch(r"\d+\.\d+\.\d+", settings.neo4j_version):
        raise ConfigError(
            f"GRAPHMEM_NEO4J_VERSION: {settings.neo4j_version!r} is not a Neo4j release number like 5.26.30"
        )
    for variable, size in (("GRAPHMEM_NEO4J_HEAP", settings.heap), ("GRAPHMEM_NEO4J_PAGECACHE", settings.pagecache)):
        if not re.fullmatch(r"[1-9]\d*[kKmMgG]", size):
            raise ConfigError(f"{variable}: {size!r} is not a size like 512m or 2g")
    if settings.bolt_port == settings.http_port:
        raise ConfigError(
            f"GRAPHMEM_BOLT_PORT and GRAPHMEM_HTTP_PORT are both {settings.bolt_port}: give them different ports"
        )


# ---------------------------------------------------------------------------
# Installation


def _calver(version: str) -> bool:
    """True for the calendar-versioned releases (2025.01.0 on), False for 5.x and older."""
    return int(version.split(".")[0]) >= 2025


def _min_java(version: str) -> int:
    return MIN_JAVA_CALVER if _calver(version) else MIN_JAVA


def _entry_point(lib: Path, version: str) -> str:
    """The server's main class, as declared by the neo4j jar (the class was renamed in 2026.x)."""
    try:
        with zipfile.ZipFile(lib / f"neo4j-{version}.jar") as jar:
            declared = jar.read(_ENTRY_POINT_SERVICE).decode().split()
    except (OSError, KeyError, zipfile.BadZipFile):
        declared = []
    for name in declared:
        if name in _ENTRY_POINTS:
            return name
    return _ENTRY_POINTS[0]


def _lib_complete(lib: Path, version: str) -> bool:
    return (
        (lib / f"neo4j-{version}.jar").is_file()
        and (lib / f"neo4j-server-{version}.jar").is_file()
        and any(lib.glob("neo4j-browser-*.jar"))
    )


def lib_dir(settings: Settings) -> Path | None:
    """The folder of jars to run, following the lookup order in the module docstring; None if not installed."""
    version = settings.neo4j_version
    override = os.environ.get(LIB_ENV)
    if override:
        lib = Path(override).expanduser().absolute()
        if not _lib_complete(lib, version):
            raise ConfigError(
                f"{LIB_ENV}={override} does not hold the Neo4j {version} jars (neo4j-{version}.jar, "
                f"neo4j-server-{version}.jar, neo4j-browser-*.jar): fix the path, or unset it to download them"
            )
        return lib
    for home in (settings.home.absolute(), default_home().absolute()):
        lib = home / "neo4j" / version / "lib"
        if _lib_complete(lib, version):
            return lib
    return None


#: where JDKs are installed side by side (Debian/Ubuntu packages, Temurin and others; macOS)
JDK_DIRS = (Path("/usr/lib/jvm"), Path("/Library/Java/JavaVirtualMachines"))


def _java(minimum: int = MIN_JAVA) -> tuple[str, int]:
    """Path and major version of a java binary of at least `minimum`: $JAVA_HOME's, else the
    one on PATH (as Maven does); when that one is older, the newest installed beside it (a
    Java 21+ for the 2026 line on a machine whose default is 17)."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    java = str(candidate) if candidate and candidate.is_file() else shutil.which("java")
    major = _java_major(java, minimum) if java is not None else 0
    if java is not None and major >= minimum:
        return java, major
    for other in _installed_javas():
        try:
            other_major = _java_major(other, minimum)
        except ServerError:  # a broken JDK beside the others: try the next
            continue
        if other_major >= minimum:
            log.info("%s is Java %d; using %s (Java %d), which Neo4j needs", java, major, other, other_major)
            return other, other_major
    if java is None:
        raise ServerError(
            f"Java {minimum}+ (`java`) was not found on PATH, in $JAVA_HOME or in "
            f"{', '.join(map(str, JDK_DIRS))}: install it, {INSTALL_HINT}"
        )
    raise ServerError(
        f"{'Neo4j 2025.x and later need' if minimum > MIN_JAVA else 'Neo4j needs'} Java {minimum} or newer, but {java} is "
        f"Java {major} and no newer one is installed in {', '.join(map(str, JDK_DIRS))}: install Java {minimum}+ "
        f"(e.g. `sudo apt-get install openjdk-{minimum}-jre-headless`, or a Temurin JDK) and point JAVA_HOME at it"
    )


def _installed_javas() -> list[str]:
    """The java binaries of the JDKs installed side by side, newest-looking first."""
    found: dict[Path, str] = {}  # real path -> the path found (a JDK linked under two names counts once)
    for root in JDK_DIRS:
        if root.is_dir():
            for home in sorted(root.iterdir()):
                for java in (home / "bin" / "java", home / "Contents" / "Home" / "bin" / "java"):
                    if java.is_file():
                        found.setdefault(java.resolve(), str(java))
    return sorted(found.values(), key=lambda path: [int(n) for n in re.findall(r"\d+", path)[:1]] or [0], reverse=True)


def _java_major(java: str, minimum: int) -> int:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerError(f"could not run {java} -version ({exc}): fix or reinstall Java, {INSTALL_HINT}") from None
    # `java -version` prints e.g. 'openjdk version "17.0.15"' or 'java version "1.8.0_392"' on stderr.
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not found:
        raise ServerError(f"could not tell the Java version of {java}: install Java {minimum}+, {INSTALL_HINT}")
    major = int(found.group(1))
    if major == 1 and found.group(2):
        major = int(found.group(2))
    return major


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise installs and starts between processes (e.g. the CLI and a test session)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _make_private_dir(path: Path) -> None:
    # <home>/neo4j holds the password file: keep it private to the user.
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def _maven_problem(output: str) -> str:
    """Maven's own error lines, without colour codes and its generic 'how to get help' footer."""
    lines = []
    for line in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines():
        if "To see the full stack trace" in line:
            break
        if line.strip() and line.strip() != "[ERROR]":
            lines.append(line.rstrip())
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(no output)"


def install(settings: Settings, *, progress: Callable[[str], None] | None = None) -> Path:
    """Return the folder of Neo4j jars, downloading them with Maven the first time (~60 s, 137 MB)."""
    _check_settings(settings)
    found = lib_dir(settings)
    if found is not None:
        return found
    say = progress or (lambda message: log.info("%s", message))
    version = settings.neo4j_version
    paths = _paths(settings)
    _make_private_dir(paths.root)
    target_parent = paths.root / version
    target = target_parent / "lib"
    with _locked(paths.root / "install.lock"):
        if _lib_complete(target, version):  # another process finished it while we waited
            return target
        _java(_min_java(version))  # Maven needs it too; fail with the clearer message first
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ServerError(f"Maven (`mvn`) is needed once to download Neo4j {version}: install it, {INSTALL_HINT}")
        target_parent.mkdir(parents=True, exist_ok=True)
        # Leftovers of a killed download; safe to remove since we hold the install lock.
        for stale in target_parent.glob(".install-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists():  # incomplete folder from an older or manual attempt
            shutil.rmtree(target)
        work = Path(tempfile.mkdtemp(prefix=".install-", dir=target_parent))
        try:
            (work / "pom.xml").write_text(_POM.format(version=version, browser=BROWSER_VERSION))
            say(f"Downloading Neo4j {version} from Maven Central into {target} (about 137 MB, a minute or so)...")
            started = time.monotonic()
            cmd = [
                mvn, "-q", "-B", "-Dstyle.color=never",
                "dependency:copy-dependencies", "-DoutputDirectory=lib", "-DincludeScope=runtime",
            ]  # fmt: skip
            try:
                done = subprocess.run(
                    cmd, cwd=work, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=MAVEN_TIMEOUT
                )
            except subprocess.TimeoutExpired:
                raise ServerError(
                    f"Maven did not finish downloading Neo4j {version} within {MAVEN_TIMEOUT // 60} minutes: "
                    "check the network or the proxy/mirror in ~/.m2/settings.xml, then retry"
                ) from None
            if done.returncode != 0:
                output = _maven_problem(done.stdout + done.stderr)
                raise ServerError(
                    f"Maven could not download Neo4j {version} (exit {done.returncode}): check the network access "
                    "to Maven Central (or the mirror/proxy in ~/.m2/settings.xml) and that GRAPHMEM_NEO4J_VERSION "
                    f"names a real release, then retry. Maven said:\n{output}"
                )
            if not _lib_complete(work / "lib", version):
                raise ServerError(
                    f"Maven finished but the Neo4j {version} jars are missing from {work / 'lib'}: retry; "
                    f"if it persists, download them by hand and point {LIB_ENV} at the folder"
                )
            # The rename is the commit point: `lib` exists only when complete.
            os.rename(work / "lib", target)
            say(f"Neo4j {version} installed in {time.monotonic() - started:.0f} s.")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


# ---------------------------------------------------------------------------
# Process bookkeeping

# Servers started by this Python process: kept so they are reaped (no zombie that
# looks alive) and so Popen does not warn about a child still running when collected.
_children: dict[int, subprocess.Popen[bytes]] = {}


def _alive(pid: int, paths: _Paths) -> bool:
    """True if `pid` is a live Neo4j started for this server folder (pids get reused after a reboot)."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: never ours
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        args = cmdline.read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc (macOS): trust kill(0)
    except OSError:
        return True
    # A zombie has an empty cmdline, so it counts as gone as it should.
    return any(name.encode() in args for name in _ENTRY_POINTS) and f"--home-dir={paths.server}".encode() in args


def _read_pid(paths: _Paths) -> int | None:
    try:
        return int(paths.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _running_pid(paths: _Paths) -> int | None:
    """Pid of the live server, or None; a pid file left by a dead server is removed."""
    pid = _read_pid(paths)
    if pid is None:
        if paths.pid_file.exists():  # unreadable or garbage
            paths.pid_file.unlink(missing_ok=True)
        return None
    if _alive(pid, paths):
        return pid
    # Re-read so a pid file just written by a concurrent start is not removed.
    if _read_pid(paths) == pid:
        paths.pid_file.unlink(missing_ok=True)
    return None


def _port_open(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _check_port_free(port: int, env_name: str, purpose: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port in TIME_WAIT after our own stop is free for Neo4j too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise ServerError(
                f"port {port} ({purpose}) on 127.0.0.1 is already in use by another program, so the managed Neo4j "
                f"cannot start: stop that program or pick a free port with {env_name}=<port>. If it is a Neo4j of "
                "your own, use it instead by setting NEO4J_URI and NEO4J_PASSWORD"
            ) from None


def _logs_excerpt(paths: _Paths) -> str:
    parts = []
    for path in (paths.console_log, paths.logs / "neo4j.log"):
        tail = _tail(path)
        if tail:
            parts.append(f"--- last lines of {path} ---\n{tail}")
    return "\n".join(parts) or f"(no log output; see {paths.logs})"


# ---------------------------------------------------------------------------
# Start / stop


def _write_conf(settings: Settings, paths: _Paths) -> None:
    bolt = f"127.0.0.1:{settings.bolt_port}"
    http = f"127.0.0.1:{settings.http_port}"
    lines = [
        "# Written by graphmem on every start from its settings: edits here are overwritten.",
        "server.default_listen_address=127.0.0.1",
        f"server.bolt.listen_address={bolt}",
        f"server.bolt.advertised_address={bolt}",
        f"server.http.listen_address={http}",
        f"server.http.advertised_address={http}",
        "server.https.enabled=false",
        "dbms.security.auth_enabled=true",
        f"server.directories.data={paths.data}",
        f"server.directories.logs={paths.logs}",
        f"server.directories.run={paths.run}",
        f"server.directories.plugins={paths.plugins}",
        f"server.directories.import={paths.import_}",
        f"server.memory.heap.initial_size={settings.heap}",
        f"server.memory.heap.max_size={settings.heap}",
        f"server.memory.pagecache.size={settings.pagecache}",
        # Keep the disk footprint small: old transaction logs are not needed for a local memory store.
        "db.tx_log.rotation.retention_policy=1 days",
    ]
    conf = paths.conf / "neo4j.conf"
    tmp = conf.with_suffix(".conf.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, conf)


def _new_password() -> str:
    # Never starting with "-", which neo4j-admin would read as an option.
    while True:
        password = secrets.token_urlsafe(18)
        if not password.startswith("-"):
            return password


def _write_private(path: Path, text: str) -> None:
    _make_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to an existing file
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _neo4j_env(paths: _Paths) -> dict[str, str]:
    return {**os.environ, "NEO4J_HOME": str(paths.server), "NEO4J_CONF": str(paths.conf)}


def _reset_hint(paths: _Paths) -> str:
    # After the first start the users live in the system database, so auth.ini no longer matters.
    return (
        f"or, to start over with a new password, stop the server and delete {paths.data} (this deletes all stored data)"
    )


def _ensure_password(settings: Settings, paths: _Paths, java: str, lib: Path) -> None:
    """Before the first start, give the `neo4j` user a random password kept in settings.password_file."""
    password_file = settings.password_file.absolute()
    if (paths.data / "databases" / "system").exists():  # started before: the password is set for good
        if not password_file.is_file():
            raise ServerError(
                f"the managed Neo4j in {paths.server} already has a password but {password_file} is missing: "
                f"restore that file, {_reset_hint(paths)}"
            )
        return
    if paths.auth_ini.exists() and password_file.is_file():  # set by an earlier attempt that did not launch
        return
    password = _new_password()
    # The file first: if setting the password fails, the next start simply tries again.
    _write_private(password_file, password + "\n")
    # Passed through a picocli @argument file so it never shows in `ps` output.
    fd, argfile = tempfile.mkstemp(prefix=".initial-password-", dir=paths.run)  # mode 0600
    try:
        os.write(fd, f'"{password}"\n'.encode())
        os.close(fd)
        cmd = [java, "-Xmx512m", "-cp", f"{lib}/*", "org.neo4j.cli.AdminTool",
               "dbms", "set-initial-password", f"@{argfile}"]  # fmt: skip
        try:
            done = subprocess.run(
                cmd, env=_neo4j_env(paths), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300
            )
        except subprocess.TimeoutExpired:
            raise ServerError("neo4j-admin set-initial-password did not finish within 5 minutes: retry") from None
    finally:
        Path(argfile).unlink(missing_ok=True)
    if done.returncode != 0 or not paths.auth_ini.exists():
        output = (done.stdout + done.stderr).replace(password, "***").strip()
        raise ServerError(
            f"could not set the initial Neo4j password (neo4j-admin exit {done.returncode}): "
            f"check that {paths.data} is writable, then retry. It said:\n{output[-2000:]}"
        )


def _launch(settings: Settings, paths: _Paths, java: str, java_major: int, lib: Path) -> int:
    calver = _calver(settings.neo4j_version)
    cmd = [
        java,
        f"-Xms{settings.heap}",
        f"-Xmx{settings.heap}",
        *_JVM_FLAGS,
        *(_JVM_FLAGS_CALVER if calver else ()),
        *(_JVM_FLAGS_JAVA23 if calver and java_major >= 23 else ()),
        "-cp",
        f"{lib}/*",  # expanded by java itself, no shell involved
        _entry_point(lib, settings.neo4j_version),
        f"--home-dir={paths.server}",
        f"--config-dir={paths.conf}",
    ]
    with open(paths.console_log, "wb") as console:
        # A new session: Ctrl-C in the terminal that started it does not stop the server.
        proc = subprocess.Popen(
            cmd,
            cwd=paths.server,
            env=_neo4j_env(paths),
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    tmp = paths.pid_file.with_suffix(".tmp")
    tmp.write_text(f"{proc.pid}\n")
    os.replace(tmp, paths.pid_file)
    return proc.pid


def _wait_for_bolt(settings: Settings, paths: _Paths, pid: int, wait_seconds: float) -> None:
    """Return once Bolt accepts the password and runs a query; raise if the server dies or times out."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, DriverError, Neo4jError

    password = settings.password_file.absolute().read_text().strip()
    deadline = time.monotonic() + wait_seconds
    last_problem = "Bolt port not open yet"
    driver = GraphDatabase.driver(_bolt_uri(settings), auth=(settings.neo4j_user, password), connection_timeout=5.0)
    try:
        while True:
            # A plain TCP probe first: cheaper and quieter than the driver while the JVM boots.
            if _port_open(settings.bolt_port):
                try:
                    driver.verify_connectivity()
                    with driver.session() as session:  # the home database may still be starting
                        session.run(statements.load("ping")).consume()
                    return
                except AuthError:
                    raise ServerError(
                        f"the managed Neo4j rejected the password in {settings.password_file} "
                        f"(user {settings.neo4j_user!r}): restore the right password file, {_reset_hint(paths)}"
                    ) from None
                except (DriverError, Neo4jError, OSError) as exc:
                    last_problem = f"{type(exc).__name__}: {exc}"
            if not _alive(pid, paths):
                _running_pid(paths)  # drop the pid file of the dead server
                raise ServerError(
                    f"Neo4j exited while starting (pid {pid}); look at {paths.logs}. Excerpt:\n{_logs_excerpt(paths)}"
                )
            if time.monotonic() >= deadline:
                raise ServerError(
                    f"Neo4j (pid {pid}) did not answer on {_bolt_uri(settings)} within {wait_seconds:.0f} s "
                    f"({last_problem}). It may still be starting: retry, or stop it with `graphmem neo4j stop` and "
                    f"check {paths.logs} (if GRAPHMEM_BOLT_PORT changed since it started, stop it first). "
                    f"Excerpt:\n{_logs_excerpt(paths)}"
                )
            time.sleep(1.0)
    finally:
        driver.close()


def start(settings: Settings, *, wait_seconds: float = 120) -> ServerStatus:
    """Start the managed server (installing it first if needed) and wait until Bolt answers."""
    _check_settings(settings)
    paths = _paths(settings)
    _make_private_dir(paths.root)
    with _locked(paths.root / "server.lock"):
        pid = _running_pid(paths)
        if pid is not None:  # already running, or being started by someone else
            _wait_for_bolt(settings, paths, pid, wait_seconds)
            return status(settings)
        # Ports first: a taken port should fail at once, not after a one-minute download.
        _check_port_free(settings.bolt_port, "GRAPHMEM_BOLT_PORT", "Bolt")
        _check_port_free(settings.http_port, "GRAPHMEM_HTTP_PORT", "HTTP")
        lib = install(settings)
        java, java_major = _java(_min_java(settings.neo4j_version))
        for folder in (paths.conf, paths.data, paths.logs, paths.run, paths.plugins, paths.import_):
            folder.mkdir(parents=True, exist_ok=True)
        _write_conf(settings, paths)
        _ensure_password(settings, paths, java, lib)
        log.info("starting Neo4j %s on %s (logs in %s)", settings.neo4j_version, _bolt_uri(settings), paths.logs)
        pid = _launch(settings, paths, java, java_major, lib)
        _wait_for_bolt(settings, paths, pid, wait_seconds)
    return status(settings)


def _wait_exit(pid: int, paths: _Paths, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid, paths):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def stop(settings: Settings, *, timeout: float = 60) -> bool:
    """Stop the managed server: SIGTERM (a clean checkpoint), SIGKILL after `timeout` s. True if it was running."""
    paths = _paths(settings)
    pid = _running_pid(paths)
    if pid is None:
        return False
    log.info("stopping Neo4j (pid %s)", pid)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    if not _wait_exit(pid, paths, timeout):
        log.warning("Neo4j (pid %s) did not stop within %.0f s; killing it", pid, timeout)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if not _wait_exit(pid, paths, 10):
            raise ServerError(f"could not stop Neo4j (pid {pid}) even with SIGKILL: check it with `ps -p {pid}`")
    _children.pop(pid, None)
    if _read_pid(paths) == pid:
        paths.pid_file.unlink(missing_ok=True)
    return True


# ---------------------------------------------------------------------------
# Status


def _discover(settings: Settings) -> tuple[str | None, str | None]:
    """Version and edition from the HTTP discovery document, or (None, None)."""
    try:
        with urllib.request.urlopen(_http_url(settings) + "/", timeout=2) as response:
            doc = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None, None
    if not isinstance(doc, dict):
        return None, None
    version, edition = doc.get("neo4j_version"), doc.get("neo4j_edition")
    return (str(version) if version else None), (str(edition) if edition else None)


def status(settings: Settings) -> ServerStatus:
    """Whether the managed server runs (its process is alive and Bolt accepts connections), and where it lives."""
    paths = _paths(settings)
    pid = _running_pid(paths)
    running = pid is not None and _port_open(settings.bolt_port)
    version = edition = None
    if running:
        version, edition = _discover(settings)
    try:
        installed = lib_dir(settings) is not None
    except ConfigError:
        installed = False
    if version is None and installed:
        version = settings.neo4j_version
    return ServerStatus(
        running=running,
        version=version,
        edition=edition,
        bolt_uri=_bolt_uri(settings),
        http_url=_http_url(settings),
        pid=pid,
        home=str(paths.server),
        logs=str(paths.logs),
        password_file=str(settings.password_file.absolute()),
        installed=installed,
    )


def ensure_running(settings: Settings, *, wait_seconds: float = 120) -> ServerStatus:
    """Start the managed server unless it already runs; return its status."""
    # start() already returns at once when the server runs; going through it (and its lock)
    # also waits for a start under way in another process instead of racing it.
    return start(settings, wait_seconds=wait_seconds)
