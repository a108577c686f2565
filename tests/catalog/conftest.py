"""Fixtures for the catalog tests (``engine`` runs each test on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agent_registry.catalog.database import DatabaseCatalog


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session for seeding; the helpers commit what they write."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def catalog(engine: Engine) -> DatabaseCatalog:
    """The catalog over the test database."""
    return DatabaseCatalog(engine)
