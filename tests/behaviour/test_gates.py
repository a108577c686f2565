"""What the policy makes of a behavioural run: each gate, its threshold and its message."""

from __future__ import annotations

import pytest

from agent_registry.behaviour.cases import CaseDiscovery, CaseProblem, EvalCase
from agent_registry.behaviour.gates import (
    CASE_INVALID,
    CASES_MISSING,
    COST_CEILING,
    FIGURES,
    NO_GAIN,
    NOT_RUN,
    PASS_RATE,
    REGRESSION,
    SCAFFOLD_SKIPPED,
    Published,
    judge,
)
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.policy.behaviour import BehaviourPolicy
from agent_registry.vocabulary.behaviour_figures import BehaviourFigures, CaseFigures
from agent_registry.vocabulary.findings import Severity

CASES = CaseDiscovery(cases=(EvalCase("grouped", "evals/grouped/case.yaml"),))


def _figures(
    rate: float, baseline: float | None = 0.0, *, partial: bool = False
) -> BehaviourFigures:
    return BehaviourFigures(
        pass_rate=rate,
        baseline_pass_rate=baseline,
        runs=3,
        cost_usd=0.12,
        partial=partial,
        client_version="2.1.332",
        cases=[CaseFigures(name="grouped", pass_rate=rate, failed_graders=["features"])],
    )


def _ids(**kwargs: object) -> list[str]:
    defaults: dict[str, object] = {
        "policy": BehaviourPolicy(),
        "tier": RiskTier.LOW,
        "discovery": CASES,
        "figures": _figures(1.0),
    }
    return [f.check_id for f in judge(**{**defaults, **kwargs})]  # type: ignore[arg-type]


def test_a_good_run_records_only_its_figures() -> None:
    [finding] = judge(
        policy=BehaviourPolicy(), tier=RiskTier.LOW, discovery=CASES, figures=_figures(1.0)
    )
    assert finding.check_id == FIGURES and finding.severity is Severity.INFO
    assert finding.message == (
        "behaviour: pass rate 100% over 3 run(s); without the asset 0% (+100 points); "
        "cost $0.12 (Claude Code 2.1.332)"
    )


def test_the_pass_rate_gate_names_the_failing_cases() -> None:
    findings = judge(
        policy=BehaviourPolicy(min_pass_rate=0.8),
        tier=RiskTier.LOW,
        discovery=CASES,
        figures=_figures(2 / 3),
    )
    gate = next(f for f in findings if f.check_id == PASS_RATE)
    assert gate.severity is Severity.BLOCK
    assert "67% is below the policy's 80%" in gate.message
    assert "grouped (67%; failed: features)" in gate.message
    assert PASS_RATE not in _ids(policy=BehaviourPolicy(min_pass_rate=0.6), figures=_figures(2 / 3))


@pytest.mark.parametrize(
    ("published", "tolerance", "regressed"),
    [(1.0, 0.0, True), (1.0, 0.34, False), (2 / 3, 0.0, False), (None, 0.0, False)],
)
def test_no_regression_against_the_published_version(
    published: float | None, tolerance: float, regressed: bool
) -> None:
    policy = BehaviourPolicy(min_pass_rate=0.5, regression_tolerance=tolerance)
    before = None if published is None else Published("1.0.0", _figures(published))
    ids = _ids(policy=policy, figures=_figures(2 / 3), published=before)
    assert (REGRESSION in ids) is regressed


def test_the_asset_must_beat_the_baseline_when_the_policy_says_so() -> None:
    assert NO_GAIN in _ids(figures=_figures(1.0, baseline=1.0))
    assert NO_GAIN not in _ids(figures=_figures(1.0, baseline=0.5))
    assert NO_GAIN in _ids(
        policy=BehaviourPolicy(min_baseline_delta=0.6), figures=_figures(1.0, baseline=0.5)
    )
    assert NO_GAIN not in _ids(
        policy=BehaviourPolicy(min_baseline_delta=None), figures=_figures(1.0, baseline=1.0)
    )
    assert NO_GAIN not in _ids(figures=_figures(1.0, baseline=None))


def test_a_partial_run_is_reported_and_not_judged() -> None:
    ids = _ids(policy=BehaviourPolicy(min_pass_rate=1.0), figures=_figures(0.0, partial=True))
    assert ids == [FIGURES, COST_CEILING]


def test_a_step_that_could_not_run_is_never_silent() -> None:
    [finding] = judge(
        policy=BehaviourPolicy(),
        tier=RiskTier.LOW,
        discovery=CASES,
        figures=None,
        not_run_reason="no model credential is configured (AGENT_REGISTRY_MODEL_API_KEY)",
    )
    assert finding.check_id == NOT_RUN and finding.severity is Severity.WARN
    assert "1 behavioural eval case(s) were not run: no model credential" in finding.message


def test_required_cases_per_tier() -> None:
    nothing = CaseDiscovery()
    assert _ids(tier=RiskTier.HIGH, discovery=nothing, figures=None) == [], "none by default"
    high = BehaviourPolicy(required_tiers=[RiskTier.HIGH])
    assert _ids(policy=high, tier=RiskTier.HIGH, discovery=nothing, figures=None) == [CASES_MISSING]
    assert _ids(policy=high, tier=RiskTier.LOW, discovery=nothing, figures=None) == []
    policy = BehaviourPolicy(required_tiers=[RiskTier.MEDIUM, RiskTier.HIGH])
    assert _ids(policy=policy, tier=RiskTier.MEDIUM, discovery=nothing, figures=None) == [
        CASES_MISSING
    ]


def test_broken_cases_block_and_scaffolds_are_told_and_off_means_nothing() -> None:
    discovery = CaseDiscovery(
        cases=(EvalCase("grouped", "evals/grouped/case.yaml", scaffold_script="setup.sh"),),
        problems=(CaseProblem("evals/bad/case.yaml", "must be a YAML mapping"),),
    )
    findings = judge(
        policy=BehaviourPolicy(), tier=RiskTier.LOW, discovery=discovery, figures=_figures(1.0)
    )
    assert [f.check_id for f in findings] == [CASE_INVALID, SCAFFOLD_SKIPPED, FIGURES]
    assert findings[0].file == "evals/bad/case.yaml"
    assert "without scaffold scripts or real MCP servers" in findings[1].message
    assert _ids(policy=BehaviourPolicy(enabled=False), discovery=discovery) == []
