"""The figures a behavioural evaluation of a version measured, as the registry keeps them.

The behaviour package produces them (it reads the eval client's result), but the wire
contract carries them in the eval summary, the registry stores them and the catalog
shows them, so they sit in the leaf vocabulary rather than beside the runner.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


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
