"""Only what is installable is public, and every write has an owner and a bound.

The attacks: an anonymous GET of a bundle the eval bar blocked for a secret (or of a
version still in review), anonymous telemetry and staging, 2,000 fake uses attributed
to someone else, a 200 KB asset name, and a loop of PUTs filling the store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent_registry.api.app import build_web_app
from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from agent_registry.identity.http import LOCAL_AS_HEADER
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.registry.tables import InstallEventRow, UsageEventRow
from agent_registry.wire.paths import INSTALLS_PATH, USAGE_PATH, asset_path, bundle_path
from tests import seeding
from tests.api.conftest import local_identity
from tests.api.live import Answer, call, live_server

BLOCKED = AssetRef.parse("skill/leaky@1.0.0")
PUBLISHED = AssetRef.parse("skill/fine@1.0.0")
SUBMITTER = seeding.SUBMITTER
JSON = {"Content-Type": "application/json"}


def _as(email: str) -> dict[str, str]:
    return {LOCAL_AS_HEADER: email}


@pytest.fixture
def hashes(sqlite_engine: Engine) -> dict[AssetRef, str]:
    with session_scope(sqlite_engine) as session:
        seeding.register(session, BLOCKED, archive=b"pretend archive with AKIA secret")
        seeding.move(session, BLOCKED, Stage.EVAL_FAILED)
        seeding.register(session, PUBLISHED, archive=b"a reviewed archive")
        seeding.review_and_publish(session, PUBLISHED)
        return {
            ref: store.get_version(session, ref=ref).content_hash for ref in (BLOCKED, PUBLISHED)
        }


@pytest.fixture
def server(sqlite_engine: Engine, tmp_path: Path) -> Iterator[str]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    app = build_web_app(settings, DatabaseCatalog(sqlite_engine), extra_routes=[local_identity])
    with live_server(app) as url:
        yield url


def test_a_blocked_bundle_is_not_served_to_anyone_but_its_people(
    server: str, hashes: dict[AssetRef, str]
) -> None:
    blocked = bundle_path(hashes[BLOCKED])
    assert call(server, "GET", blocked).status == 401
    assert call(server, "GET", blocked, headers=_as("mallory@example.com")).status == 404
    mine = call(server, "GET", blocked, headers=_as(SUBMITTER))
    assert mine.status == 200 and b"AKIA" in mine.body
    assert mine.headers["Cache-Control"] == "private, no-store"
    public = call(server, "GET", bundle_path(hashes[PUBLISHED]))
    assert public.status == 200 and public.body == b"a reviewed archive"


def test_a_version_that_is_not_installable_is_not_shown_anonymously(
    server: str, hashes: dict[AssetRef, str]
) -> None:
    path = asset_path(BLOCKED.kind.value, BLOCKED.name, BLOCKED.version)
    assert call(server, "GET", path).status == 401
    assert call(server, "GET", path, headers=_as("mallory@example.com")).status == 404
    assert call(server, "GET", path, headers=_as(SUBMITTER)).status == 200
    assert call(server, "GET", "/api/v1/search?stage=EvalFailed").status == 401
    public = asset_path(PUBLISHED.kind.value, PUBLISHED.name, PUBLISHED.version)
    assert call(server, "GET", public).status == 200


def _use(index: int, **fields: object) -> dict[str, object]:
    return {
        "kind": "skill",
        "name": "fine",
        "user": "victim@example.com",
        "at": datetime.now(UTC).isoformat(),
        "event_id": f"use-{index}",
        **fields,
    }


def _post(server: str, path: str, body: object, who: str | None) -> Answer:
    headers = {**JSON, **(_as(who) if who else {})}
    return call(server, "POST", path, body=json.dumps(body).encode(), headers=headers)


def test_anonymous_telemetry_and_staging_are_refused(server: str) -> None:
    assert _post(server, USAGE_PATH, [_use(1)], None).status == 401
    install = {"ref": str(PUBLISHED), "user": "x", "at": datetime.now(UTC).isoformat()}
    assert _post(server, INSTALLS_PATH, {**install, "event_id": "i1"}, None).status == 401
    body = b"any bytes"
    put = call(
        server,
        "PUT",
        bundle_path(hashlib.sha256(body).hexdigest()),
        body=body,
        headers={"Content-Type": "application/x-tar"},
    )
    assert put.status == 401


def test_uses_are_the_callers_own_need_an_id_and_have_capped_fields(
    server: str, sqlite_engine: Engine
) -> None:
    answer = _post(server, USAGE_PATH, [_use(1), _use(2)], "ada@example.com")
    assert answer.status == 200, answer.body
    with Session(sqlite_engine) as session:
        users = set(session.exec(select(UsageEventRow.user_name)).all())
    assert users == {"ada@example.com"}  # not the victim the body named

    no_id = _post(server, USAGE_PATH, [{**_use(3), "event_id": None}], "ada@example.com")
    assert no_id.status == 400 and b"0.event_id" in no_id.body
    huge = _post(server, USAGE_PATH, [_use(4, name="x" * 200_000)], "ada@example.com")
    assert huge.status == 400 and b"0.name" in huge.body
    install = {"ref": str(PUBLISHED), "user": "victim@example.com"}
    installed = _post(
        server,
        INSTALLS_PATH,
        {**install, "at": datetime.now(UTC).isoformat(), "event_id": "i-1", "team": "t" * 100},
        "ada@example.com",
    )
    assert installed.status == 400 and b"team" in installed.body
    with Session(sqlite_engine) as session:
        assert session.exec(select(InstallEventRow)).all() == []


def test_over_quota_telemetry_gets_429_with_retry_after(server: str) -> None:
    batch = 500
    for start in range(0, 5000, batch):
        uses = [_use(start + index) for index in range(batch)]
        assert _post(server, USAGE_PATH, uses, "loop@example.com").status == 200
    over = _post(server, USAGE_PATH, [_use(99_999)], "loop@example.com")
    assert over.status == 429
    assert int(over.headers["Retry-After"]) > 0
    assert b"over the quota" in over.body
    # Another principal has a budget of its own.
    assert _post(server, USAGE_PATH, [_use(100_000)], "ada@example.com").status == 200


def test_a_loop_of_staging_puts_gets_429_with_retry_after(server: str) -> None:
    junk = b"\0" * (1024 * 1024)
    statuses = []
    for index in range(18):
        body = junk + index.to_bytes(2, "big")
        answer = call(
            server,
            "PUT",
            bundle_path(hashlib.sha256(body).hexdigest()),
            body=body,
            headers={"Content-Type": "application/x-tar", **_as("loop@example.com")},
        )
        statuses.append(answer.status)
        if answer.status == 429:
            assert int(answer.headers["Retry-After"]) > 0
            break
    assert statuses[-1] == 429 and 429 not in statuses[:-1]
    assert len(statuses) == 16
