"""The transport to Neo4j, under the typed door (`store.queries.Queries`, a method per statement).

Every statement comes from cypher/*.cypher by name and every value is a parameter; the one
exception is the user's own `graphmem cypher` (`run_read_only`, or `run_text` with --write).
Writes go through the driver's managed transactions (`execute_query`, `execute_write`), which
retry transient errors. A read runs in an auto-commit transaction: one network exchange instead
of a managed transaction's two (BEGIN+RUN+PULL, then COMMIT), ~0.45 ms less per statement on
loopback; a read that fails retryably runs again as a managed transaction, which the driver
retries. Each call counts one round trip into the `Usage` it is given, so the cost of an add
can be measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import neo4j
from neo4j import GraphDatabase, RoutingControl
from neo4j.exceptions import AuthError, ClientError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired
from neo4j.time import DateTime as Neo4jDateTime

from .._errors import InputError, Neo4jUnavailable
from .._models import Fact, Usage
from .._settings import Settings
from . import statements

_T = TypeVar("_T")


def _native(value: Any) -> Any:
    if isinstance(value, Neo4jDateTime):
        return value.to_native()
    return value


def fact_from_record(data: dict[str, Any]) -> Fact:
    """A Fact from the `f {.*, source: ..., target: ...}` projection used by the Cypher files."""
    clean = {k: _native(v) for k, v in data.items() if v is not None}
    clean.setdefault("message_ids", [])
    return Fact.model_validate(clean)


class Store:
    def __init__(self, driver: neo4j.Driver, *, database: str = "neo4j", uri: str = "", user: str = ""):
        self._driver = driver
        self.database = database
        self.uri = uri
        self.user = user

    @classmethod
    def connect(cls, settings: Settings) -> Store:
        driver = GraphDatabase.driver(
            settings.bolt_uri,
            auth=(settings.neo4j_user, settings.password()),
            connection_timeout=10,
            max_transaction_retry_time=15,
            # warnings such as "property key does not exist" are normal on an empty graph
            notifications_min_severity="OFF",
        )
        store = cls(driver, database=settings.neo4j_database, uri=settings.bolt_uri, user=settings.neo4j_user)
        store.verify()
        return store

    def close(self) -> None:
        self._driver.close()

    def verify(self) -> None:
        with self._errors():
            self._driver.verify_connectivity()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turns driver errors about reaching the server into one clear Neo4jUnavailable."""
        try:
            yield
        except AuthError:
            raise Neo4jUnavailable(
                f"Neo4j at {self.uri} rejected the credentials of user {self.user!r}: "
                "fix NEO4J_USER / NEO4J_PASSWORD (the managed server keeps its password in ~/.cache/graphmem/neo4j/password)"
            ) from None
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise Neo4jUnavailable(
                f"cannot reach Neo4j at {self.uri} ({exc.__class__.__name__}: {exc}): "
                "start it with `graphmem neo4j start`, or fix NEO4J_URI"
            ) from None
        except UnicodeEncodeError as exc:
            # The API checks its text fields first (naming the field); this is the safety net.
            raise InputError(
                f"a value sent to Neo4j is not valid Unicode ({exc.reason} at position {exc.start}): "
                "fix how the text was decoded"
            ) from None
        except ClientError as exc:
            if exc.code and exc.code.endswith("DatabaseNotFound"):
                raise Neo4jUnavailable(
                    f"Neo4j at {self.uri} has no database {self.database!r}: fix NEO4J_DATABASE"
                ) from None
            raise

    # -- generic access -------------------------------------------------------------
    def run(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        *,
        write: bool = False,
        usage: Usage | None = None,
    ) -> list[dict[str, Any]]:
        """Run the named statement in its own managed transaction; return records as dicts.
        graphmem's statements return maps and scalars only, so a record's values are taken as
        they come (Record.data() walks every value to convert nodes: ~1/3 of a search's Python
        time)."""
        return self._execute(statements.statement(name), params, write, usage, plain=True)

    def run_text(
        self,
        query: str,
        params: dict[str, Any] | None = None,
        *,
        write: bool = False,
        usage: Usage | None = None,
    ) -> list[dict[str, Any]]:
        """Run a statement text. Only for statements from cypher/ and the user's own `graphmem cypher`."""
        return self._execute(query, params, write, usage, plain=False)

    def _execute(
        self, query: str, params: dict[str, Any] | None, write: bool, usage: Usage | None, *, plain: bool
    ) -> list[dict[str, Any]]:
        with self._errors():
            records = self._autocommit_read(query, params) if not write else None
            if records is None:
                records, _, _ = self._driver.execute_query(
                    query,
                    params or {},
                    database_=self.database,
                    routing_=RoutingControl.WRITE if write else RoutingControl.READ,
                )
        if usage is not None:
            usage.neo4j_round_trips += 1
        if plain:
            return [dict(zip(record.keys(), record.values(), strict=True)) for record in records]
        return [record.data() for record in records]

    def _autocommit_read(self, query: str, params: dict[str, Any] | None) -> list[neo4j.Record] | None:
        """The read's records, or None when it failed in a way worth retrying (the caller then
        runs it as a managed transaction)."""
        try:
            with self._driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
                return list(session.run(query, params or {}))
        except (Neo4jError, DriverError) as exc:
            if exc.is_retryable():
                return None
            raise

    def run_text_autocommit(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A statement text in an auto-commit transaction (no retries): the only way to run
        `CALL { ... } IN TRANSACTIONS`, as bench/cypher/delete.cypher does for large data."""
        with self._errors(), self._driver.session(database=self.database) as session:
            return [r.data() for r in session.run(query, params or {})]

    def run_read_only(self, query: str, params: dict[str, Any] | None = None) -> tuple[list[str], list[dict[str, Any]]]:
        """A user's ad-hoc query in a READ access-mode transaction: the server refuses writes."""

        def work(tx: neo4j.ManagedTransaction) -> tuple[list[str], list[dict[str, Any]]]:
            result = tx.run(query, params or {})
            return list(result.keys()), [r.data() for r in result]

        with self._errors(), self._driver.session(database=self.database) as session:
            return session.execute_read(work)

    def write_transaction(
        self,
        name: str,
        params: dict[str, Any],
        *,
        usage: Usage | None = None,
        check_rows: Callable[[list[dict[str, Any]]], None] | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Run one named write statement in one managed transaction (TransactionStore's
        write_transaction, committed when it returns); a retried transaction counts once."""
        rows = self.unit_of_work(
            lambda tx: tx.write_transaction(name, params, check_rows=check_rows, before_commit=before_commit)
        )
        if usage is not None:
            usage.neo4j_round_trips += 1
        return rows

    def unit_of_work(self, work: Callable[[TransactionStore], _T]) -> _T:
        """`work` in one managed write transaction: the statements it runs through the
        TransactionStore it is given commit together when it returns, or not at all. Retried
        whole on transient errors (deadlocks), so `work` must not call an LLM."""
        with self._errors(), self._driver.session(database=self.database) as session:
            return session.execute_write(lambda tx: work(TransactionStore(tx)))

    def server_info(self) -> dict[str, Any]:
        with self._errors():
            info = self._driver.get_server_info()
        rows = self.run("server_components")
        return {"address": str(info.address), "agent": info.agent, **(rows[0] if rows else {})}


class TransactionStore:
    """The statement methods of Store, run inside one open transaction (Store.unit_of_work)."""

    def __init__(self, tx: neo4j.ManagedTransaction):
        self._tx = tx

    def run(
        self, name: str, params: dict[str, Any] | None = None, *, write: bool = False, usage: Usage | None = None
    ) -> list[dict[str, Any]]:
        result = self._tx.run(statements.statement(name), params or {})
        rows = [dict(zip(record.keys(), record.values(), strict=True)) for record in result]
        if usage is not None:
            usage.neo4j_round_trips += 1
        return rows

    def run_text(
        self, query: str, params: dict[str, Any] | None = None, *, write: bool = False, usage: Usage | None = None
    ) -> list[dict[str, Any]]:
        rows = [record.data() for record in self._tx.run(query, params or {})]
        if usage is not None:
            usage.neo4j_round_trips += 1
        return rows

    def write_transaction(
        self,
        name: str,
        params: dict[str, Any],
        *,
        usage: Usage | None = None,
        check_rows: Callable[[list[dict[str, Any]]], None] | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """The statement in the open transaction, which commits when the unit of work ends.
        `check_rows` sees the statement's rows and `before_commit` runs last; if either raises,
        the transaction rolls back (before_commit exists to prove nothing partial commits)."""
        rows = [r.data() for r in self._tx.run(statements.statement(name), params)]
        if check_rows is not None:
            check_rows(rows)
        if before_commit is not None:
            before_commit()
        if usage is not None:
            usage.neo4j_round_trips += 1
        return rows


def is_constraint_violation(exc: Exception) -> bool:
    return isinstance(exc, Neo4jError) and bool(exc.code) and "ConstraintValidationFailed" in exc.code
