"""The MCP Registry API as served: what is listed, how, and with which registry facts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.mcp_registry.spec import OFFICIAL_META_KEY, REGISTRY_META_KEY
from agent_registry.registry.db import session_scope
from tests import seeding
from tests.api.live import call
from tests.mcp_registry.support import (
    CONTEXT7,
    FILESYSTEM,
    GITHUB,
    SERVERS,
    TIME,
    Served,
    server_archive,
    upstream,
)


def _get(url: str, path: str) -> Any:
    answer = call(url, "GET", path)
    assert answer.status == 200, answer.body
    assert answer.media_type == "application/json"
    return answer.json()


def _entries(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(entry["server"]["name"], entry["server"]["version"]) for entry in body["servers"]]


def _versions_path(name: str) -> str:
    return f"/v0.1/servers/{quote(name, safe='')}/versions"


def test_lists_catalog_stages_only(registry_url: str, served: Served) -> None:
    body = _get(registry_url, "/v0.1/servers")
    assert _entries(body) == [
        (GITHUB, "0.20.1"),
        (TIME, "2026.9.1"),
        (TIME, "2026.10.19"),
    ]
    assert body["metadata"] == {"count": 3}
    statuses = {
        (e["server"]["name"], e["server"]["version"]): e["_meta"][OFFICIAL_META_KEY]["status"]
        for e in body["servers"]
    }
    assert statuses[(TIME, "2026.9.1")] == "deprecated"
    assert statuses[(TIME, "2026.10.19")] == "active"
    names = {name for name, _ in _entries(body)}
    assert CONTEXT7 not in names  # in review: not in the catalog
    assert FILESYSTEM not in names  # retired: deleted, listed only on request


def test_retired_is_deleted_on_request_and_in_changes(registry_url: str, served: Served) -> None:
    body = _get(registry_url, "/v0.1/servers?include_deleted=true")
    deleted = [e for e in body["servers"] if e["server"]["name"] == FILESYSTEM]
    assert len(deleted) == 1
    facts = deleted[0]["_meta"][OFFICIAL_META_KEY]
    assert facts["status"] == "deleted"
    assert facts["statusMessage"].startswith("Retired: unmaintained upstream")
    assert facts["isLatest"] is False
    since = quote((served.seeded_at - timedelta(minutes=1)).isoformat())
    changes = _get(registry_url, f"/v0.1/servers?updated_since={since}")
    assert (FILESYSTEM, "2025.8.21") in _entries(changes)
    future = quote((served.seeded_at + timedelta(days=1)).isoformat())
    assert _get(registry_url, f"/v0.1/servers?updated_since={future}")["servers"] == []


def test_server_json_is_served_exactly_as_submitted(registry_url: str, served: Served) -> None:
    body = _get(registry_url, f"{_versions_path(GITHUB)}/0.20.1")
    original = upstream("github")
    assert body["server"] == original
    # Same keys in the same order: the document, not a model's dump of it.
    assert json.dumps(body["server"]) == json.dumps(original)
    assert "_meta" not in body["server"]
    assert (SERVERS / "github.json").exists()


def test_registry_facts_in_our_meta_key(registry_url: str, served: Served) -> None:
    body = _get(registry_url, f"{_versions_path(TIME)}/2026.9.1")
    ours = body["_meta"][REGISTRY_META_KEY]
    assert ours["ref"] == f"mcp-server/{TIME}@2026.9.1"
    assert ours["stage"] == "Deprecated"
    assert len(ours["contentHash"]) == 64
    assert ours["declaredScope"] == [
        {"name": "get_current_time", "effects": ["read"], "description": None},
        {"name": "convert_time", "effects": ["read"], "description": None},
    ]
    assert ours["deprecation"]["replacement"] == f"mcp-server/{TIME}@2026.10.19"
    assert ours["deprecation"]["reason"] == "superseded"
    official = body["_meta"][OFFICIAL_META_KEY]
    assert official["status"] == "deprecated"
    assert official["isLatest"] is False
    assert "2026.10.19" in official["statusMessage"]


def test_pages_follow_the_cursor(registry_url: str, served: Served) -> None:
    seen: list[tuple[str, str]] = []
    path = "/v0.1/servers?limit=1"
    for _ in range(10):
        body = _get(registry_url, path)
        assert body["metadata"]["count"] == len(body["servers"]) == 1
        seen.extend(_entries(body))
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            break
        path = f"/v0.1/servers?limit=1&cursor={quote(cursor)}"
    assert seen == _entries(_get(registry_url, "/v0.1/servers"))


def test_any_limit_and_cursor_is_served(registry_url: str, served: Served) -> None:
    assert len(_get(registry_url, "/v0.1/servers?limit=0")["servers"]) == 1
    assert len(_get(registry_url, "/v0.1/servers?limit=100000")["servers"]) == 3
    made_up = _get(registry_url, f"/v0.1/servers?cursor={quote('io.github.m')}")
    assert _entries(made_up) == [(TIME, "2026.9.1"), (TIME, "2026.10.19")]


def test_search_is_a_name_substring(registry_url: str, served: Served) -> None:
    assert {n for n, _ in _entries(_get(registry_url, "/v0.1/servers?search=TIME"))} == {TIME}
    assert _get(registry_url, "/v0.1/servers?search=%25")["servers"] == []


def test_version_filter_and_latest(registry_url: str, served: Served) -> None:
    latest = _get(registry_url, "/v0.1/servers?version=latest")
    assert _entries(latest) == [(GITHUB, "0.20.1"), (TIME, "2026.10.19")]
    assert all(e["_meta"][OFFICIAL_META_KEY]["isLatest"] for e in latest["servers"])
    exact = _get(registry_url, "/v0.1/servers?version=2026.9.1")
    assert _entries(exact) == [(TIME, "2026.9.1")]
    one = _get(registry_url, f"{_versions_path(TIME)}/latest")
    assert one["server"]["version"] == "2026.10.19"


def test_versions_newest_first_and_literal_slash(registry_url: str, served: Served) -> None:
    body = _get(registry_url, _versions_path(TIME))
    assert sorted(_entries(body)) == [(TIME, "2026.10.19"), (TIME, "2026.9.1")]
    literal = _get(registry_url, f"/v0.1/servers/{TIME}/versions")
    assert sorted(_entries(literal)) == sorted(_entries(body))


def test_not_found_and_bad_parameters(registry_url: str, served: Served) -> None:
    for path in (
        _versions_path("com.example/nothing"),
        _versions_path(CONTEXT7),  # in review
        f"{_versions_path(TIME)}/9.9.9",
        f"{_versions_path(FILESYSTEM)}/latest",  # retired
    ):
        answer = call(registry_url, "GET", path)
        assert answer.status == 404, path
        assert isinstance(answer.json()["error"], str)
    retired = _get(registry_url, f"{_versions_path(FILESYSTEM)}/2025.8.21?include_deleted=true")
    assert retired["_meta"][OFFICIAL_META_KEY]["status"] == "deleted"
    for query, name in (
        ("limit=ten", "limit"),
        ("updated_since=yesterday", "updated_since"),
        ("include_deleted=maybe", "include_deleted"),
    ):
        answer = call(registry_url, "GET", f"/v0.1/servers?{query}")
        assert answer.status == 400
        assert name in answer.json()["error"]


def test_recertifying_stays_active(registry_url: str, served: Served, engine: Engine) -> None:
    with session_scope(engine) as session:
        seeding.move(session, served.github, Stage.RECERTIFYING)
    body = _get(registry_url, f"{_versions_path(GITHUB)}/latest")
    assert body["_meta"][OFFICIAL_META_KEY]["status"] == "active"
    assert body["_meta"][REGISTRY_META_KEY]["stage"] == "Recertifying"


def test_a_forged_meta_in_server_json_changes_no_registry_fact(
    registry_url: str, served: Served, engine: Engine
) -> None:
    """What a submitter writes in server.json stays in ``server``; the facts are ours."""
    forged = upstream("context7")
    forged["version"] = "9.9.9"
    forged["_meta"] = {
        REGISTRY_META_KEY: {"riskTier": "low", "stage": "Published", "declaredScope": []},
        OFFICIAL_META_KEY: {"status": "active"},
    }
    ref = AssetRef(kind=AssetKind.MCP_SERVER, name=CONTEXT7, version="9.9.9")
    tools = [{"name": "resolve-library-id", "effects": ["network"]}]
    with session_scope(engine) as session:
        seeding.register(session, ref, manifest=forged, archive=server_archive(forged, tools))
        seeding.move(session, ref, Stage.IN_REVIEW)
    answer = call(registry_url, "GET", f"{_versions_path(CONTEXT7)}/9.9.9")
    assert answer.status == 404  # in review: not served, whatever it claims
    with session_scope(engine) as session:
        seeding.publish(session, ref)
        seeding.rate(session, ref, RiskTier.HIGH)
    body = _get(registry_url, f"{_versions_path(CONTEXT7)}/9.9.9")
    assert body["server"]["_meta"] == forged["_meta"]  # served as submitted, inside server
    ours = body["_meta"][REGISTRY_META_KEY]
    assert ours["riskTier"] == "high"
    assert ours["declaredScope"] == [
        {"name": "resolve-library-id", "effects": ["network"], "description": None}
    ]
