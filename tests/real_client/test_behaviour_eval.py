"""Behavioural evals end to end: the real ``claude plugin eval`` against the stand-in.

The example skill ships three cases (one per format); the scripted model makes some
graders pass and others fail, so the figures and every gate are checked on a real run:
pass rate, the baseline delta, a regression against the published version, the cost
ceiling, and the refusal to run a case's scaffold script or a plugin's real MCP server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.testing import ActivityEnvironment

import agent_registry
from activities.behaviour import BehaviourActivities
from activities.models import BehaviourInput, PublishedFigures
from agent_registry.assets.archive import canonical_archive, content_hash
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.refs import AssetRef
from agent_registry.behaviour.cases import CaseDiscovery, discover_cases
from agent_registry.behaviour.gates import (
    COST_CEILING,
    FIGURES,
    PASS_RATE,
    REGRESSION,
    judge,
)
from agent_registry.behaviour.run import EvalClient, run_behaviour
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.policy.behaviour import BehaviourPolicy
from agent_registry.vocabulary.behaviour_figures import BehaviourFigures
from tests.claude_client import claude_or_skip
from tests.claude_client.messages_stand_in import MessagesStandIn
from tests.distribution.seeding import mcp_server
from tests.real_client.behaviour_cases import skill_with_cases

SKILL = AssetRef.parse("skill/release-notes@1.1.0")


def _cases(path: Path) -> CaseDiscovery:
    return discover_cases(load_path(path, limits=BundleLimits()).bundle)


def _client(api: MessagesStandIn) -> EvalClient:
    """The client on the stand-in; this virtualenv's python on PATH, as a server needs."""
    return EvalClient(
        claude_or_skip(),
        SecretStr("sk-ant-test-stand-in"),
        base_url=api.url,
        path=(Path(sys.executable).parent,),
    )


def _evaluate(
    path: Path, ref: AssetRef, api: MessagesStandIn, tmp_path: Path, policy: BehaviourPolicy
) -> BehaviourFigures:
    asset = load_path(path, limits=BundleLimits())
    client = _client(api)
    work = tmp_path / "work"
    work.mkdir()
    return run_behaviour(
        ref,
        asset.bundle,
        description="Drafts release notes.",
        client=client,
        policy=policy,
        work_dir=work,
    )


def test_pass_rate_baseline_delta_and_failing_graders_of_a_real_run(
    model: MessagesStandIn, tmp_path: Path
) -> None:
    skill = skill_with_cases(tmp_path)
    policy = BehaviourPolicy(runs=2, min_pass_rate=0.8)

    figures = _evaluate(skill, SKILL, model, tmp_path, policy)

    assert not figures.partial
    assert figures.runs == 6
    by_case = {c.name: c for c in figures.cases}
    assert set(by_case) == {"features", "fixes", "skill-creator-breaking"}
    assert by_case["features"].pass_rate == 1.0
    assert by_case["skill-creator-breaking"].pass_rate == 1.0
    assert by_case["fixes"].pass_rate == 0.0
    assert by_case["fixes"].failed_graders == ["fixes"]
    assert figures.pass_rate == pytest.approx(2 / 3)
    assert figures.baseline_pass_rate == 0.0
    assert figures.baseline_delta == pytest.approx(2 / 3)

    findings = judge(policy=policy, tier=RiskTier.LOW, discovery=_cases(skill), figures=figures)
    ids = [f.check_id for f in findings]
    assert ids == [FIGURES, PASS_RATE]
    assert "67%" in findings[0].message and "+67 points" in findings[0].message
    assert "fixes (0%; failed: fixes)" in findings[1].message


def test_the_cost_ceiling_stops_the_run(model: MessagesStandIn, tmp_path: Path) -> None:
    skill = skill_with_cases(tmp_path)
    policy = BehaviourPolicy(runs=3, max_cost_usd=0.0001)

    figures = _evaluate(skill, SKILL, model, tmp_path, policy)

    assert figures.partial
    assert figures.runs < 9
    findings = judge(policy=policy, tier=RiskTier.LOW, discovery=_cases(skill), figures=figures)
    assert [f.check_id for f in findings] == [FIGURES, COST_CEILING]


SCAFFOLD_CASE = """\
schema_version: "1.0"
name: scaffolded
context:
  scaffold_script: setup.sh
execution:
  prompt: Count the words in "a b c".
  max_turns: 2
graders:
  - type: regex
    name: anything
    pattern: "."
"""

