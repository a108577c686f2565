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

from agent_registry.vocabulary.behaviour_figures import BehaviourFigures, CaseFigures

SUPPORTED_SCHEMA = 1


class BehaviourResultError(ValueError):
    """The eval's output is not a result this registry can read; the message says where."""


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
