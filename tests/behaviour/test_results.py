"""Reading ``claude plugin eval --json`` results, and refusing what is not one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_registry.behaviour.command import FORBIDDEN, eval_command
from agent_registry.behaviour.results import BehaviourResultError, read_result
from agent_registry.policy.behaviour import BehaviourPolicy


def _run(passed: bool, *, failed: str | None = None, error: str | None = None) -> dict[str, object]:
    graders = [{"name": failed, "passed": False, "scored": True}] if failed else []
    return {"passed": passed, "score": 1 if passed else 0, "error": error, "graders": graders}


RESULT = {
    "schemaVersion": 1,
    "claudeVersion": "2.1.332",
    "costUsd": 0.5,
    "partial": False,
    "cases": [
        {
            "name": "a",
            "arms": {"with": [_run(True), _run(True)], "without": [_run(False), _run(False)]},
        },
        {
            "name": "b",
            "arms": {
                "with": [_run(False, failed="fixes"), _run(True)],
                "without": [_run(False, error="API Error: 529"), _run(True)],
            },
        },
    ],
}


def test_figures_from_a_result() -> None:
    figures = read_result(json.dumps(RESULT), model="claude-sonnet-5")
    assert figures.pass_rate == 0.75
    assert figures.baseline_pass_rate == 0.25
    assert figures.baseline_delta == 0.5
    assert (figures.runs, figures.cost_usd, figures.client_version) == (4, 0.5, "2.1.332")
    assert figures.model == "claude-sonnet-5"
    b = figures.cases[1]
    assert (b.pass_rate, b.baseline_pass_rate, b.failed_graders) == (0.5, 0.5, ["fixes"])
    assert b.errors == ["API Error: 529"]


def test_a_single_arm_result_has_no_baseline() -> None:
    result = {**RESULT, "cases": [{"name": "a", "arms": {"with": [_run(True)]}}]}
    figures = read_result(json.dumps(result))
    assert figures.baseline_pass_rate is None and figures.baseline_delta is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "the eval result is not JSON"),
        ("[]", "not a JSON object"),
        (json.dumps({**RESULT, "schemaVersion": 2}), "schemaVersion 2; this registry reads 1"),
        (json.dumps({"schemaVersion": 1}), "has no cases list"),
        (json.dumps({"schemaVersion": 1, "cases": [{}]}), "cases[0] has no name"),
    ],
)
def test_what_is_not_a_result_is_refused_saying_where(text: str, message: str) -> None:
    with pytest.raises(BehaviourResultError, match=message.replace("[", r"\[")):
        read_result(text)


def test_the_command_never_runs_author_code_or_real_servers() -> None:
    argv = eval_command(
        Path("/opt/claude"),
        Path("/work/plugin"),
        policy=BehaviourPolicy(runs=5, max_cost_usd=1.5, model="claude-sonnet-5"),
        result_file=Path("/work/result.json"),
        output_dir=Path("/work/results"),
    )
    assert not FORBIDDEN & set(argv)
    assert argv[argv.index("--mocks") + 1] == "record"
    assert "--no-scaffold" in argv and "--trust-plugin" in argv
    assert argv[argv.index("--ablation") + 1] == "with-without"
    assert argv[argv.index("--runs") + 1] == "5"
    assert argv[argv.index("--max-cost-usd") + 1] == "1.5"
    assert argv[argv.index("--model") + 1] == "claude-sonnet-5"
    assert argv[argv.index("--threshold") + 1] == "0"
