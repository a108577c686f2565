"""HttpCatalog against the running API: the same answers as the database catalog it serves.

Both catalogs read the same seeded registry with the same fixed clock, so every answer
(search pages, versions, bundles, the report) must be equal, and every refusal the
same exception. What only a network adds (nothing listening, a server that never
answers, something that is not the registry) fails quickly, naming the URL.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import Engine

from agent_registry.api.app import build_web_app
from agent_registry.assets.refs import AssetKind, InvalidRefError
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.http import (
    CatalogApiError,
    CatalogUnreachableError,
    HttpCatalog,
)
from agent_registry.catalog.models import (
    CatalogNotFoundError,
    CatalogSource,
    InstallEvent,
    SearchQuery,
    UsageEvent,
)
from agent_registry.wire.limits import MAX_USAGE_BATCH
from tests.api.conftest import AS_ADA, api_settings, local_identity
from tests.api.live import live_server
from tests.api.seed import MCP, MCP_DEPRECATED, SKILL, SUBAGENT_IN_REVIEW, Seeded
from tests.ports import free_port

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def direct(engine: Engine, seeded: Seeded) -> DatabaseCatalog:
    return DatabaseCatalog(engine, clock=lambda: NOW)


@pytest.fixture
def remote(engine: Engine, seeded: Seeded, tmp_path: Path) -> Iterator[HttpCatalog]:
    served = DatabaseCatalog(engine, clock=lambda: NOW)
    app = build_web_app(api_settings(tmp_path), served, extra_routes=[local_identity])
    with live_server(app) as url:
        # As ada, the seeded versions' submitter, the way a local-mode client names itself.
        yield HttpCatalog(url, timeout=10, credentials=AS_ADA)


def test_an_http_catalog_is_a_catalog_source(remote: HttpCatalog) -> None:
    source: CatalogSource = remote
    assert source is remote


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(),
        SearchQuery(text="tickets"),
        SearchQuery(text="release notes", limit=1),
        SearchQuery(kind=AssetKind.SUBAGENT, stage="InReview"),
        SearchQuery(team="support", stage="Deprecated"),
        SearchQuery(limit=1, offset=2),
        SearchQuery(text="nothing like this", offset=5),
    ],
    ids=str,
)
def test_search_answers_as_the_database_does(
    remote: HttpCatalog, direct: DatabaseCatalog, query: SearchQuery
) -> None:
    assert remote.search(query) == direct.search(query)


@pytest.mark.parametrize(
    "ref",
    [
        "skill/release-notes",
        str(SKILL),
        "mcp-server/io.github.acme/tickets",
        str(MCP),
        str(MCP_DEPRECATED),
        str(SUBAGENT_IN_REVIEW),
    ],
)
def test_show_answers_as_the_database_does(
    remote: HttpCatalog, direct: DatabaseCatalog, ref: str
) -> None:
    assert remote.show(ref) == direct.show(ref)


def test_bundles_are_the_same_bytes(
    remote: HttpCatalog, direct: DatabaseCatalog, seeded: Seeded
) -> None:
    for content_hash in seeded.hashes.values():
        assert remote.bundle(content_hash) == direct.bundle(content_hash)
    upper = seeded.hashes[MCP].upper()
    assert remote.bundle(f" {upper} ") == direct.bundle(f" {upper} ")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.show("skill/no-such-skill"), CatalogNotFoundError),
        (lambda c: c.show("skill/release-notes@9.9.9"), CatalogNotFoundError),
        (lambda c: c.show("subagent/code-reviewer@2.0.0"), CatalogNotFoundError),
        (lambda c: c.bundle("0" * 64), CatalogNotFoundError),
        (lambda c: c.bundle("not-a-hash"), CatalogNotFoundError),
        (lambda c: c.show("no kind here"), InvalidRefError),
        (lambda c: c.show("widget/x@1.0.0"), InvalidRefError),
        (lambda c: c.show("skill/x@1.0"), InvalidRefError),
    ],
)
def test_refusals_are_the_same_exceptions(
    remote: HttpCatalog, direct: DatabaseCatalog, call: object, error: type[Exception]
) -> None:
    assert callable(call)
    with pytest.raises(error) as from_database:
        call(direct)
    with pytest.raises(error) as from_api:
        call(remote)
    if error is CatalogNotFoundError:
        assert str(from_api.value) == str(from_database.value)


def test_telemetry_through_the_api_reaches_the_report(
    remote: HttpCatalog, direct: DatabaseCatalog
) -> None:
    at = NOW - timedelta(days=1)
    uses = [
        UsageEvent(
            kind=AssetKind.MCP_SERVER,
            name=MCP.name,
            version=MCP.version,
            tool="create_ticket",
            user=f"user{index}@example.com",
            team="support",
            at=at,
            event_id=f"use-{index}",
        )
        for index in range(MAX_USAGE_BATCH + 20)
    ]

    remote.record_install(
        InstallEvent(ref=str(MCP), user="bo@example.com", team="ops", at=at, event_id="i-1")
    )
    recorded = remote.record_usage(uses)
    again = remote.record_usage(uses[:10])

    assert (recorded, again) == (MAX_USAGE_BATCH + 20, 0)
    assert remote.record_usage([]) == 0
    report = remote.report()
    assert report == direct.report()
    [tickets] = [row for row in report.reuse if row.ref == f"mcp-server/{MCP.name}"]
    assert (tickets.installs, tickets.uses) == (1, MAX_USAGE_BATCH + 20)


def test_a_base_url_with_the_api_prefix_or_a_slash_works(
    remote: HttpCatalog, direct: DatabaseCatalog
) -> None:
    for base in (f"{remote.base_url}/", f"{remote.base_url}/api/v1/"):
        assert HttpCatalog(base).show(str(SKILL)) == direct.show(str(SKILL))


@pytest.mark.parametrize("url", ["registry:3000", "ftp://registry/", "http://", ""])
def test_a_url_that_is_not_http_is_refused_at_once(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        HttpCatalog(url)


# ----- when the network is the problem ---------------------------------------------------


def test_nothing_listening_is_a_quick_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()

    with pytest.raises(CatalogUnreachableError) as raised:
        HttpCatalog(url, timeout=5).search(SearchQuery())

    assert time.monotonic() - started < 2
    assert url in str(raised.value) and "refused" in str(raised.value)


def test_a_server_that_never_answers_fails_after_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # connections are accepted by the kernel, never answered
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()

        with pytest.raises(CatalogUnreachableError) as raised:
            HttpCatalog(url, timeout=0.5).report()

    assert time.monotonic() - started < 3
    assert url in str(raised.value)


def test_something_that_is_not_the_registry_is_named(tmp_path: Path) -> None:
    async def html(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html>welcome</html>", content_type="text/html")

    async def teapot(request: web.Request) -> web.StreamResponse:
        return web.Response(status=418, text="short and stout")

    app = web.Application()
    app.router.add_get("/api/v1/report", html)
    app.router.add_get("/api/v1/search", teapot)
    with live_server(app) as url:
        catalog = HttpCatalog(url)
        with pytest.raises(CatalogApiError, match="not a valid OrgReport") as wrong:
            catalog.report()
        with pytest.raises(CatalogApiError, match="418") as refused:
            catalog.search(SearchQuery())
        with pytest.raises(CatalogNotFoundError, match="not found"):
            catalog.show(str(SKILL))

    assert url in str(wrong.value) and url in str(refused.value)
