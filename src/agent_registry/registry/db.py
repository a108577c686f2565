"""Engines, sessions and schema upgrades for the registry database.

Two databases are supported: SQLite (the embedded default, one file under the data dir)
and PostgreSQL through psycopg 3. Nothing here runs at import time; callers build an
engine once at a process boundary and pass it in.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The Alembic script folder, found next to this module so an installed wheel works."""

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
"""How long a SQLite writer waits for another one before failing with "database is locked".

Writers are serialised (see :func:`_configure_sqlite`), so this is the longest write
transaction another process may hold without making this one fail."""

MIGRATION_LOCK_KEY = 0x4147454E54524547
"""PostgreSQL advisory lock ("AGENTREG") held while migrating, so that a worker and a CLI
starting together do not both try to create the tables."""

READ_ONLY_OPTION = "agent_registry_read_only"
"""Execution option marking a unit of work as read-only (:func:`read_scope`)."""

_HOLDS_WRITER_QUEUE = "agent_registry_holds_writer_queue"

_WRITER_QUEUES: dict[str, _WriterQueue] = {}
_WRITER_QUEUES_LOCK = threading.Lock()

_SCHEMA_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """Build the engine for a registry URL.

    PostgreSQL schema isolation can be given two ways, with the same effect: the
    ``schema`` argument here, or libpq's ``options`` in the URL itself
    (``…?options=-csearch_path%3Dmy_schema``). The URL form is what travels through
    ``AGENT_REGISTRY_DATABASE_URL`` and :func:`upgrade_database`, so a test can point every
    part of the system at its own schema with one string.

    Args:
        url: SQLAlchemy URL. ``sqlite:///path`` or PostgreSQL; ``postgresql://`` and
            ``postgres://`` are rewritten to the psycopg 3 driver.
        schema: PostgreSQL only: put this schema first on the ``search_path`` of every
            connection, so tables are created and read there. The schema must exist.

    Returns:
        A configured engine. SQLite gets foreign keys, WAL and serialised writers;
        PostgreSQL gets ``pool_pre_ping`` so connections dropped by the server are
        replaced instead of failing the next call.

    Raises:
        ValueError: If the URL is neither SQLite nor PostgreSQL, or ``schema`` is given
            for SQLite or is not a plain identifier.
    """
    parsed = _normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if schema is not None:
            raise ValueError("schema= applies to PostgreSQL only; SQLite has one file per db")
        return _sqlite_engine(parsed)
    return _postgres_engine(parsed, schema=schema)


def _normalise_url(url: str) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    # Bare postgres(ql):// would pick psycopg2, which the project does not install.
    if backend == "postgres" or parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend not in {"sqlite", "postgresql"}:
        raise ValueError(
            f"unsupported registry database {parsed.render_as_string(hide_password=True)}; "
            "use sqlite:///path or postgresql+psycopg://…"
        )
    return parsed


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )
    _configure_sqlite(engine, writers=_writer_queue(url))
    return engine


