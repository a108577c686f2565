"""The served page after a registry write: the write shows on the very next page.

The server keeps the report's facts and reads only what a write changed
(``catalog/report_facts.py``); a stage change, a new version and a use recorded between
two pages must each be on the second one, as if everything had been read again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from sqlmodel import Session

from agent_registry.api.app import build_web_app
from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from agent_registry.dashboard import routes
from agent_registry.lifecycle.stages import Stage
from tests.catalog.seeding import move, published, register
from tests.seeding import used


async def test_each_write_is_on_the_next_page(sqlite_engine: Engine, tmp_path: Path) -> None:
    catalog = DatabaseCatalog(sqlite_engine)
    settings = Settings(_env_file=None, data_dir=tmp_path)
    app = build_web_app(settings, catalog, extra_routes=[routes.add_routes])
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()

    async def page() -> str:
        reply = await client.get("/dashboard")
        assert reply.status == 200
        return await reply.text()

    try:
        with Session(sqlite_engine, expire_on_commit=False) as session:
            published(session, "skill/pdf@1.0.0", team="docs")
            draft = register(session, "skill/draft@1.0.0", team="data")
            session.commit()
            assert 'data-ref="skill/draft@1.0.0"' not in await page()

            move(session, draft, Stage.IN_REVIEW)
            session.commit()
            assert "<h3>Pending reviews (1)</h3>" in await page()

            register(session, "skill/second@1.0.0", team="data")
            move(session, register(session, "skill/third@1.0.0", team="data"), Stage.IN_REVIEW)
            session.commit()
            assert "<h3>Pending reviews (2)</h3>" in await page()

        assert 'data-ref="skill/pdf"' not in await page()
        catalog.record_usage([used(AssetKind.SKILL, "pdf", team="ops", at=datetime.now(UTC))])
        assert 'data-ref="skill/pdf"' in await page()
    finally:
        await client.close()
