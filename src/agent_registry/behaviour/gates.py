"""What the policy makes of a behavioural evaluation: findings, like every other check.

Each gate is a finding with its own check id, so ``[checks]`` decides how much it
matters (block, warn, info, off) exactly as for the static checks; the thresholds are
the ``[behaviour]`` table's. One ``info`` finding carries the figures themselves (pass
rate, baseline delta, the published version's pass rate, cost), which is how they reach
the review message and ``agentreg show`` with the rest of the eval report.

A step that could not run (no model credential, no client) is never silent: it is the
``evals.not-run`` finding with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_registry.behaviour.cases import CaseDiscovery
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.policy.behaviour import BehaviourPolicy
from agent_registry.vocabulary.behaviour_figures import BehaviourFigures
from agent_registry.vocabulary.findings import Finding, Severity

NOT_RUN = "evals.not-run"
CASES_MISSING = "evals.behaviour-cases-missing"
CASE_INVALID = "evals.behaviour-case-invalid"
SCAFFOLD_SKIPPED = "evals.behaviour-scaffold-skipped"
FIGURES = "evals.behaviour-figures"
PASS_RATE = "evals.behaviour-pass-rate"  # noqa: S105 - a check id, not a password
REGRESSION = "evals.behaviour-regression"
NO_GAIN = "evals.behaviour-no-gain"
COST_CEILING = "evals.behaviour-cost-ceiling"


@dataclass(frozen=True)
class Published:
    """The published version a new one replaces, and its figures."""

    version: str
    figures: BehaviourFigures


def judge(
    *,
    policy: BehaviourPolicy,
    tier: RiskTier,
    discovery: CaseDiscovery,
    figures: BehaviourFigures | None,
    not_run_reason: str | None = None,
    published: Published | None = None,
) -> list[Finding]:
    """The findings of one behavioural evaluation.

    Args:
        policy: The ``[behaviour]`` table.
        tier: The asset's risk tier (some tiers must ship cases).
        discovery: The cases the asset ships, and broken case files.
        figures: What the run measured; None when it did not run.
        not_run_reason: Why it did not run, when it did not (with cases to run).
        published: The version this one replaces, with its figures, if it has any.

    Returns:
        Findings with the severities their checks propose; policy has the last word.
    """
    if not policy.enabled:
        return []
    findings = [
        Finding(check_id=CASE_INVALID, severity=Severity.BLOCK, message=p.message, file=p.path)
        for p in discovery.problems
    ]
    findings.extend(
        Finding(
            check_id=SCAFFOLD_SKIPPED,
            severity=Severity.INFO,
            message=(
                f"case {c.name} asks to run {c.scaffold_script} first; the registry runs "
                "every case without scaffold scripts or real MCP servers"
            ),
            file=c.path,
        )
        for c in discovery.scaffolded
    )
    if not discovery.cases:
        if tier in policy.required_tiers:
            findings.append(
                Finding(
                    check_id=CASES_MISSING,
                    severity=Severity.BLOCK,
                    message=f"a {tier.value}-risk asset must ship behavioural eval cases",
                    fix="add evals/<case>/case.yaml (claude plugin eval's format) or "
                    "skill-creator's evals/evals.json",
                )
            )
        return findings
    if figures is None:
        findings.append(
            Finding(
                check_id=NOT_RUN,
                severity=Severity.WARN,
                message=f"{len(discovery.cases)} behavioural eval case(s) were not run: "
                f"{not_run_reason or 'no reason given'}",
            )
        )
        return findings
    findings.append(_figures(figures, published))
    if figures.partial:
        findings.append(
            Finding(
                check_id=COST_CEILING,
                severity=Severity.WARN,
                message=f"the run stopped at the ${policy.max_cost_usd:.2f} cost ceiling after "
                f"{figures.runs} run(s); its figures are partial and were not judged",
            )
        )
        return findings
    findings.extend(_gates(policy, figures, published))
    return findings


def _gates(
    policy: BehaviourPolicy, figures: BehaviourFigures, published: Published | None
) -> list[Finding]:
    findings: list[Finding] = []
    if figures.pass_rate < policy.min_pass_rate:
        failing = ", ".join(
            f"{c.name} ({_pct(c.pass_rate)}; failed: {', '.join(c.failed_graders) or 'errors'})"
            for c in figures.cases
            if c.pass_rate < 1
        )
        findings.append(
            Finding(
                check_id=PASS_RATE,
                severity=Severity.BLOCK,
                message=f"pass rate {_pct(figures.pass_rate)} is below the policy's "
                f"{_pct(policy.min_pass_rate)}; cases below 100%: {failing}",
            )
        )
    if (
        policy.no_regression
        and published is not None
        and figures.pass_rate < published.figures.pass_rate - policy.regression_tolerance
    ):
        findings.append(
            Finding(
                check_id=REGRESSION,
                severity=Severity.BLOCK,
                message=f"pass rate {_pct(figures.pass_rate)} is below the published "
                f"{published.version}'s {_pct(published.figures.pass_rate)}",
            )
        )
    delta = figures.baseline_delta
    floor = policy.min_baseline_delta
    if floor is not None and delta is not None and delta <= floor:
        findings.append(
            Finding(
                check_id=NO_GAIN,
                severity=Severity.BLOCK,
                message=f"with the asset the pass rate is {_pct(figures.pass_rate)}, "
                f"without it {_pct(figures.baseline_pass_rate or 0.0)}: a gain of "
                f"{_points(delta)}, not above the policy's {_points(floor)}",
            )
        )
    return findings


def _figures(figures: BehaviourFigures, published: Published | None) -> Finding:
    parts = [f"pass rate {_pct(figures.pass_rate)} over {figures.runs} run(s)"]
    if figures.baseline_delta is not None:
        parts.append(
            f"without the asset {_pct(figures.baseline_pass_rate or 0.0)} "
            f"({_points(figures.baseline_delta)})"
        )
    if published is not None:
        parts.append(f"published {published.version}: {_pct(published.figures.pass_rate)}")
    on = f" on {figures.model}" if figures.model else ""
    parts.append(f"cost ${figures.cost_usd:.2f}{on} (Claude Code {figures.client_version})")
    message = "behaviour: " + "; ".join(parts)
    return Finding(check_id=FIGURES, severity=Severity.INFO, message=message)


def _pct(rate: float) -> str:
    return f"{round(rate * 100)}%"


def _points(delta: float) -> str:
    return f"{round(delta * 100):+d} points"
