"""Fixtures for the distribution tests: a seeded registry, its catalog, a project."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from tests.distribution.seeding import seed_examples, settings_for


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Settings on the test's SQLite registry."""
    return settings_for(tmp_path, sqlite_url)


@pytest.fixture
def published(sqlite_engine: Engine, settings: Settings) -> dict[str, AssetRef]:
    """The three good examples, published: keys ``skill``, ``subagent``, ``mcp``."""
    return seed_examples(sqlite_engine, settings)


@pytest.fixture
def catalog(sqlite_engine: Engine) -> DatabaseCatalog:
    """The catalog on the test registry."""
    return DatabaseCatalog(sqlite_engine)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder
