"""The guard hook: allow and deny for each kind, undecided calls, and the snapshot."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import CatalogSource
from agent_registry.config import Settings
from agent_registry.distribution.guard import FailMode, GuardConfig, run_guard
from agent_registry.distribution.guard_entry import parse_mode, parse_number
from agent_registry.distribution.snapshot import (
    GuardSnapshot,
    default_snapshot_path,
    read_snapshot,
    save_snapshot,
    sign_snapshot,
)
from agent_registry.signing.keys import load_signer
from agent_registry.signing.trust import trusted_keyring
from tests.distribution.seeding import deprecate, retire, seed, settings_for, skill_copy

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def call(tool_name: str, **tool_input: object) -> bytes:
    """A PreToolUse hook call as Claude Code writes it on stdin."""
    return json.dumps(
        {
            "session_id": "s1",
            "hook_event_name": "PreToolUse",
            "tool_name": tool_name,
            "tool_input": tool_input,
            "tool_use_id": "t1",
            "cwd": "/project",
        }
    ).encode()


class Guard:
    """Runs the guard against one snapshot file and one way of opening the registry."""

    def __init__(
        self, path: Path, opener: Callable[[], CatalogSource], *, settings: Settings
    ) -> None:
        self.path = path
        self.opener = opener
        self.opened = 0
        self.err = io.StringIO()
        self.settings = settings

    def open(self) -> CatalogSource:
        self.opened += 1
        return self.opener()

    def run(
        self,
        raw: bytes,
        *,
        mode: FailMode = FailMode.OPEN,
        now: datetime = NOW,
        timeout: float = 5.0,
    ) -> dict[str, object] | None:
        assert self.settings.signing_key is not None
        config = GuardConfig(
            mode=mode,
            snapshot_path=self.path,
            max_age=timedelta(minutes=10),
            timeout=timeout,
            keyring=trusted_keyring(self.settings),
            signer=load_signer(self.settings.signing_key),
            limits=self.settings.bundle_limits,
        )
        out = run_guard(raw, config=config, open_catalog=self.open, now=now, err=self.err)
        if out is None:
            return None
        decision = json.loads(out)
        assert isinstance(decision, dict)
        return decision


def reason(decision: dict[str, object] | None) -> str:
    """The denial's reason; fails if the call was allowed."""
    assert decision is not None, "expected a denial"
    output = decision["hookSpecificOutput"]
    assert isinstance(output, dict)
    assert output["hookEventName"] == "PreToolUse"
    assert output["permissionDecision"] == "deny"
    return str(output["permissionDecisionReason"])


def unreachable() -> CatalogSource:
    raise ConnectionError("connection refused")


@pytest.fixture
def guard(
    tmp_path: Path, catalog: DatabaseCatalog, published: dict[str, AssetRef], settings: Settings
) -> Guard:
    return Guard(tmp_path / "cache" / "guard.json", lambda: catalog, settings=settings)


# --- decisions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        call("Skill", skill="release-notes"),
        call("Skill", skill="/release-notes", args="v1.4.0 HEAD"),
        call("Skill", command="release-notes"),
        call("Skill", skill="skill-release-notes:release-notes"),
        call("Agent", subagent_type="code-reviewer", prompt="review"),
        call("Task", subagent_type="code-reviewer", prompt="review"),
        call("Agent", subagent_type="agent-code-reviewer:code-reviewer"),
        call("mcp__time__get_current_time", timezone="UTC"),
        call("mcp__plugin_mcp-time_time__convert_time"),
    ],
)
def test_published_assets_pass_silently(guard: Guard, raw: bytes) -> None:
    assert guard.run(raw, mode=FailMode.CLOSED) is None
    assert guard.err.getvalue() == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (call("Skill", skill="deploy-prod"), "skill 'deploy-prod' is not published"),
        (call("Skill", skill="other:release-notes"), "'other:release-notes' is not published"),
        (call("Agent", subagent_type="bug-fixer"), "subagent 'bug-fixer' is not published"),
        (call("mcp__github__search_code"), "MCP server 'github' is not published"),
        (call("mcp__plugin_other_time__convert_time"), "MCP server 'time' is not published"),
        (
            call("mcp__time__set_system_clock"),
            "mcp__time__set_system_clock is not in the declared scope of "
            "mcp-server/io.github.modelcontextprotocol/time@2026.10.19 "
            "(declared tools: convert_time, get_current_time)",
        ),
    ],
)
def test_what_the_registry_does_not_publish_is_denied_with_the_reason(
    guard: Guard, raw: bytes, expected: str
) -> None:
    assert expected in reason(guard.run(raw))


