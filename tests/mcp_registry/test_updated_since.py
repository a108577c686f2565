"""``updated_since`` answers the same pages whichever way it is served.

On SQLite the changed versions' ids are read from the ``(updated_at, id, asset_id)``
index first (migration 0008) unless more than ``CHANGED_IDS_BOUND`` changed; both forms
must give the same versions, in the same order, with the same cursors.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect

from agent_registry.catalog import mcp_servers
from agent_registry.catalog.mcp_servers import McpServerCatalog
from agent_registry.lifecycle.stages import Stage
from agent_registry.mcp_registry.served import ServerQuery
from agent_registry.registry.db import session_scope
from agent_registry.registry.tables import utcnow
from tests import seeding
from tests.mcp_registry.support import Served


def _walk(catalog: McpServerCatalog, query: ServerQuery) -> list[list[tuple[str, str]]]:
    pages: list[list[tuple[str, str]]] = []
    cursor: str | None = None
    while True:
        page = catalog.page(
            ServerQuery(limit=query.limit, cursor=cursor, updated_since=query.updated_since)
        )
        pages.append([(s.name, s.version) for s in page.servers])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_both_forms_give_the_same_pages(
    engine: Engine, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = McpServerCatalog(engine)
    since = served.seeded_at - timedelta(minutes=1)
    by_ids = _walk(catalog, ServerQuery(limit=2, updated_since=since))
    monkeypatch.setattr(mcp_servers, "CHANGED_IDS_BOUND", 0)
    by_filter = _walk(catalog, ServerQuery(limit=2, updated_since=since))
    assert by_ids == by_filter
    assert sum(len(page) for page in by_ids) >= 4  # every stage seeded, retired included


def test_a_change_after_the_time_is_the_only_one_served(engine: Engine, served: Served) -> None:
    catalog = McpServerCatalog(engine)
    later = utcnow()
    time.sleep(0.01)
    assert catalog.page(ServerQuery(limit=10, updated_since=later)).servers == []
    with session_scope(engine) as session:
        seeding.move(session, served.github, Stage.RECERTIFYING)
    changed = catalog.page(ServerQuery(limit=10, updated_since=later)).servers
    assert [(s.name, s.version) for s in changed] == [(served.github.name, served.github.version)]


def test_the_index_is_there(engine: Engine) -> None:
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("asset_version")}
    assert indexes["ix_asset_version_updated_at_id"]["column_names"] == [
        "updated_at",
        "id",
        "asset_id",
    ]
