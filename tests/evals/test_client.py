"""Claude Code's validator as the judge of format, and the fallback where it is absent.

``client_reports/`` holds reports the pinned client (2.1.332) printed, kept so the
reading of its ``--json`` shape is tested where the client is not installed. Both are
of one plugin: a ``plugin.json`` with an unknown ``agentRegistry`` field, a skill whose
frontmatter never closes its quoted description, and an agent with no description;
``strict.json`` is ``claude plugin validate --json --strict plugin``, ``directory.json``
is ``claude plugin validate --json --profile directory plugin``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.evals.client import (
    ClientReportError,
    client_findings,
    find_client,
    parse_report,
    validate_folder,
)
from agent_registry.evals.runner import evaluate
from agent_registry.policy.loader import load_policy
from tests.claude_client import claude_or_skip, isolated_env
from tests.evals.builders import skill, subagent

BROKEN_SKILL = b'---\nname: pdf-report\ndescription: "Builds a PDF report\n---\nBody.\n'
"""A quoted description that never closes: the client's YAML parser refuses it (an
unclosed flow list, ``[unclosed``, it has read leniently since 2.1.2xx)."""

REPORTS = Path(__file__).parent / "client_reports"
SAMPLE = Path("/tmp/agentreg-sample/plugin")


def test_client_errors_become_blocking_spec_findings_in_its_words() -> None:
    claude = claude_or_skip()
    asset = dataclasses.replace(
        skill(),
        bundle=Bundle(root_name="pdf-report", files=(BundleFile("SKILL.md", BROKEN_SKILL),)),
    )
    external = client_findings(asset, claude)
    report = evaluate(asset, load_policy(None), external=external)
    [error] = [f for f in report.blocking if f.check_id == "spec.client-error"]
    assert error.file == "SKILL.md"
    assert "YAML frontmatter failed to parse" in error.message


def test_when_the_client_validates_the_hand_kept_field_list_stands_down() -> None:
    claude = claude_or_skip()
    frontmatter = {
        "name": "code-reviewer",
        "description": "Reviews diffs for bugs and style problems. Use after code changes.",
        "tools": "Read, Grep, Glob",
        "model": "opusplan",
        "initialPrompt": "Review the staged diff.",
    }
    asset = subagent(frontmatter=frontmatter)
    without = evaluate(asset, load_policy(None))
    assert "spec.unknown-field" in {f.check_id for f in without.warnings}
    external = client_findings(asset, claude)
    assert [f.check_id for f in external] == ["spec.client-validated"]
    report = evaluate(asset, load_policy(None), external=external)
    assert report.blocking == []
    assert "spec.unknown-field" not in {f.check_id for f in report.findings}


def test_the_fallback_never_blocks_an_unknown_but_valid_value() -> None:
    frontmatter = {
        "name": "code-reviewer",
        "description": "Reviews diffs for bugs and style problems. Use after code changes.",
        "tools": "Read, Grep, Glob",
        "model": "sonnet[1m]",
        "effort": "high",
        "color": "chartreuse",
    }
    assert evaluate(subagent(frontmatter=frontmatter), load_policy(None)).blocking == []


def test_the_client_is_found_where_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_REGISTRY_CLAUDE", "/nonexistent/claude")
    assert find_client() is None


def test_the_json_report_is_read_per_file_in_the_clients_words() -> None:
    issues = parse_report((REPORTS / "strict.json").read_text(encoding="utf-8"))
    assert [(i.file, i.level, i.text) for i in issues] == [
        (
            SAMPLE / ".claude-plugin/plugin.json",
            "warning",
            "agentRegistry: Unknown field 'agentRegistry'. Claude Code ignores it at load time.",
        ),
        (
            SAMPLE / "skills/pdf-report/SKILL.md",
            "error",
            "frontmatter: YAML frontmatter failed to parse: YAML Parse error: Unexpected EOF. "
            "At runtime this skill loads with empty metadata (all frontmatter fields "
            "silently dropped).",
        ),
        (
            SAMPLE / "agents/reviewer.md",
            "warning",
            "description: No description in frontmatter. A description helps users and "
            "Claude understand when to use this agent.",
        ),
    ]


def test_the_plugin_directorys_rules_count_only_under_its_profile() -> None:
    # The same report without the profile carries the directory's README/LICENSE
    # findings too (the client prints them either way); they are read only when asked.
    plain = parse_report((REPORTS / "strict.json").read_text(encoding="utf-8"))
    assert not any("README" in i.text or "LICENSE" in i.text for i in plain)
    profiled = parse_report((REPORTS / "directory.json").read_text(encoding="utf-8"))
    directory = {(i.file, i.level) for i in profiled} - {(i.file, i.level) for i in plain}
    assert (SAMPLE / "README.md", "error") in directory
    assert (SAMPLE / "LICENSE", "error") in directory
    [readme] = [i for i in profiled if i.file == SAMPLE / "README.md"]
    assert readme.text.startswith("README missing (README_MISSING). This plugin has no README.md.")


@pytest.mark.parametrize("printed", ["", "Validating plugin manifest: /p\n", "[]", "null"])
def test_a_report_that_is_not_json_is_refused_by_name(printed: str) -> None:
    with pytest.raises(ClientReportError, match="printed no JSON report: unknown option"):
        parse_report(printed, stderr="\nunknown option '--json'\n")


def test_a_client_without_json_reports_only_warns(tmp_path: Path) -> None:
    # A client too old for --json (2.1.197 refused it) must not pass an asset silently
    # nor block it: the validator "could not run", a warning, and the fallback stands.
    old = tmp_path / "claude"
    old.write_text("#!/bin/sh\necho \"error: unknown option '--json'\" >&2\nexit 1\n")
    old.chmod(0o755)
    asset = dataclasses.replace(
        skill(),
        bundle=Bundle(root_name="pdf-report", files=(BundleFile("SKILL.md", BROKEN_SKILL),)),
    )
    [finding] = client_findings(asset, old)
    assert finding.check_id == "spec.client-failed"
    assert finding.severity.value == "warn"
    assert "ClientReportError" in finding.message


def test_a_wrapped_asset_is_not_judged_by_the_directorys_submission_rules(
    tmp_path: Path,
) -> None:
    # The wrapper writes no README or LICENSE: a single asset is not a submission to
    # Anthropic's plugin directory, so its rules raise nothing here, while the
    # client's own errors about the asset still do (the test above).
    claude = claude_or_skip()
    external = client_findings(skill(), claude)
    assert [f.check_id for f in external] == ["spec.client-validated"]
    assert external[0].message.startswith("validated by Claude Code ")
    plugin = tmp_path / "plugin"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text(
        '{"name": "p", "version": "1.0.0", "description": "d", "author": {"name": "a"}}'
    )
    code, issues, _ = validate_folder(claude, plugin, strict=True, profile="directory")
    assert code != 0
    assert {i.file.name for i in issues if i.level == "error"} >= {"README.md", "LICENSE"}


def test_a_missing_client_skips_saying_where_it_was_looked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENT_REGISTRY_TEST_CLAUDE", "/nonexistent/claude")
    with pytest.raises(pytest.skip.Exception, match="names /nonexistent/claude, which does not"):
        claude_or_skip()


def test_the_isolated_environment_carries_nothing_of_the_machine(tmp_path: Path) -> None:
    env = isolated_env(tmp_path / "home", EXTRA="1")
    assert env["HOME"] == str(tmp_path / "home")
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert env["EXTRA"] == "1"
    assert not any(name.startswith("ANTHROPIC_") for name in env)
    assert set(env) - {"PATH", "LANG", "LC_ALL", "TZ", "TMPDIR"} <= {
        "HOME",
        "XDG_CONFIG_HOME",
        "CLAUDE_CONFIG_DIR",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
        "DISABLE_AUTOUPDATER",
        "NO_COLOR",
        "EXTRA",
    }
    assert os.environ.get("HOME") != env["HOME"]