def test_a_retired_asset_is_denied_naming_reason_and_replacement(
    guard: Guard,
    sqlite_engine: Engine,
    settings: Settings,
    published: dict[str, AssetRef],
    tmp_path: Path,
) -> None:
    successor = seed(sqlite_engine, settings, skill_copy(tmp_path, "release-notes-v2"))
    retire(sqlite_engine, published["skill"], replacement=str(successor), reason="too slow")

    text = reason(guard.run(call("Skill", skill="release-notes")))
    assert "skill/release-notes@1.0.0 is retired" in text and "too slow" in text
    assert f"Use {successor} instead (`agentreg install {successor}`)" in text


def test_a_deprecated_asset_still_passes(
    guard: Guard, sqlite_engine: Engine, published: dict[str, AssetRef]
) -> None:
    deprecate(sqlite_engine, published["subagent"], replacement=None)
    assert guard.run(call("Agent", subagent_type="code-reviewer")) is None


@pytest.mark.parametrize(
    "raw",
    [
        call("Bash", command="rm -rf build"),
        call("Read", file_path="/project/a.py"),
        call("Agent", subagent_type="Explore", prompt="look"),
        call("Agent", prompt="no type means general-purpose"),
        call("mcp__broken"),
    ],
)
def test_unrelated_tools_pass_without_reading_the_registry(tmp_path: Path, raw: bytes) -> None:
    guard = Guard(
        tmp_path / "guard.json", unreachable, settings=settings_for(tmp_path, "sqlite://")
    )
    assert guard.run(raw, mode=FailMode.CLOSED) is None
    assert guard.opened == 0 and not guard.path.exists()


# --- undecided calls ------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'{"tool_input": {}}', b"\xff\xfe"])
def test_malformed_input_allows_when_open_and_denies_when_closed(
    tmp_path: Path, raw: bytes
) -> None:
    guard = Guard(
        tmp_path / "guard.json", unreachable, settings=settings_for(tmp_path, "sqlite://")
    )
    assert guard.run(raw, mode=FailMode.OPEN) is None
    assert "allowing (fail open)" in guard.err.getvalue()

    text = reason(guard.run(raw, mode=FailMode.CLOSED))
    assert "fails closed" in text
    assert "denying (fail closed)" in guard.err.getvalue()


def test_no_registry_and_no_snapshot_follows_the_fail_mode(tmp_path: Path) -> None:
    guard = Guard(
        tmp_path / "guard.json", unreachable, settings=settings_for(tmp_path, "sqlite://")
    )
    raw = call("Skill", skill="release-notes")

    assert guard.run(raw, mode=FailMode.OPEN) is None
    assert "cannot be reached (ConnectionError: connection refused)" in guard.err.getvalue()
    assert "there is no snapshot" in guard.err.getvalue()
    assert "there is no snapshot" in reason(guard.run(raw, mode=FailMode.CLOSED))


def test_no_registry_with_a_stale_snapshot_decides_from_the_snapshot(
    guard: Guard, tmp_path: Path
) -> None:
    assert guard.run(call("Skill", skill="release-notes")) is None
    stale = Guard(guard.path, unreachable, settings=guard.settings)
    later = NOW + timedelta(hours=20)

    for mode in FailMode:
        assert stale.run(call("Skill", skill="release-notes"), mode=mode, now=later) is None
        assert "not published" in reason(
            stale.run(call("Skill", skill="deploy-prod"), mode=mode, now=later)
        )
    assert "using the snapshot taken 2026-11-24 12:00 UTC" in stale.err.getvalue()


