"""Fixtures for the registry store tests (``db_url`` and ``engine`` are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from tests import pg
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'registry.db'}"
        return
    with pg.isolated_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session the test commits itself when it needs to."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