def _configure_sqlite(engine: Engine, *, writers: _WriterQueue) -> None:
    """Make SQLite behave like a transactional database for the store.

    The sqlite3 driver's legacy mode neither begins a transaction before a SELECT nor
    makes SAVEPOINT part of the enclosing transaction, and the store's race handling
    relies on both; so the driver's own BEGIN is switched off and one is emitted here.
    ``BEGIN IMMEDIATE`` takes the write lock up front: two sessions that read and then
    write would otherwise both read, and the second would fail at its first write
    ("database is locked") instead of waiting. The price is that every transaction,
    read-only ones included, queues behind the current writer; for the embedded,
    single-host registry that is the right trade, and PostgreSQL is there for more.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: object, connection_record: ConnectionPoolEntry) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            raise TypeError(f"expected a sqlite3 connection, got {type(dbapi_connection)}")
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        _enable_wal(dbapi_connection)
        # In WAL mode NORMAL never corrupts the file and loses nothing when a process
        # dies; only a power cut or an OS crash can drop the last commits. FULL syncs
        # every commit to disk and cost the embedded registry a sixth of its lifecycle
        # throughput (docs/performance.md); PostgreSQL is there for stricter durability.
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            # A deferred BEGIN: in WAL mode a reader sees the last commit and neither
            # waits for the writer nor makes it wait.
            connection.exec_driver_sql("BEGIN")
            return
        writers.enter(connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(connection)
            raise

    # The queue is left once the connection is back in the pool, which is after its
    # COMMIT or ROLLBACK ran: the "commit" event fires before the COMMIT, and a writer
    # let in then would find SQLite's lock still taken and sleep in its busy handler.
    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        writers.leave_record(record.info)

    @event.listens_for(engine, "reset")
    def _on_reset(dbapi_connection: object, record: ConnectionPoolEntry, state: object) -> None:
        writers.leave_record(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(
        dbapi_connection: object, record: ConnectionPoolEntry, exception: object
    ) -> None:
        writers.leave_record(record.info)


def _writer_queue(url: URL) -> _WriterQueue:
    """The queue of this process's writers to the database file ``url`` names.

    One per file, not per engine: the worker's engine and another one opened on the
    same file in the same process (the catalog's, staging a bundle) must queue
    together, or they meet in SQLite's busy handler again.
    """
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return _WriterQueue()
    key = str(Path(database).expanduser().resolve())
    with _WRITER_QUEUES_LOCK:
        return _WRITER_QUEUES.setdefault(key, _WriterQueue())


class _WriterQueue:
    """Hands SQLite's write lock from one thread of this process to the next at once.

    Left to SQLite, a writer that finds the lock taken sleeps in its busy handler, in
    steps growing to 100 ms, and does not wake when the lock is freed: with a dozen
    activity threads writing, most of their time went to those sleeps
    (docs/performance.md). Threads of one process now queue on this lock first and
    take SQLite's as soon as the last writer's connection is back in the pool, its
    COMMIT done. Other processes still meet
    SQLite's own lock and busy timeout, and so does a thread that waited here the
    whole busy timeout (a transaction held open that long), so nothing can wait
    forever here that would not have failed with "database is locked" before.
    """

    def __init__(self) -> None:
        # A plain lock, not an RLock: the pool may check a connection in from another
        # thread (a session collected late), and any thread may release a Lock.
        self._lock = threading.Lock()

    def enter(self, connection: Connection) -> None:
        """Wait for this process's other writers, unless this connection is one already."""
        if connection.info.get(_HOLDS_WRITER_QUEUE):
            return
        if self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS):
            connection.info[_HOLDS_WRITER_QUEUE] = True

    def leave(self, connection: Connection) -> None:
        """Let the next writer in (the transaction never began)."""
        self.leave_record(connection.info)

    def leave_record(self, info: dict[Any, Any]) -> None:
        """Let the next writer in, if the connection with this ``info`` held the queue."""
        if info.pop(_HOLDS_WRITER_QUEUE, False):
            self._lock.release()


def _enable_wal(connection: sqlite3.Connection) -> None:
    """Switch the file to WAL, which lets readers run while one writer writes.

    The mode is stored in the file, so usually there is nothing to do. Switching needs
    a moment of exclusive access and SQLite reports "locked" at once, without waiting,
    when another connection is busy (two processes opening a new registry together);
    so it is retried for as long as a writer would wait.
    """
    if connection.execute("PRAGMA journal_mode").fetchone() == ("wal",):
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _postgres_engine(url: URL, *, schema: str | None) -> Engine:
    connect_args: dict[str, object] = {}
    if schema is not None:
        if not _SCHEMA_PATTERN.match(schema):
            raise ValueError(f"schema {schema!r} is not a plain identifier")
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads: on SQLite it takes no write lock.

    Writers are serialised on SQLite (:func:`_configure_sqlite`); a read that queued
    behind them would wait for every write in flight although WAL lets it read the
    last commit at once. A write here would bypass the writers' queue and meet
    SQLite's busy handler instead: only reads belong in this scope.
    """
    with session_scope(engine.execution_options(**{READ_ONLY_OPTION: True})) as session:
        yield session


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises.

    Objects stay loaded after the commit (``expire_on_commit=False``), so a store
    function's result can be read after the block ends without a detached-instance error.

    Args:
        engine: The registry engine.

    Yields:
        A session bound to ``engine``.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str, *, schema: str | None = None) -> Config:
    """An Alembic config built in code, pointing at the packaged migrations.

    No ``alembic.ini`` is needed, so this works from an installed wheel. The URL travels in
    ``config.attributes`` rather than the ``sqlalchemy.url`` option, whose ini-style
    interpolation would mangle a password with ``%`` in it. Also handy for writing a new
    revision: ``command.revision(alembic_config(url), autogenerate=True, message=…)``.

    Args:
        url: The registry URL, as :func:`make_engine` takes it.
        schema: As :func:`make_engine` takes it.

    Returns:
        The config ``alembic.command`` functions take.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    config.attributes["schema"] = schema
    return config


def upgrade_database(url: str, *, schema: str | None = None) -> None:
    """Bring the registry schema to the newest migration; a no-op when it is there already.

    Args:
        url: The registry URL, as :func:`make_engine` takes it.
        schema: As :func:`make_engine` takes it.
    """
    engine = make_engine(url, schema=schema)
    try:
        logger.info(
            "upgrading registry database %s",
            engine.url.render_as_string(hide_password=True),
        )
        config = alembic_config(url, schema=schema)
        with engine.begin() as connection:
            # Running on this connection keeps the engine's set-up (SQLite pragmas,
            # PostgreSQL search_path) and makes the whole upgrade one transaction.
            # SQLite's BEGIN IMMEDIATE already serialises two upgrades; PostgreSQL needs
            # the lock, released at commit, after which the other finds nothing to do.
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
