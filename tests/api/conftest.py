"""Fixtures for the API tests: a seeded registry, its catalog, and the server over it.

``engine`` (tests/conftest.py) runs every test on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Engine

from agent_registry.api.app import build_web_app
from agent_registry.api.endpoint import ENDPOINTS, Endpoint
from agent_registry.api.health import database_check
from agent_registry.api.openapi import openapi_document
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from agent_registry.identity.http import LOCAL_AS_HEADER, LocalAuthenticator, install
from agent_registry.signing.keys import generate_key
from tests.api.live import Contract, live_server
from tests.api.seed import Seeded, seed_registry


def local_identity(app: web.Application) -> None:
    """The embedded identity mode: ``--as`` (the header) from loopback, unverified."""
    install(app, LocalAuthenticator())


AS_ADA = {LOCAL_AS_HEADER: "ada@example.com"}
"""The header a local-mode client sends to write as ada."""


def api_settings(tmp_path: Path) -> Settings:
    """Settings that read no environment and no .env file, with a real signing key."""
    key = tmp_path / "registry-signing.pem"
    if not key.exists():
        generate_key(key)
    return Settings(_env_file=None, data_dir=tmp_path / "data", signing_key=key)


@pytest.fixture
def seeded(engine: Engine) -> Seeded:
    return seed_registry(engine)


@pytest.fixture
def catalog(engine: Engine, seeded: Seeded) -> DatabaseCatalog:
    return DatabaseCatalog(engine)


@pytest.fixture
def server(engine: Engine, catalog: DatabaseCatalog, tmp_path: Path) -> Iterator[str]:
    """The application as ``agentreg serve`` builds it (no Slack), served for real."""
    app = build_web_app(
        api_settings(tmp_path),
        catalog,
        health_check=database_check(engine),
        extra_routes=[local_identity],
    )
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="session")
def document() -> dict[str, Any]:
    """The OpenAPI document of the served application."""

    class Unused:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("documenting the routes reads no catalog")

    app = build_web_app(Settings(_env_file=None), Unused())
    endpoints: list[Endpoint] = app[ENDPOINTS]
    return openapi_document(endpoints)


@pytest.fixture(scope="session")
def contract(document: dict[str, Any]) -> Contract:
    return Contract(document)
