"""Which scope a `graphmem mcp` tool call works in (pure: unit-tested without a server).

The server's flags (`--user`, `--agent`, `--run`) set its scope. A call may narrow it, giving an
id the server left open (a `run_id`, say), but never widen or change it: another user only when
the server was started with `--any-user`, another agent or run never."""

from __future__ import annotations

from dataclasses import dataclass

from .._errors import InputError
from .._models import Scope


class ScopeRefused(InputError):
    """A tool call asked for a scope the server does not grant."""


@dataclass(frozen=True)
class ScopePolicy:
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    any_user: bool = False

    def __post_init__(self) -> None:
        if not any((self.user_id, self.agent_id, self.run_id, self.any_user)):
            raise InputError("the server needs a scope: give --user (or --agent, --run), or --any-user")

    def resolve(self, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None) -> Scope:
        scope = Scope(
            user_id=self._pick("user_id", self.user_id, user_id, may_change=self.any_user),
            agent_id=self._pick("agent_id", self.agent_id, agent_id, may_change=False),
            run_id=self._pick("run_id", self.run_id, run_id, may_change=False),
        )  # raises, naming the ids, when the call gave none and the server has none
        return scope

    @staticmethod
    def _pick(field: str, fixed: str | None, asked: str | None, *, may_change: bool) -> str | None:
        if asked is None or asked == fixed:
            return fixed
        if fixed is None or may_change:
            return asked  # narrowing an id the server left open, or --any-user
        how = "; start the server with --any-user to allow it" if field == "user_id" else ""
        raise ScopeRefused(f"{field} {asked!r} is outside this server's scope ({field}={fixed!r}){how}")