def test_a_registry_that_hangs_costs_no_more_than_the_timeout(tmp_path: Path) -> None:
    release = threading.Event()

    def hanging() -> CatalogSource:
        release.wait(30)
        raise ConnectionError("gave up")

    guard = Guard(tmp_path / "guard.json", hanging, settings=settings_for(tmp_path, "sqlite://"))
    started = time.monotonic()
    decision = guard.run(call("Skill", skill="x"), mode=FailMode.CLOSED, timeout=0.3)
    release.set()
    assert time.monotonic() - started < 3
    assert "did not answer within 0.3s, and there is no snapshot" in reason(decision)
    assert not guard.path.exists()


# --- the snapshot ---------------------------------------------------------------------


def test_a_fresh_snapshot_is_used_without_asking_the_registry(guard: Guard) -> None:
    guard.run(call("Skill", skill="release-notes"))
    assert guard.opened == 1
    snapshot, _ = read_snapshot(guard.path, trusted_keyring(guard.settings))
    assert snapshot is not None and snapshot.taken_at == NOW
    assert {(a.kind.value, a.local_name, a.status) for a in snapshot.assets} == {
        ("skill", "release-notes", "live"),
        ("subagent", "code-reviewer", "live"),
        ("mcp-server", "time", "live"),
    }

    guard.run(call("Skill", skill="release-notes"), now=NOW + timedelta(minutes=9))
    assert guard.opened == 1
    guard.run(call("Skill", skill="release-notes"), now=NOW + timedelta(minutes=11))
    assert guard.opened == 2


def test_a_stale_snapshot_is_refreshed_and_sees_new_publications(
    guard: Guard, sqlite_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    assert "not published" in reason(guard.run(call("Skill", skill="notes")))
    seed(sqlite_engine, settings, skill_copy(tmp_path, "notes"))

    assert "not published" in reason(guard.run(call("Skill", skill="notes")))
    assert guard.run(call("Skill", skill="notes"), now=NOW + timedelta(hours=1)) is None


def test_an_unreadable_snapshot_counts_as_none(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "sqlite://")
    assert settings.signing_key is not None
    keyring = trusted_keyring(settings)
    path = tmp_path / "guard.json"
    path.write_text("{broken")
    assert read_snapshot(path, keyring)[0] is None
    save_snapshot(
        path, sign_snapshot(GuardSnapshot(taken_at=NOW), load_signer(settings.signing_key))
    )
    assert read_snapshot(path, keyring) == (GuardSnapshot(taken_at=NOW), "")


def test_the_snapshot_lives_in_the_data_dir_or_the_users_cache(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert default_snapshot_path({}, home) == home / ".cache" / "agent-registry" / "guard.json"
    assert default_snapshot_path({"XDG_CACHE_HOME": "/xdg"}, home) == Path(
        "/xdg/agent-registry/guard.json"
    )
    assert default_snapshot_path({"AGENT_REGISTRY_DATA_DIR": "/data"}, home) == Path(
        "/data/guard.json"
    )


def test_unusable_settings_fall_back_to_the_defaults() -> None:
    assert parse_mode("closed") is FailMode.CLOSED and parse_mode(" OPEN ") is FailMode.OPEN
    # Fail-open is only ever an explicit choice: unset or unreadable means closed.
    assert parse_mode(None) is FailMode.CLOSED and parse_mode("shut") is FailMode.CLOSED
    assert parse_mode("") is FailMode.CLOSED and parse_mode("opened") is FailMode.CLOSED
    assert parse_number("2.5", 7.0) == 2.5
    assert parse_number("soon", 7.0) == 7.0 and parse_number("-1", 7.0) == 7.0
    assert parse_number(None, 7.0) == 7.0
