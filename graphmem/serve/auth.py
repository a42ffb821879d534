"""The bearer token of the HTTP surfaces (`graphmem serve`, `graphmem mcp --http`): where it
comes from, how a request's header is checked, and which addresses may be bound."""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from .._settings import Settings

AsgiScope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[AsgiScope, Receive, Send], Awaitable[None]]


def api_token(settings: Settings) -> tuple[str, str]:
    """The token and where it is kept: GRAPHMEM_API_TOKEN, else a file under GRAPHMEM_HOME,
    generated (mode 0600) on first use so a local client can read it."""
    if settings.api_token:
        return settings.api_token, "GRAPHMEM_API_TOKEN"
    path = settings.api_token_file
    if not path.is_file():
        _write_private(path, secrets.token_urlsafe(32))
    token = path.read_text().strip()
    if not token:
        raise ConfigError(f"{path} is empty: delete it to have a new token generated, or set GRAPHMEM_API_TOKEN")
    return token, str(path)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # created 0600 from the start: the token is never readable by others, not even briefly
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text + "\n")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind(host: str, settings: Settings) -> None:
    """A non-loopback address is served only with a token the operator chose: a generated
    one sits in a local file that remote clients would have to be handed anyway."""
    if not is_loopback(host) and not settings.api_token:
        raise ConfigError(
            f"refusing to listen on {host} without GRAPHMEM_API_TOKEN: set it to a long random secret "
            "(e.g. `export GRAPHMEM_API_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')`), "
            "or bind 127.0.0.1"
        )


def authorized(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


UNAUTHORIZED = {
    "error": {
        "type": "unauthorized",
        "message": "missing or wrong bearer token: send `Authorization: Bearer <token>` "
        "(GRAPHMEM_API_TOKEN, or the file the server named when it started)",
    }
}


class BearerAuth:
    """ASGI middleware: every HTTP request but those to `open_paths` needs the token."""

    def __init__(self, app: ASGIApp, token: str, open_paths: frozenset[str] = frozenset()):
        self.app = app
        self.token = token
        self.open_paths = open_paths

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        header = headers.get(b"authorization", b"").decode("latin-1")
        if authorized(header, self.token):
            await self.app(scope, receive, send)
            return
        body = json.dumps(UNAUTHORIZED).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="graphmem"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
