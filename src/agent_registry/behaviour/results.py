"""The result ``claude plugin eval --json`` writes, read into the figures the registry keeps.

The result (``schemaVersion`` 1) has one entry per case with per-arm runs (``with``,
and ``without`` when the baseline arm ran) and per-case and overall aggregates. The
registry keeps what decides and what people read: the pass rate with the asset, the
pass rate without it, their difference, cost, whether the run stopped early (the cost
ceiling), and per case the same figures and which graders failed.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

SUPPORTED_SCHEMA = 1


class BehaviourResultError(ValueError):
    """The eval's output is not a result this registry can read; the message says where."""


class CaseFigures(BaseModel):
    """One case's figures.

    Attributes:
        name: The case.
        pass_rate: Share of its runs with the asset that passed.
        baseline_pass_rate: The same without the asset, when the baseline arm ran.
        failed_graders: Graders that failed in at least one run with the asset.
        errors: Run errors (timeouts, API errors), as the client reported them.
    """

    name: str
    pass_rate: float
    baseline_pass_rate: float | None = None
    failed_graders: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)


class BehaviourFigures(BaseModel):
    """What one behavioural evaluation of a version measured.

    Attributes:
        pass_rate: Share of runs with the asset that passed, over every case.
        baseline_pass_rate: The same without the asset, when the baseline arm ran.
        runs: Runs with the asset.
        cost_usd: What the client reports the evaluation cost (list prices).
        partial: The run stopped early (the cost ceiling), so figures are partial.
        client_version: The Claude Code version that ran it.
        model: The model the cases ran on, when the client named one.
        cases: Per-case figures.
    """

    pass_rate: float
    baseline_pass_rate: float | None = None
    runs: int
    cost_usd: float
    partial: bool = False
    client_version: str = ""
    model: str | None = None
    cases: list[CaseFigures] = Field(default_factory=list)

    @property
    def baseline_delta(self) -> float | None:
        """How much the asset raises the pass rate over no asset at all."""
        if self.baseline_pass_rate is None:
            return None
        return self.pass_rate - self.baseline_pass_rate


class BehaviourRecord(BaseModel):
    """What is recorded per version: its figures and those of the version it replaces.

    Kept with the eval run and carried in the eval summary, so the review message,
    ``agentreg show`` and the dashboard show the same three figures: the pass rate, the
    delta against no asset, and the delta against the published version.

    Attributes:
        figures: What this version's evaluation measured.
        replaces: The published version it replaces, if any had figures.
        replaced_pass_rate: That version's pass rate.
    """

    figures: BehaviourFigures
    replaces: str | None = None
    replaced_pass_rate: float | None = None

    @property
    def replaced_delta(self) -> float | None:
        """How much higher (or lower) the pass rate is than the replaced version's."""
        if self.replaced_pass_rate is None:
            return None
        return self.figures.pass_rate - self.replaced_pass_rate

    def summary_line(self) -> str:
        """The three figures in one line, for people."""
        figures = self.figures
        parts = [f"pass rate {_pct(figures.pass_rate)} over {figures.runs} run(s)"]
        delta = figures.baseline_delta
        parts.append("no baseline" if delta is None else f"{_points(delta)} against no asset")
        replaced = self.replaced_delta
        if replaced is not None:
            parts.append(f"{_points(replaced)} against published {self.replaces}")
        if figures.partial:
            parts.append("partial: stopped at the cost ceiling")
        return "; ".join(parts)


def _pct(rate: float) -> str:
    return f"{round(rate * 100)}%"


def _points(delta: float) -> str:
    return f"{round(delta * 100):+d} points"


def read_result(text: str, *, model: str | None = None) -> BehaviourFigures:
    """The figures of a ``--json`` result.

    Raises:
        BehaviourResultError: Not JSON, an unknown schema version, or a missing part;
            the message names the part.
    """
    try:
        data = json.loads(text)
    except ValueError as error:
        raise BehaviourResultError(f"the eval result is not JSON ({error})") from None
    if not isinstance(data, dict):
        raise BehaviourResultError("the eval result is not a JSON object")
    if data.get("schemaVersion") != SUPPORTED_SCHEMA:
        raise BehaviourResultError(
            f"the eval result has schemaVersion {data.get('schemaVersion')!r}; "
            f"this registry reads {SUPPORTED_SCHEMA}"
        )
    cases_data = data.get("cases")
    if not isinstance(cases_data, list):
        raise BehaviourResultError("the eval result has no cases list")
    cases = [_case(c, index) for index, c in enumerate(cases_data)]
    with_runs = [r for c in cases_data for r in _arm(c, "with")]
    without_runs = [r for c in cases_data for r in _arm(c, "without")]
    return BehaviourFigures(
        pass_rate=_rate(with_runs),
        baseline_pass_rate=_rate(without_runs) if without_runs else None,
        runs=len(with_runs),
        cost_usd=float(data.get("costUsd") or 0.0),
        partial=bool(data.get("partial")),
        client_version=str(data.get("claudeVersion") or ""),
        model=model,
        cases=cases,
    )


def _arm(case: object, arm: str) -> list[dict[str, Any]]:
    arms = case.get("arms") if isinstance(case, dict) else None
    runs = arms.get(arm) if isinstance(arms, dict) else None
    return [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []


def _rate(runs: list[dict[str, Any]]) -> float:
    return sum(1 for r in runs if r.get("passed") is True) / len(runs) if runs else 0.0


def _case(case: object, index: int) -> CaseFigures:
    if not isinstance(case, dict) or not isinstance(case.get("name"), str):
        raise BehaviourResultError(f"the eval result's cases[{index}] has no name")
    with_runs = _arm(case, "with")
    without_runs = _arm(case, "without")
    failed = sorted(
        {
            str(g.get("name"))
            for r in with_runs
            for g in r.get("graders", [])
            if isinstance(g, dict) and g.get("passed") is False and g.get("scored", True)
        }
    )
    errors = [str(r["error"]) for r in with_runs + without_runs if r.get("error")]
    return CaseFigures(
        name=case["name"],
        pass_rate=_rate(with_runs),
        baseline_pass_rate=_rate(without_runs) if without_runs else None,
        failed_graders=failed,
        errors=errors,
    )
