"""The application's own behaviour, with stand-in catalogs: threads, errors, health, Slack.

No database here: these tests are about what the server does around the catalog
(keeping the event loop free, turning failures into the error shape, health checks,
mounting Slack), so each catalog is a stub that does exactly what the test needs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agent_registry.api import health
from agent_registry.api.app import build_web_app
from agent_registry.api.endpoint import ENDPOINTS, Endpoint
from agent_registry.api.health import database_check
from agent_registry.api.openapi import openapi_document
from agent_registry.catalog.models import (
    CatalogNotFoundError,
    InstallEvent,
    OrgReport,
    Page,
    SearchHit,
    SearchQuery,
    UsageEvent,
    VersionDetail,
)
from agent_registry.config import Settings
from agent_registry.registry.db import make_engine
from tests.api.live import Contract, call, live_server

SLOW_SECONDS = 2.0


class StubCatalog:
    """A catalog whose report takes :data:`SLOW_SECONDS` and whose show fails with a bug."""

    def __init__(self) -> None:
        self.report_started = threading.Event()

    def search(self, query: SearchQuery) -> Page[SearchHit]:
        return Page[SearchHit](items=[], total=0, limit=query.limit, offset=query.offset)

    def show(self, ref: str) -> VersionDetail:
        raise ZeroDivisionError("a bug, with a secret: postgres://user:hunter2@db")

    def bundle(self, content_hash: str) -> bytes:
        raise CatalogNotFoundError(f"no bundle {content_hash[:12]}")

    def record_install(self, event: InstallEvent) -> None:
        return None

    def record_usage(self, events: list[UsageEvent]) -> int:
        return len(events)

    def report(self) -> OrgReport:
        self.report_started.set()
        time.sleep(SLOW_SECONDS)
        raise CatalogNotFoundError("nothing to report")


def _settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path)


@pytest.fixture
def stub() -> StubCatalog:
    return StubCatalog()


@pytest.fixture
def stub_server(stub: StubCatalog, tmp_path: Path) -> Iterator[str]:
    app = build_web_app(_settings(tmp_path), stub, health_check=lambda: None)
    with live_server(app) as url:
        yield url


def test_a_slow_catalog_call_leaves_the_server_answering(
    stub_server: str, stub: StubCatalog
) -> None:
    slow: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: slow.update(answer=call(stub_server, "GET", "/api/v1/report"))
    )
    worker.start()
    assert stub.report_started.wait(10)

    started = time.monotonic()
    quick = call(stub_server, "GET", "/healthz")
    took = time.monotonic() - started
    worker.join(30)

    assert quick.status == 200
    assert took < SLOW_SECONDS / 2, f"/healthz waited {took:.2f}s behind the report"
    assert slow["answer"].status == 404


def test_a_bug_is_a_500_in_the_error_shape_without_its_details(
    stub_server: str, contract: Contract, caplog: pytest.LogCaptureFixture
) -> None:
    answer = call(stub_server, "GET", "/api/v1/assets/skill/anything")

    assert answer.status == 500
    error = contract.check(answer, "/api/v1/assets/{kind}/{name}", "GET")
    assert "hunter2" not in answer.body.decode() and error["detail"] is None
    assert "ZeroDivisionError" in caplog.text


def test_health_is_503_on_a_database_without_the_registry_schema(
    tmp_path: Path, contract: Contract
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}")
    app = build_web_app(_settings(tmp_path), StubCatalog(), health_check=database_check(engine))
    try:
        with live_server(app) as url:
            answer = call(url, "GET", "/healthz")
    finally:
        engine.dispose()

    assert answer.status == 503
    body = contract.check(answer, "/healthz", "GET")
    assert body["status"] == "unavailable" and "OperationalError" in body["database"]


def test_health_is_503_when_the_database_does_not_answer_in_time(
    tmp_path: Path, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "HEALTH_TIMEOUT_SECONDS", 0.2)
    release = threading.Event()
    app = build_web_app(_settings(tmp_path), StubCatalog(), health_check=lambda: _wait(release))
    try:
        with live_server(app) as url:
            started = time.monotonic()
            answer = call(url, "GET", "/healthz")
            took = time.monotonic() - started
    finally:
        release.set()

    assert answer.status == 503 and took < 2
    assert "did not answer" in contract.check(answer, "/healthz", "GET")["database"]


def _wait(event: threading.Event) -> None:
    event.wait(10)


def test_health_defaults_to_asking_the_catalog(tmp_path: Path) -> None:
    class Down(StubCatalog):
        def search(self, query: SearchQuery) -> Page[SearchHit]:
            raise ConnectionError("down")

    with live_server(build_web_app(_settings(tmp_path), Down())) as url:
        answer = call(url, "GET", "/healthz")

    assert answer.status == 503


async def _slack(request: web.Request) -> web.StreamResponse:
    return web.Response(text=f"slack saw {await request.text()}")


def test_the_slack_endpoint_is_mounted_only_with_a_handler(tmp_path: Path) -> None:
    with_slack = build_web_app(_settings(tmp_path), StubCatalog(), slack_handler=_slack)
    without = build_web_app(_settings(tmp_path), StubCatalog())

    with live_server(with_slack) as url:
        mounted = call(url, "POST", "/slack/events?ssl_check=1", body=b"payload=x")
    with live_server(without) as url:
        absent = call(url, "POST", "/slack/events", body=b"payload=x")

    assert (mounted.status, mounted.body) == (200, b"slack saw payload=x")
    assert absent.status == 404 and absent.json()["error"]
    documented: list[Endpoint] = with_slack[ENDPOINTS]
    undocumented: list[Endpoint] = without[ENDPOINTS]
    assert "/slack/events" in openapi_document(documented)["paths"]
    assert "/slack/events" not in openapi_document(undocumented)["paths"]


def test_extra_routes_are_added_after_the_api(tmp_path: Path) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<h1>dashboard</h1>", content_type="text/html")

    def add_routes(app: web.Application) -> None:
        app.router.add_get("/dashboard", page)

    app = build_web_app(_settings(tmp_path), StubCatalog(), extra_routes=[add_routes])
    with live_server(app) as url:
        answer = call(url, "GET", "/dashboard")

    assert (answer.status, answer.media_type) == (200, "text/html")


def test_get_routes_answer_head_with_the_status_alone(stub_server: str) -> None:
    answer = call(stub_server, "HEAD", "/healthz")

    assert (answer.status, answer.body) == (200, b"")
