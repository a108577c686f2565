"""PostgreSQL for tests: the server's URL, and a fresh schema per test session.

Every test session works in its own schema (``agentreg_<random>``) on the shared server,
so parallel runs and leftovers of a crashed run never meet. The schema travels inside
the URL, as libpq's ``options=-csearch_path=<schema>``, so any code that takes a
database URL (``make_engine``, ``upgrade_database``, ``Settings.database_url``) lands in
it without knowing.

Without a reachable server the PostgreSQL tests fail, with a message saying how to start
one or skip them (``AGENT_REGISTRY_SKIP_POSTGRES=1``): a silent skip would let a
PostgreSQL-only bug through.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

URL_ENV = "AGENT_REGISTRY_TEST_POSTGRES_URL"
SKIP_ENV = "AGENT_REGISTRY_SKIP_POSTGRES"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA_PREFIX = "agentreg_"


class PostgresUnavailableError(RuntimeError):
    """The test PostgreSQL server cannot be reached."""


def base_url() -> str:
    """The test server's URL: ``$AGENT_REGISTRY_TEST_POSTGRES_URL`` or the local default."""
    return os.environ.get(URL_ENV) or DEFAULT_URL


def skip_requested() -> bool:
    """Whether the run asked to skip PostgreSQL tests instead of failing them."""
    return os.environ.get(SKIP_ENV, "").strip().lower() in {"1", "true", "yes"}


def require_postgres() -> str:
    """The server's URL once it answers; otherwise fail the test (or skip, if asked to).

    Call it from a session-scoped fixture so an unreachable server costs one timeout.
    """
    url = base_url()
    try:
        check_reachable(url)
    except PostgresUnavailableError as exc:
        problem = str(exc)
    else:
        return url
    # Reported outside the except block so the report is this one line, not a chain.
    if skip_requested():
        pytest.skip(f"{problem} ({SKIP_ENV} is set)")
    pytest.fail(
        f"{problem}. Start PostgreSQL there, point {URL_ENV} at a server, "
        f"or set {SKIP_ENV}=1 to skip the PostgreSQL tests.",
        pytrace=False,
    )


def check_reachable(url: str) -> None:
    """Connect once, quickly.

    Raises:
        PostgresUnavailableError: With the (password-free) URL and the driver's reason.
    """
    engine = _admin_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise PostgresUnavailableError(
            f"PostgreSQL is not reachable at {shown}: {reason}"
        ) from None
    finally:
        engine.dispose()


def new_schema_name() -> str:
    """A schema name no other run uses."""
    return f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:12]}"


def create_schema(url: str, schema: str) -> None:
    """Create an empty schema."""
    _execute(url, f'CREATE SCHEMA "{schema}"')


def drop_schema(url: str, schema: str) -> None:
    """Drop a schema and everything in it; a missing one is fine."""
    _execute(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def url_with_schema(url: str, schema: str) -> str:
    """``url`` with every connection's ``search_path`` set to ``schema`` (libpq options)."""
    with_options = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return with_options.render_as_string(hide_password=False)


@contextmanager
def isolated_schema(url: str) -> Iterator[str]:
    """A fresh, empty schema for the block; yields a URL that works inside it.

    Args:
        url: The server's URL (see :func:`require_postgres`).

    Yields:
        The URL with the schema set; the schema is dropped when the block ends.
    """
    schema = new_schema_name()
    create_schema(url, schema)
    try:
        yield url_with_schema(url, schema)
    finally:
        drop_schema(url, schema)


def _execute(url: str, statement: str) -> None:
    engine = _admin_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _admin_engine(url: str) -> Engine:
    parsed: URL = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
