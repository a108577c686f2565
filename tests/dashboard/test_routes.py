"""The dashboard routes on the server's application: HTML at / and /dashboard, safe headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from agent_registry.api.app import build_web_app
from agent_registry.catalog.models import OrgReport
from agent_registry.config import Settings
from agent_registry.dashboard import routes
from tests.dashboard.sample import sample_report


class ReportOnly:
    """A catalog that only reports (or fails to); the dashboard reads nothing else."""

    def __init__(self, report: OrgReport | None) -> None:
        self._report = report

    def report(self) -> OrgReport:
        if self._report is None:
            raise ConnectionError("database is down")
        return self._report

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the dashboard does not call {name}")


async def client_for(catalog: ReportOnly, tmp_path: Path) -> TestClient[Any, Any]:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    app = build_web_app(settings, catalog, extra_routes=[routes.add_routes])  # type: ignore[arg-type]
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    client = await client_for(ReportOnly(sample_report()), tmp_path)
    yield client
    await client.close()


@pytest.mark.parametrize("path", ["/", "/dashboard"])
async def test_dashboard_is_served_as_html(client: TestClient[Any, Any], path: str) -> None:
    reply = await client.get(path)
    assert reply.status == 200
    assert reply.content_type == "text/html"
    assert reply.charset == "utf-8"
    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    body = await reply.text()
    assert body.startswith("<!DOCTYPE html>")
    assert '<section id="reuse">' in body


async def test_the_api_is_still_there(client: TestClient[Any, Any]) -> None:
    reply = await client.get("/healthz")
    assert reply.status in (200, 503)  # answered by the API, not swallowed by the dashboard


async def test_a_failing_catalog_gets_an_html_error_page(tmp_path: Path) -> None:
    client = await client_for(ReportOnly(None), tmp_path)
    try:
        reply = await client.get("/")
        assert reply.status == 503
        assert reply.content_type == "text/html"
        body = await reply.text()
        assert "Dashboard unavailable" in body
        assert "ConnectionError" in body
        assert "database is down" not in body  # details stay in the server log
    finally:
        await client.close()
