"""The ``[behaviour]`` table of the policy: how behavioural evals run and what they gate.

The thresholds live here; how severe each resulting finding is lives in ``[checks]``
like every other check (``evals.not-run``, ``evals.behaviour-*``), so one table still
says what blocks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent_registry.lifecycle.stages import RiskTier
from agent_registry.policy.durations import Duration, format_duration, parse_duration


class BehaviourPolicy(BaseModel):
    """How behavioural evals run and what they ask of an asset.

    Attributes:
        enabled: Run them at all (off: no behavioural step, and no finding).
        runs: Runs per case and arm (``--runs``); more runs, steadier pass rates.
        max_cost_usd: The cost ceiling of one evaluation (``--max-cost-usd``); a run
            that reaches it stops with partial results and a finding.
        timeout: The most one evaluation may take, start to finish.
        model: The model the cases run on (``--model``); the client's default when unset.
        required_tiers: Risk tiers whose assets must ship eval cases; none by default,
            since assets published before behavioural evals have none and would all be
            blocked at their next re-certification.
        min_pass_rate: The lowest pass rate (0 to 1) that does not raise a finding.
        no_regression: A pass rate below the published version's raises a finding.
        regression_tolerance: How far below the published pass rate still counts as
            no regression (runs vary).
        min_baseline_delta: The pass-rate gain over the no-asset baseline an asset must
            beat (``0.0``: it must help at all); unset: the delta is shown, not judged.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    runs: Annotated[int, Field(ge=1, le=50)] = 3
    max_cost_usd: Annotated[float, Field(gt=0, le=1000)] = 2.0
    timeout: Duration = Field(default_factory=lambda: parse_duration("15m"))
    model: str | None = None
    required_tiers: list[RiskTier] = Field(default_factory=list)
    min_pass_rate: Annotated[float, Field(ge=0, le=1)] = 0.8
    no_regression: bool = True
    regression_tolerance: Annotated[float, Field(ge=0, le=1)] = 0.0
    min_baseline_delta: Annotated[float, Field(ge=-1, le=1)] | None = 0.0

    @field_validator("timeout")
    @classmethod
    def _sane_timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=10) <= value <= timedelta(hours=2):
            raise ValueError(f"must be between 10s and 2h, got {format_duration(value)}")
        return value
