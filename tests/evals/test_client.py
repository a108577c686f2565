"""Claude Code's validator as the judge of format, and the fallback where it is absent."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.evals.client import client_findings, find_client, parse_output
from agent_registry.evals.runner import evaluate
from agent_registry.policy_loader import load_policy
from tests.claude_client import claude_or_skip, isolated_env
from tests.evals.builders import skill, subagent

BROKEN_SKILL = b"---\nname: pdf-report\ndescription: [unclosed\n---\nBody.\n"


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


def test_the_output_is_read_per_file() -> None:
    output = (
        "Validating plugin manifest: /p/.claude-plugin/plugin.json\n\n"
        "\u26a0 Found 1 warning:\n\n  \u276f author: No author information provided.\n\n"
        "Validating skill: /p/skills/x/SKILL.md\n\n\u2718 Found 1 error:\n\n"
        "  \u276f frontmatter: YAML frontmatter failed to parse.\n"
    )
    issues = parse_output(output)
    assert [(i.file, i.level) for i in issues] == [
        (Path("/p/.claude-plugin/plugin.json"), "warning"),
        (Path("/p/skills/x/SKILL.md"), "error"),
    ]


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
