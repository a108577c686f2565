"""The registry server in the test's own event loop, for tests that run the CLI.

The CLI's writes go to the server (the one front door), so a test that runs
``agentreg submit`` or ``agentreg review`` serves the same application ``agentreg serve``
builds, in local identity mode on loopback, with the test's Temporal client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine
from temporalio.client import Client

from agent_registry.api import mcp_watches, writes
from agent_registry.api.app import build_web_app
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.cli.serve import start_site
from agent_registry.config import Settings
from agent_registry.identity.audit import DatabaseRefusalLog
from agent_registry.identity.http import Authenticator, LocalAuthenticator, install
from tests.ports import free_port


@asynccontextmanager
async def registry_server(
    settings: Settings,
    client: Client,
    engine: Engine,
    *,
    authenticator: Authenticator | None = None,
) -> AsyncIterator[str]:
    """Serve the registry (local mode unless told) on a free loopback port; yields its URL."""

    async def connect() -> Client:
        return client

    app = build_web_app(settings, DatabaseCatalog(engine, limits=settings.bundle_limits))
    install(app, authenticator or LocalAuthenticator(), DatabaseRefusalLog(engine))
    writes.add_routes(app, writes.LifecycleGateway(connect))
    mcp_watches.add_routes(app)
    port = free_port()
    runner = await start_site(app, host="127.0.0.1", port=port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
