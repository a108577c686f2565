"""Asset references as users type them: ``kind/name@version``."""

from __future__ import annotations

import pytest

from agent_registry.assets.refs import (
    AssetKind,
    AssetRef,
    InvalidRefError,
    is_semver,
    parse_unversioned,
    semver_key,
)


@pytest.mark.parametrize(
    ("text", "kind", "name", "version"),
    [
        ("skill/pdf-report@1.2.0", AssetKind.SKILL, "pdf-report", "1.2.0"),
        ("subagent/code-reviewer@0.1.0-rc.1", AssetKind.SUBAGENT, "code-reviewer", "0.1.0-rc.1"),
        (
            "mcp-server/io.github.acme/tickets@2.0.0",
            AssetKind.MCP_SERVER,
            "io.github.acme/tickets",
            "2.0.0",
        ),
        ("  skill/pdf-report@1.2.0+build.5  ", AssetKind.SKILL, "pdf-report", "1.2.0+build.5"),
    ],
)
def test_parse_good_refs(text: str, kind: AssetKind, name: str, version: str) -> None:
    ref = AssetRef.parse(text)

    assert (ref.kind, ref.name, ref.version) == (kind, name, version)
    assert str(ref) == text.strip()
    assert ref.workflow_id == f"asset/{kind.value}/{name}/{version}"


def test_unknown_kind_names_the_kind_and_the_known_ones() -> None:
    with pytest.raises(InvalidRefError) as caught:
        AssetRef.parse("agent/pdf-report@1.0.0")

    message = str(caught.value)
    assert "unknown kind 'agent'" in message
    assert "skill, subagent, mcp-server" in message


@pytest.mark.parametrize("version", ["^1.2.0", "~1.2.0", ">=1", "latest", "1.2", "v1.2.0", "1.2.x"])
def test_range_versions_are_refused(version: str) -> None:
    with pytest.raises(InvalidRefError, match="not an exact semantic version"):
        AssetRef.parse(f"skill/pdf-report@{version}")


def test_missing_version_shows_the_expected_shape() -> None:
    with pytest.raises(
        InvalidRefError, match=r"write kind/name@version, e\.g\. skill/pdf-report@1\.2\.0"
    ):
        AssetRef.parse("skill/pdf-report")


def test_parse_unversioned() -> None:
    assert parse_unversioned("mcp-server/io.github.acme/tickets") == (
        AssetKind.MCP_SERVER,
        "io.github.acme/tickets",
    )
    with pytest.raises(InvalidRefError, match="is not kind/name"):
        parse_unversioned("skill/pdf-report@1.0.0")


def test_semver_order_follows_semver_org() -> None:
    versions = ["1.10.0", "1.0.0", "1.0.0-beta", "1.0.0-alpha.1", "1.9.0", "1.0.0-alpha", "1.0.1"]

    ordered = sorted(versions, key=semver_key)

    assert ordered == [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta",
        "1.0.0",
        "1.0.1",
        "1.9.0",
        "1.10.0",
    ]


def test_is_semver() -> None:
    assert is_semver("0.0.1")
    assert not is_semver("01.0.0")
    assert not is_semver("1.0")
