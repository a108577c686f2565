"""One run's failures: clear, bounded, and never carrying the model credential."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.refs import AssetRef
from agent_registry.behaviour.plugin_dir import UnsupportedAssetError, write_plugin
from agent_registry.behaviour.run import BehaviourRunError, EvalClient, run_behaviour
from agent_registry.policy.behaviour import BehaviourPolicy

KEY = "sk-ant-api03-real-looking-credential-value"
SKILL = AssetRef.parse("skill/release-notes@1.0.0")
BUNDLE = Bundle(
    root_name="release-notes",
    files=(
        BundleFile("SKILL.md", b"---\nname: release-notes\ndescription: Notes.\n---\nBody.\n"),
        BundleFile("evals/a/case.yaml", b'schema_version: "1.0"\ngraders: [{type: llm}]\n'),
        BundleFile("evals/results/old/case.yaml", b"old"),
        BundleFile(
            "evals/evals.json", b'{"evals": [{"id": 1, "prompt": "x", "expectations": ["y"]}]}'
        ),
    ),
)


def _fake_client(tmp_path: Path, script: str) -> EvalClient:
    binary = tmp_path / "bin" / "claude"
    binary.parent.mkdir()
    binary.write_text(f"#!/bin/sh\n{script}\n")
    binary.chmod(0o755)
    return EvalClient(binary, SecretStr(KEY))


def _run(tmp_path: Path, client: EvalClient, **policy: object) -> None:
    work = tmp_path / "work"
    work.mkdir()
    run_behaviour(
        SKILL,
        BUNDLE,
        description="Notes.",
        client=client,
        policy=BehaviourPolicy.model_validate(policy),
        work_dir=work,
    )


def test_a_failing_client_is_reported_without_the_credential(tmp_path: Path) -> None:
    client = _fake_client(tmp_path, 'echo "auth failed for $ANTHROPIC_API_KEY" >&2; exit 3')
    with pytest.raises(BehaviourRunError) as raised:
        _run(tmp_path, client)
    message = str(raised.value)
    assert "skill/release-notes@1.0.0 exited 3 without a result" in message
    assert "auth failed for [credential]" in message
    assert KEY not in message


def test_a_hanging_client_is_stopped_at_the_policy_timeout(tmp_path: Path) -> None:
    client = _fake_client(tmp_path, "sleep 60")
    with pytest.raises(BehaviourRunError, match="longer than the policy's timeout"):
        _run(tmp_path, client, timeout=timedelta(seconds=10))


def test_the_credential_is_in_the_environment_only(tmp_path: Path) -> None:
    client = _fake_client(tmp_path, 'env > "$HOME/../env.txt"; echo "$@" > "$HOME/../argv.txt"')
    with pytest.raises(BehaviourRunError, match="without a result"):
        _run(tmp_path, client)
    env = dict(
        line.split("=", 1) for line in (tmp_path / "work" / "env.txt").read_text().splitlines()
    )
    assert env["ANTHROPIC_API_KEY"] == KEY
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert "AGENT_REGISTRY_DATABASE_URL" not in env
    assert KEY not in (tmp_path / "work" / "argv.txt").read_text()


def test_the_plugin_holds_the_skill_and_every_case_but_old_results(tmp_path: Path) -> None:
    name = write_plugin(SKILL, BUNDLE, tmp_path, description="Notes.")
    assert name == "skill-release-notes"
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        ".claude-plugin/plugin.json",
        "evals/a/case.yaml",
        "evals/skill-creator-1/case.yaml",
        "skills/release-notes/SKILL.md",
    ]


def test_a_subagent_ships_no_cases(tmp_path: Path) -> None:
    agent = AssetRef.parse("subagent/code-reviewer@1.0.0")
    with pytest.raises(UnsupportedAssetError, match="one file"):
        write_plugin(agent, BUNDLE, tmp_path, description="Reviews.")
