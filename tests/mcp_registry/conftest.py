"""Fixtures for the MCP Registry tests: a seeded registry served as ``agentreg serve`` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent_registry.api import mcp_registry
from agent_registry.api.app import build_web_app
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.mcp_servers import McpServerCatalog
from agent_registry.config import Settings
from tests.api.live import live_server
from tests.mcp_registry.support import Served, seed_servers


@pytest.fixture
def served(engine: Engine) -> Served:
    return seed_servers(engine)


@pytest.fixture
def registry_url(engine: Engine, served: Served, tmp_path: Path) -> Iterator[str]:
    """The server's application with the MCP Registry routes, served on a free port."""
    app = build_web_app(
        Settings(_env_file=None, data_dir=tmp_path / "data"),  # type: ignore[call-arg]
        DatabaseCatalog(engine),
        extra_routes=[mcp_registry.add_routes],
    )
    app[mcp_registry.MCP_SERVERS] = McpServerCatalog(engine)
    with live_server(app) as url:
        yield url
