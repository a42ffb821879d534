"""Running an ASGI app (the REST service, the MCP HTTP endpoint) with uvicorn until SIGINT or
SIGTERM."""

from __future__ import annotations

import signal
from typing import Any

import uvicorn

#: how long a stop waits for responses still open; an add takes well under it
GRACE_SECONDS = 30


def serve_until_signalled(app: Any, *, host: str, port: int) -> None:
    """On SIGINT/SIGTERM uvicorn stops accepting, answers the requests in flight (an add commits
    or never starts; a client's open event stream is cut after GRACE_SECONDS), runs the app's
    shutdown, then re-raises the signal. A handler that ignores it stays in place for that
    re-raise, so a stop asked for is a clean exit (0)."""
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=GRACE_SECONDS)
        uvicorn.Server(config).run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
