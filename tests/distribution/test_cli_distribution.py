"""``agentreg search``, ``show``, ``install``, ``export`` and ``hook guard`` as users run them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent_registry.assets.refs import AssetRef
from agent_registry.cli.errors import explain
from agent_registry.cli.main import build_app
from agent_registry.config import Settings
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.vocabulary.findings import Finding, Severity
from tests.distribution.claude_code_shapes import (
    managed_settings_problems,
    marketplace_problems,
)
from tests.distribution.seeding import deprecate, seed, signing_key, skill_copy
from tests.seeding import rate
from tests.test_cli import AGENTREG, Run, _env


@pytest.fixture
def env(sqlite_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment that points the commands at the test registry."""
    return {
        "AGENT_REGISTRY_DATABASE_URL": sqlite_url,
        "AGENT_REGISTRY_DATA_DIR": str(tmp_path / "data"),
        "AGENT_REGISTRY_SIGNING_KEY": str(signing_key(tmp_path)),
    }


def _invoke(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run a command in-process; a refusal comes back as ``agentreg`` would print it."""
    result = CliRunner().invoke(
        build_app(), list(args), env={**env, "COLUMNS": "200", "NO_COLOR": "1"}
    )
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        message = explain(error)
        assert message is not None, f"a bug, not a refusal: {error!r}"
        return 1, result.stdout, f"error: {message}"
    return result.exit_code, result.stdout, result.stderr


# --- search ---------------------------------------------------------------------------


def test_search_prints_a_table_and_how_to_page(
    env: dict[str, str], published: dict[str, AssetRef]
) -> None:
    code, stdout, _ = _invoke(env, "search")
    assert code == 0, stdout
    header = next(line for line in stdout.splitlines() if "ref" in line and "score" in line)
    for column in ("stage", "team", "risk", "description"):
        assert column in header
    assert str(published["skill"]) in stdout and "developer-experience" in stdout
    assert "1.00" in stdout
    assert "3 of 3" in stdout and "next page" not in stdout

    code, stdout, _ = _invoke(env, "search", "--limit", "1")
    assert "1 of 3; next page: --offset 1" in stdout
    code, stdout, _ = _invoke(env, "search", "--limit", "1", "--offset", "2")
    assert "1 of 3 (from #3)" in stdout and "next page" not in stdout


def test_search_filters_and_ranks(env: dict[str, str], published: dict[str, AssetRef]) -> None:
    code, stdout, _ = _invoke(env, "search", "time", "--kind", "mcp-server")
    assert code == 0
    assert str(published["mcp"]) in stdout and "release-notes" not in stdout
    code, stdout, _ = _invoke(env, "search", "--team", "platform")
    assert "io.github.modelcontextprotocol/time" in stdout and "code-reviewer" not in stdout
    code, stdout, _ = _invoke(env, "search", "nothing-like-this")
    assert code == 0 and "nothing matches" in stdout


def test_search_json_is_the_page(env: dict[str, str], published: dict[str, AssetRef]) -> None:
    code, stdout, _ = _invoke(env, "search", "review", "--json")
    assert code == 0
    page = json.loads(stdout)
    assert page["total"] == 1 and page["next_offset"] is None
    assert page["items"][0]["ref"] == str(published["subagent"])
    assert 0 < page["items"][0]["score"] <= 1


# --- show -----------------------------------------------------------------------------


def test_show_an_mcp_server_with_scope_eval_approvals_and_due_date(
    env: dict[str, str], published: dict[str, AssetRef], sqlite_engine: Engine
) -> None:
    ref = published["mcp"]
    with session_scope(sqlite_engine) as session:
        rate(
            session,
            ref,
            RiskTier.LOW,
            reasons=["read-only tools"],
            findings=[
                Finding(
                    check_id="hygiene.readme",
                    severity=Severity.WARN,
                    message="No README",
                    file="server.json",
                    line=1,
                    fix="add one",
                )
            ],
            policy_version="2026-11-01",
            run_key="run-1",
        )
        store.schedule_recertification(
            session, ref=ref, recertify_by=datetime(2027, 5, 1, 9, 30, tzinfo=UTC), event_key="s"
        )
    code, stdout, stderr = _invoke(env, "show", "mcp-server/io.github.modelcontextprotocol/time")
    assert code == 0, stderr
    assert f"{ref}  Published" in stdout
    assert "team platform · submitted by alice@example.com" in stdout
    assert "risk tier low (read-only tools)" in stdout
    assert "approved by bob@example.com" in stdout
    assert "content hash " in stdout
    assert "re-certification due 2027-05-01 09:30 UTC" in stdout
    assert "Declared scope" in stdout and "get_current_time" in stdout and "read" in stdout
    assert "last eval: policy 2026-11-01, passed: 0 blocking, 1 warning(s)" in stdout
    assert "hygiene.readme" in stdout and "server.json:1" in stdout and "add one" in stdout


def test_show_a_deprecated_version_with_replacement_and_sunset(
    env: dict[str, str],
    published: dict[str, AssetRef],
    sqlite_engine: Engine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    successor = seed(sqlite_engine, settings, skill_copy(tmp_path, "release-notes-v2"))
    deprecate(sqlite_engine, published["skill"], replacement=str(successor), reason="merged")

    code, stdout, _ = _invoke(env, "show", str(published["skill"]))
    assert code == 0
    assert (
        "by carol@example.com: merged; use skill/release-notes-v2@1.0.0; retires on 2099-01-01"
        in stdout
    )

    code, _, stderr = _invoke(env, "show", "skill/release-notes")
    assert code == 1
    assert "no published version left (1.0.0 is Deprecated)" in stderr
    assert f"use {successor}" in stderr


def test_show_json_and_unknown_refs(env: dict[str, str], published: dict[str, AssetRef]) -> None:
    code, stdout, _ = _invoke(env, "show", str(published["subagent"]), "--json")
    assert code == 0 and json.loads(stdout)["ref"] == str(published["subagent"])
    code, _, stderr = _invoke(env, "show", "skill/nothing-here@1.0.0")
    assert code == 1 and "not in the registry" in stderr


def test_search_without_any_registry_says_what_to_set(tmp_path: Path) -> None:
    run = _run({"AGENT_REGISTRY_DATA_DIR": str(tmp_path / "none")}, "search")
    assert run.code == 1
    assert "AGENT_REGISTRY_API_URL" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "none" / "registry.db").exists()


# --- the console script end to end ----------------------------------------------------


def test_install_export_and_guard_through_the_console_script(
    env: dict[str, str], published: dict[str, AssetRef], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    installed = _run(
        env, "install", str(published["mcp"]), "--into", str(project), "--team", "platform"
    )
    assert installed.code == 0, installed.stderr
    assert "installed mcp-server/io.github.modelcontextprotocol/time@2026.10.19" in installed.stdout
    assert json.loads((project / ".mcp.json").read_text())["mcpServers"]["time"]["command"] == "uvx"
    again = _run(env, "install", "skill/nope", "--into", str(project))
    assert again.code == 1 and again.stderr.startswith("error:") and "Traceback" not in again.stderr

    market = tmp_path / "market"
    exported = _run(env, "export", "marketplace", str(market))
    assert exported.code == 0, exported.stderr
    assert marketplace_problems(market) == []

    settings_file = tmp_path / "managed-settings.json"
    managed = _run(env, "export", "managed-settings", str(settings_file), "--with-guard")
    assert managed.code == 0, managed.stderr
    assert managed_settings_problems(json.loads(settings_file.read_text())) == []

    deny = _guard(env, {"tool_name": "Skill", "tool_input": {"skill": "unknown"}})
    assert deny.code == 0
    decision = json.loads(deny.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny"
    allow = _guard(env, {"tool_name": "mcp__time__convert_time", "tool_input": {}})
    assert (allow.code, allow.stdout) == (0, "")


def test_the_guard_console_script_never_fails_on_bad_input(tmp_path: Path) -> None:
    nowhere = {"AGENT_REGISTRY_DATA_DIR": str(tmp_path / "none")}
    opened = _guard({**nowhere, "AGENT_REGISTRY_GUARD_FAIL": "open"}, None, raw="{oops")
    assert (opened.code, opened.stdout) == (0, "")
    assert "fail open" in opened.stderr
    closed = _guard(nowhere, None, raw="{oops")
    assert closed.code == 0
    assert json.loads(closed.stdout)["hookSpecificOutput"]["permissionDecision"] == "deny"
    unreachable = _guard(
        {**nowhere, "AGENT_REGISTRY_API_URL": "http://127.0.0.1:9"},
        {"tool_name": "Skill", "tool_input": {"skill": "x"}},
        "--fail",
        "closed",
        "--timeout",
        "2",
    )
    assert unreachable.code == 0 and "no snapshot" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    bad_options = _guard(
        {**nowhere, "AGENT_REGISTRY_GUARD_FAIL": "open"},
        {"tool_name": "Skill", "tool_input": {"skill": "x"}},
        "--max-age",
        "soon",
    )
    assert (bad_options.code, bad_options.stdout) == (0, "")


@pytest.mark.parametrize("entry", ["command", "module"])
def test_no_snapshot_and_the_registry_down_is_denied_unless_chosen_open_locally(
    tmp_path: Path, entry: str
) -> None:
    """The attack: delete the snapshot, take the registry away, call anything."""
    down = {
        "AGENT_REGISTRY_DATA_DIR": str(tmp_path / "none"),
        "AGENT_REGISTRY_API_URL": "http://127.0.0.1:9",
    }
    call = {"tool_name": "Skill", "tool_input": {"skill": "invented"}}
    denied = _guard_via(entry, down, call)
    assert denied.returncode == 0, denied.stderr
    decision = json.loads(denied.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny"
    # The denial says how a user allows it on their own machine.
    reason = decision["permissionDecisionReason"]
    assert "AGENT_REGISTRY_GUARD_FAIL=open" in reason and "--fail open" in reason
    chosen = _guard_via(entry, {**down, "AGENT_REGISTRY_GUARD_FAIL": "open"}, call)
    assert (chosen.returncode, chosen.stdout) == (0, "")
    assert "fail open" in chosen.stderr
    flag = _guard_via(entry, down, call, "--fail", "open")
    assert (flag.returncode, flag.stdout) == (0, "")


def _guard_via(
    entry: str, env: dict[str, str], payload: dict[str, object], *args: str
) -> subprocess.CompletedProcess[str]:
    command = (
        [AGENTREG, "hook", "guard"]
        if entry == "command"
        else [sys.executable, "-m", "agent_registry.distribution.guard_entry"]
    )
    return subprocess.run(
        [*command, *args, "--timeout", "2"],
        input=json.dumps({"hook_event_name": "PreToolUse", **payload}),
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=60,
    )


def test_the_quick_entry_point_answers_like_the_command(
    env: dict[str, str], published: dict[str, AssetRef], tmp_path: Path
) -> None:
    for payload, denied in [
        ({"tool_name": "Skill", "tool_input": {"skill": "release-notes"}}, False),
        ({"tool_name": "Skill", "tool_input": {"skill": "unknown"}}, True),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "agent_registry.distribution.guard_entry", "--fail", "closed"],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            env=_env(**env),
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert bool(done.stdout) is denied, done.stdout + done.stderr


def _run(env: dict[str, str], *args: str) -> Run:
    """Run the console script as a user would, against the test registry."""
    done = subprocess.run(
        [AGENTREG, *args], capture_output=True, text=True, env=_env(**env), timeout=120
    )
    return Run(done.returncode, done.stdout, done.stderr)


def _guard(
    env: dict[str, str], payload: dict[str, object] | None, *args: str, raw: str | None = None
) -> Run:
    """Run ``agentreg hook guard`` with a hook call on stdin, as Claude Code does."""
    text = (
        raw if raw is not None else json.dumps({"hook_event_name": "PreToolUse", **(payload or {})})
    )
    done = subprocess.run(
        [AGENTREG, "hook", "guard", *args],
        input=text,
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=60,
    )
    return Run(done.returncode, done.stdout, done.stderr)
