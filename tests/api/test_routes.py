"""Contract tests: every route, served for real over a seeded registry (SQLite and PostgreSQL).

Every reply is checked against the OpenAPI document's schema for its status, so the
document and the server cannot disagree without a test failing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.catalog.models import MAX_PAGE_SIZE
from agent_registry.wire.limits import MAX_USAGE_BATCH, MAX_USAGE_BODY_BYTES
from agent_registry.wire.paths import asset_path, bundle_path
from tests.api.conftest import AS_ADA
from tests.api.live import Answer, Contract, call
from tests.api.seed import (
    MCP,
    MCP_DEPRECATED,
    SKILL,
    SKILL_OLD,
    SUBAGENT,
    SUBAGENT_IN_REVIEW,
    Seeded,
)

SEARCH = "/api/v1/search"
LATEST = "/api/v1/assets/{kind}/{name}"
VERSION = "/api/v1/assets/{kind}/{name}@{version}"
BUNDLE = "/api/v1/bundles/{content_hash}"
INSTALLS = "/api/v1/installs"
USAGE = "/api/v1/usage"
REPORT = "/api/v1/report"
JSON = {"Content-Type": "application/json", **AS_ADA}


def _get(server: str, contract: Contract, template: str, path: str) -> tuple[Answer, Any]:
    # As ada, who submitted the seeded versions: a version in review is hers to see.
    answer = call(server, "GET", path, headers=AS_ADA)
    return answer, contract.check(answer, template, "GET")


def _post(
    server: str, contract: Contract, template: str, body: object | bytes
) -> tuple[Answer, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = call(server, "POST", template, body=data, headers=JSON)
    return answer, contract.check(answer, template, "POST")


def _search(server: str, contract: Contract, **params: str | int) -> tuple[Answer, Any]:
    query = urlencode({key: str(value) for key, value in params.items()})
    return _get(server, contract, SEARCH, f"{SEARCH}?{query}" if query else SEARCH)


def _refs(page: dict[str, Any]) -> list[str]:
    return [item["ref"] for item in page["items"]]


def _usage(count: int, *, start: int = 0, **fields: object) -> list[dict[str, object]]:
    return [
        {
            "kind": "skill",
            "name": "release-notes",
            "version": "1.1.0",
            "user": "ada@example.com",
            "team": "docs",
            "session": "s-1",
            "at": "2025-01-31T12:00:00Z",
            "event_id": f"use-{start + index}",
            **fields,
        }
        for index in range(count)
    ]


# ----- search ----------------------------------------------------------------------------


def test_search_lists_what_may_be_installed_latest_first_per_asset(
    server: str, contract: Contract
) -> None:
    answer, page = _search(server, contract)

    assert answer.status == 200
    assert sorted(_refs(page)) == sorted(str(ref) for ref in (SKILL, SUBAGENT, MCP))
    assert (page["total"], page["limit"], page["offset"], page["next_offset"]) == (3, 20, 0, None)
    assert all(item["score"] == 1 for item in page["items"])


def test_search_ranks_an_exact_name_first(server: str, contract: Contract) -> None:
    _, page = _search(server, contract, q="tickets")

    assert _refs(page)[0] == str(MCP)
    assert page["items"][0]["score"] == 1


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "skill"}, [SKILL]),
        ({"kind": "mcp-server"}, [MCP]),
        ({"team": "support"}, [MCP]),
        ({"stage": "InReview"}, [SUBAGENT_IN_REVIEW]),
        ({"stage": "Deprecated"}, [MCP_DEPRECATED]),
        ({"q": "no such words anywhere"}, []),
    ],
)
def test_search_filters(
    server: str, contract: Contract, params: dict[str, str], expected: list[object]
) -> None:
    _, page = _search(server, contract, **params)

    assert _refs(page) == [str(ref) for ref in expected]


def test_pages_follow_next_offset_to_the_end(server: str, contract: Contract) -> None:
    _, whole = _search(server, contract)
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        _, page = _search(server, contract, limit=1, offset=offset)
        assert page["total"] == 3 and page["limit"] == 1 and page["offset"] == offset
        assert len(page["items"]) == 1
        seen.extend(_refs(page))
        offset = page["next_offset"]

    assert seen == _refs(whole)
    _, beyond = _search(server, contract, offset=10)
    assert (beyond["items"], beyond["total"], beyond["next_offset"]) == ([], 3, None)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        (f"limit={MAX_PAGE_SIZE + 1}", "limit"),
        ("limit=ten", "limit"),
        ("limit=1.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=99999999999999999999999", "offset"),
        ("kind=widget", "kind"),
        ("stage=Live", "stage"),
        ("limit=1&limit=2", "limit"),
        (f"q={'x' * 501}", "q"),
        ("team=a%00b", "team"),
        ("qurey=pdf", "qurey"),
    ],
)
def test_bad_search_parameters_are_400_naming_the_parameter(
    server: str, contract: Contract, query: str, parameter: str
) -> None:
    answer, error = _get(server, contract, SEARCH, f"{SEARCH}?{query}")

    assert answer.status == 400
    assert error["detail"] == {"parameter": parameter}
    assert f"'{parameter}'" in error["error"]


# ----- versions --------------------------------------------------------------------------


def test_latest_is_the_highest_published_version(server: str, contract: Contract) -> None:
    answer, detail = _get(server, contract, LATEST, asset_path("skill", "release-notes"))

    assert answer.status == 200
    assert detail["ref"] == str(SKILL)
    assert str(SKILL_OLD) in [other["ref"] for other in detail["other_versions"]]
    assert detail["eval"]["findings"][0]["check_id"] == "hygiene.long-line"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/assets/mcp-server/io.github.acme/tickets",
        "/api/v1/assets/mcp-server/io.github.acme%2Ftickets",
        "/api/v1/assets/mcp-server/io.github.acme/tickets@1.0.0",
        "/api/v1/assets/mcp-server/io.github.acme%2Ftickets%401.0.0",
    ],
)
def test_an_mcp_name_with_a_slash_is_one_name(server: str, contract: Contract, path: str) -> None:
    template = VERSION if "1.0.0" in path else LATEST
    answer, detail = _get(server, contract, template, path)

    assert answer.status == 200
    assert detail["ref"] == str(MCP)
    assert detail["name"] == "io.github.acme/tickets"


def test_a_deprecated_version_is_shown_with_its_replacement(
    server: str, contract: Contract
) -> None:
    path = asset_path(MCP_DEPRECATED.kind.value, MCP_DEPRECATED.name, MCP_DEPRECATED.version)

    answer, detail = _get(server, contract, VERSION, path)

    assert answer.status == 200
    assert detail["stage"] == "Deprecated"
    assert detail["deprecation"]["replacement"] == str(MCP)
    assert detail["deprecation"]["reason"] == "Files tickets in the old queue."


def test_a_version_in_review_is_shown_by_its_ref(server: str, contract: Contract) -> None:
    ref = SUBAGENT_IN_REVIEW
    _, detail = _get(server, contract, VERSION, asset_path(ref.kind.value, ref.name, ref.version))

    assert (detail["ref"], detail["stage"]) == (str(ref), "InReview")


@pytest.mark.parametrize(
    ("template", "path", "named"),
    [
        (LATEST, "/api/v1/assets/skill/no-such-skill", "skill/no-such-skill"),
        (VERSION, "/api/v1/assets/skill/release-notes@9.9.9", "skill/release-notes@9.9.9"),
        (
            VERSION,
            "/api/v1/assets/mcp-server/io.github.acme/tickets@2.0.0",
            "mcp-server/io.github.acme/tickets@2.0.0",
        ),
    ],
)
def test_a_missing_ref_is_404_naming_it(
    server: str, contract: Contract, template: str, path: str, named: str
) -> None:
    answer, error = _get(server, contract, template, path)

    assert answer.status == 404
    assert named in error["error"]


@pytest.mark.parametrize(
    ("template", "path", "parameter"),
    [
        (LATEST, "/api/v1/assets/widget/release-notes", "kind"),
        (VERSION, "/api/v1/assets/skill/release-notes@1.0", "version"),
        (VERSION, "/api/v1/assets/skill/release-notes@latest", "version"),
        (LATEST, "/api/v1/assets/skill/has%20space", "name"),
        (LATEST, "/api/v1/assets/skill/nul%00byte", "name"),
        (LATEST, "/api/v1/assets/skill/release-notes?version=1.0.0", "version"),
    ],
)
def test_a_malformed_ref_is_400_naming_the_part(
    server: str, contract: Contract, template: str, path: str, parameter: str
) -> None:
    answer, error = _get(server, contract, template, path)

    assert answer.status == 400
    assert error["detail"] == {"parameter": parameter}


# ----- bundles ---------------------------------------------------------------------------


def test_a_bundle_is_its_archive_hashing_to_its_etag(
    server: str, contract: Contract, seeded: Seeded
) -> None:
    _, detail = _get(server, contract, LATEST, asset_path("skill", "release-notes"))
    content_hash = detail["content_hash"]

    answer, _ = _get(server, contract, BUNDLE, bundle_path(content_hash))

    assert answer.status == 200
    assert answer.media_type == "application/x-tar"
    assert answer.headers["ETag"] == f'"{content_hash}"'
    assert hashlib.sha256(answer.body).hexdigest() == content_hash
    assert answer.body == seeded.bundles[content_hash]
    assert "immutable" in answer.headers["Cache-Control"]


def test_a_bundle_the_client_has_is_304_without_bytes(
    server: str, contract: Contract, seeded: Seeded
) -> None:
    content_hash = seeded.hashes[MCP]
    answer = call(
        server,
        "GET",
        bundle_path(content_hash),
        headers={"If-None-Match": f'W/"other", "{content_hash}"'},
    )

    contract.check(answer, BUNDLE, "GET")
    assert answer.status == 304
    assert answer.headers["ETag"] == f'"{content_hash}"'


def test_bundles_refuse_a_malformed_hash_and_miss_an_unknown_one(
    server: str, contract: Contract
) -> None:
    malformed, error = _get(server, contract, BUNDLE, bundle_path("ABC"))
    unknown, missing = _get(server, contract, BUNDLE, bundle_path("0" * 64))

    assert (malformed.status, error["detail"]) == (400, {"parameter": "content_hash"})
    assert unknown.status == 404 and missing["error"]


def _archive_of_new_skill(tmp_path: Path, name: str = "staged-skill") -> bytes:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: Stages a bundle. Use when testing staging.\n---\n"
        "\nSteps.\n"
    )
    return canonical_archive(load_path(folder, limits=BundleLimits()).bundle)


def _put(server: str, contract: Contract, body: bytes, content_hash: str) -> tuple[Answer, Any]:
    answer = call(
        server,
        "PUT",
        bundle_path(content_hash),
        body=body,
        headers={"Content-Type": "application/x-tar", **AS_ADA},
    )
    return answer, contract.check(answer, BUNDLE, "PUT")


def test_a_staged_bundle_is_kept_under_its_hash_once(
    server: str, contract: Contract, tmp_path: Path
) -> None:
    archive = _archive_of_new_skill(tmp_path)
    content_hash = hashlib.sha256(archive).hexdigest()

    first, staged = _put(server, contract, archive, content_hash)
    again, _ = _put(server, contract, archive, content_hash)
    fetched, _ = _get(server, contract, BUNDLE, bundle_path(content_hash))

    assert (first.status, again.status) == (201, 201)
    assert staged == {"content_hash": content_hash}
    # Staged is not reviewed: no version holds it yet, so it is not served back.
    assert fetched.status == 404


def test_staging_refuses_bytes_that_are_not_a_bundle_of_that_hash(
    server: str, contract: Contract, tmp_path: Path
) -> None:
    archive = _archive_of_new_skill(tmp_path)
    junk = b"not a tar archive" * 100
    too_big = b"\0" * (BundleLimits().max_archive_bytes + 1)

    mismatch, told = _put(server, contract, archive, "0" * 64)
    not_a_bundle, why = _put(server, contract, junk, hashlib.sha256(junk).hexdigest())
    oversized, _ = _put(server, contract, too_big, hashlib.sha256(too_big).hexdigest())

    assert mismatch.status == 400 and "does not hash" in told["error"]
    assert not_a_bundle.status == 422 and "not a bundle" in why["error"]
    assert oversized.status == 413
    assert _get(server, contract, BUNDLE, bundle_path("0" * 64))[0].status == 404


# ----- telemetry -------------------------------------------------------------------------


def test_an_install_is_recorded(server: str, contract: Contract) -> None:
    event = {
        "ref": str(SKILL),
        "user": "ada@example.com",
        "team": "docs",
        "at": "2025-01-31T12:00:00+00:00",
        "event_id": "install-1",
    }

    answer, recorded = _post(server, contract, INSTALLS, event)

    assert (answer.status, recorded) == (200, {"recorded": 1})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "not JSON"),
        (b"", "empty"),
        (b'{"ref": 1}', "not valid"),
        (b"[]", "not valid"),
        (b'{"ref": "skill/release-notes@1.1.0", "user": "a", "at": NaN}', "not JSON"),
        (b'{"ref": "skill/release-notes", "user": "a", "at": "2025-01-31T12:00:00Z"}', "ref"),
        (
            b'{"ref": "skill/release-notes@1.1.0", "user": "a", "at": "2025-01-31T12:00:00"}',
            "timezone",
        ),
        (
            b'{"ref": "skill/release-notes@1.1.0", "user": "\\u0000", "at": "2025-01-31T12:00Z"}',
            "NUL",
        ),
    ],
)
def test_a_bad_install_is_400_saying_why(
    server: str, contract: Contract, body: bytes, expected: str
) -> None:
    answer, error = _post(server, contract, INSTALLS, body)

    assert answer.status == 400
    assert expected in error["error"]


def test_a_usage_batch_is_counted_once_however_often_it_is_sent(
    server: str, contract: Contract
) -> None:
    batch = _usage(3)

    first, recorded = _post(server, contract, USAGE, batch)
    _, again = _post(server, contract, USAGE, batch)
    _, empty = _post(server, contract, USAGE, [])

    assert (first.status, recorded, again, empty) == (
        200,
        {"recorded": 3},
        {"recorded": 0},
        {"recorded": 0},
    )


def test_a_usage_batch_of_the_largest_size_is_taken(server: str, contract: Contract) -> None:
    answer, recorded = _post(server, contract, USAGE, _usage(MAX_USAGE_BATCH, start=1000))

    assert (answer.status, recorded) == (200, {"recorded": MAX_USAGE_BATCH})


def test_too_many_events_or_bytes_are_413(server: str, contract: Contract) -> None:
    many, count_error = _post(server, contract, USAGE, _usage(MAX_USAGE_BATCH + 1))
    huge = b"[" + b" " * MAX_USAGE_BODY_BYTES + b"]"
    large, size_error = _post(server, contract, USAGE, huge)

    assert (many.status, count_error["detail"]) == (413, {"limit": MAX_USAGE_BATCH})
    assert (large.status, size_error["detail"]) == (413, {"limit": MAX_USAGE_BODY_BYTES})


def test_a_chunked_body_over_the_cap_is_413(server: str, contract: Contract) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_USAGE_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    answer = call(server, "POST", USAGE, body=chunks(), headers=JSON)

    assert answer.status == 413
    contract.check(answer, USAGE, "POST")


def test_every_bad_event_of_a_batch_is_listed(server: str, contract: Contract) -> None:
    batch = [*_usage(1), {"kind": "widget", "name": "x", "user": "u", "at": "now"}]

    answer, error = _post(server, contract, USAGE, batch)

    assert answer.status == 400
    locations = [problem["loc"] for problem in error["detail"]["errors"]]
    assert [1, "kind"] in locations and [1, "at"] in locations


# ----- report, health, errors ------------------------------------------------------------


def test_the_report_counts_the_inventory_and_the_telemetry(server: str, contract: Contract) -> None:
    _post(server, contract, USAGE, _usage(2, start=5000))
    _post(
        server,
        contract,
        INSTALLS,
        {
            "ref": str(MCP),
            "user": "bo@example.com",
            "team": "ops",
            "at": datetime.now(UTC).isoformat(),
            "event_id": "install-1",
        },
    )

    answer, report = _get(server, contract, REPORT, REPORT)

    assert answer.status == 200
    by_kind = {row["key"]: row["count"] for row in report["by_kind"]}
    assert by_kind["mcp-server"] >= 1 and by_kind["skill"] >= 1
    reuse = {row["ref"]: row for row in report["reuse"]}
    assert reuse["skill/release-notes"]["uses"] == 2
    assert reuse["mcp-server/io.github.acme/tickets"]["installs"] == 1


def test_health_is_ok_on_a_working_database(server: str, contract: Contract) -> None:
    answer, health = _get(server, contract, "/healthz", "/healthz")

    assert (answer.status, health) == (200, {"status": "ok", "database": "ok"})
    assert answer.headers["Cache-Control"] == "no-store"


def test_unknown_paths_are_404_json(server: str, contract: Contract) -> None:
    answer = call(server, "GET", "/api/v1/nothing-here")

    assert answer.status == 404
    contract.validate(answer.json(), contract.component("ErrorBody"))


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", SEARCH, "GET"),
        ("DELETE", "/api/v1/assets/skill/release-notes", "GET"),
        ("PUT", "/api/v1/assets/skill/release-notes@1.1.0", "GET"),
        ("GET", INSTALLS, "POST"),
        ("PATCH", USAGE, "POST"),
        ("POST", REPORT, "GET"),
        ("POST", "/healthz", "GET"),
        ("DELETE", f"/api/v1/bundles/{'0' * 64}", "GET"),
    ],
)
def test_a_wrong_method_is_405_json_with_allow(
    server: str, contract: Contract, method: str, path: str, allowed: str
) -> None:
    answer = call(server, method, path, body=b"{}")

    assert answer.status == 405
    assert allowed in answer.headers["Allow"]
    error = answer.json()
    contract.validate(error, contract.component("ErrorBody"))
    assert allowed in error["detail"]["allowed"]


def test_a_name_is_encoded_the_way_the_client_builds_it() -> None:
    assert asset_path("mcp-server", "io.github.acme/tickets", "1.0.0+build.7") == (
        f"/api/v1/assets/mcp-server/io.github.acme/tickets@{quote('1.0.0+build.7', safe='')}"
    )