SERVER = """\
from collections.abc import Iterator
from pathlib import Path
Path({marker!r}).write_text("started")
from mcp.server.mcpserver import MCPServer
server = MCPServer("tally", version="1.0.0")
@server.tool(description="Count words.")
def count_words(text: str) -> int:
    return len(text.split())
if __name__ == "__main__":
    server.run()
"""


def _server_with_scaffolded_case(tmp_path: Path) -> tuple[Path, Path, Path]:
    started = tmp_path / "server-started"
    scaffolded = tmp_path / "scaffold-ran"
    folder = mcp_server(
        tmp_path,
        "tally",
        server={"name": "io.github.acme/tally", "description": "Counts words.", "version": "1.0.0"},
        scope="tools:\n  - name: count_words\n    effects: [read]\n"
        "launch:\n  command: python\n  args: [server.py]\n",
        files={
            "server.py": SERVER.format(marker=str(started)),
            "evals/scaffolded/case.yaml": SCAFFOLD_CASE,
            "evals/scaffolded/setup.sh": f"#!/bin/sh\ntouch {scaffolded}\n",
        },
    )
    return folder, started, scaffolded


def test_a_case_asking_for_a_scaffold_script_and_a_real_server_runs_with_neither(
    model: MessagesStandIn, tmp_path: Path
) -> None:
    folder, started, scaffolded = _server_with_scaffolded_case(tmp_path)
    ref = AssetRef.parse("mcp-server/io.github.acme/tally@1.0.0")

    figures = _evaluate(folder, ref, model, tmp_path, BehaviourPolicy(runs=1))

    assert figures.runs == 1 and figures.cases[0].name == "scaffolded"
    assert not scaffolded.exists(), "the case's scaffold script ran"
    assert not started.exists(), "the plugin's real MCP server started"
    discovery = _cases(folder)
    assert [c.scaffold_script for c in discovery.scaffolded] == ["setup.sh"]


def test_the_same_case_with_the_options_the_registry_never_passes_runs_both(
    model: MessagesStandIn, tmp_path: Path
) -> None:
    """The control: the markers above are absent because of the command, not the case."""
    folder, started, scaffolded = _server_with_scaffolded_case(tmp_path)
    ref = AssetRef.parse("mcp-server/io.github.acme/tally@1.0.0")
    _evaluate(folder, ref, model, tmp_path, BehaviourPolicy(runs=1))
    plugin = tmp_path / "work" / "plugin"
    client = _client(model)
    home = tmp_path / "home-unsafe"
    home.mkdir()
    argv = [str(client.binary), "plugin", "eval", str(plugin), "--runs", "1", "--trust-plugin"]
    argv += ["--no-publish", "--scaffold", "--mocks", "off", "--ablation", "none"]
    argv += ["--json", str(tmp_path / "unsafe.json"), "--threshold", "0"]

    env = client.environment(home)
    subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False)

    assert scaffolded.exists()
    assert started.exists()
    assert json.loads((tmp_path / "unsafe.json").read_text())["cases"][0]["name"] == "scaffolded"


def test_the_probe_worker_activity_blocks_a_regression_against_the_published_version(
    model: MessagesStandIn, tmp_path: Path
) -> None:
    bundle = load_path(skill_with_cases(tmp_path), limits=BundleLimits()).bundle
    request = BehaviourInput(
        ref=SKILL,
        content_hash=content_hash(bundle),
        archive=canonical_archive(bundle),
        description="Drafts release notes.",
        tier=RiskTier.LOW,
        published=PublishedFigures(
            version="1.0.0",
            figures=BehaviourFigures(pass_rate=1.0, baseline_pass_rate=0.0, runs=3, cost_usd=0.1),
        ),
    )
    default = (Path(agent_registry.__file__).parent / "default_policy.toml").read_text()
    policy = tmp_path / "policy.toml"
    policy.write_text(default.replace("\nruns = 3 ", "\nruns = 1 "))
    activities = BehaviourActivities(
        policy_path=policy, limits=BundleLimits(), client=_client(model)
    )

    output = ActivityEnvironment().run(activities.run_behaviour_evals, request)

    assert output.figures is not None
    assert output.figures.pass_rate == pytest.approx(2 / 3)
    assert output.figures.runs == 3
    ids = [f.check_id for f in output.findings]
    assert ids == [FIGURES, PASS_RATE, REGRESSION]
    assert "published 1.0.0: 100%" in output.findings[0].message
