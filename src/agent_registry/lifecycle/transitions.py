"""The lifecycle's state diagram: which stage may follow which, and who records it.

Declared once, here, so that the workflow's moves can be checked against the diagram
the docs draw, and so that "is this stage written to the registry by the workflow or
by the step that caused it" is a fact of the diagram rather than a flag at each call.
A move the diagram does not allow is a bug in the workflow: it fails the workflow task
(visible in the UI, retried once fixed) instead of writing a wrong stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from agent_registry.lifecycle.stages import Stage


class RecordedBy(StrEnum):
    """Who writes a stage's row into the registry."""

    WORKFLOW = "workflow"
    """The workflow records the stage on its own (the ``record_stage`` activity)."""

    STEP = "step"
    """The activity that caused the move records it in its own transaction: storing a
    bundle writes ``Evaluating``, judging it ``InReview`` or ``EvalFailed``; publishing,
    re-certifying, deprecating and retiring each write their stage with their change."""


@dataclass(frozen=True)
class Transition:
    """How a lifecycle enters ``target``: from which stages, and who records it."""

    target: Stage
    sources: frozenset[Stage]
    recorded_by: RecordedBy


def _allow(target: Stage, *sources: Stage, recorded_by: RecordedBy) -> Transition:
    return Transition(target=target, sources=frozenset(sources), recorded_by=recorded_by)


TRANSITIONS: Mapping[Stage, Transition] = {
    t.target: t
    for t in (
        _allow(
            Stage.EVALUATING,
            Stage.SUBMITTED,
            Stage.EVAL_FAILED,
            Stage.CHANGES_REQUESTED,
            recorded_by=RecordedBy.STEP,
        ),
        _allow(Stage.EVAL_FAILED, Stage.EVALUATING, recorded_by=RecordedBy.STEP),
        _allow(Stage.IN_REVIEW, Stage.EVALUATING, recorded_by=RecordedBy.STEP),
        _allow(Stage.CHANGES_REQUESTED, Stage.IN_REVIEW, recorded_by=RecordedBy.WORKFLOW),
        _allow(Stage.REJECTED, Stage.IN_REVIEW, recorded_by=RecordedBy.WORKFLOW),
        _allow(Stage.PUBLISHED, Stage.IN_REVIEW, Stage.RECERTIFYING, recorded_by=RecordedBy.STEP),
        _allow(Stage.RECERTIFYING, Stage.PUBLISHED, recorded_by=RecordedBy.WORKFLOW),
        _allow(Stage.DEPRECATED, Stage.PUBLISHED, Stage.RECERTIFYING, recorded_by=RecordedBy.STEP),
        _allow(Stage.RETIRED, Stage.DEPRECATED, recorded_by=RecordedBy.STEP),
    )
}
"""Every move of the lifecycle, keyed by the stage it enters. ``Submitted`` is where
every lifecycle starts; nothing enters it."""


class IllegalTransitionError(RuntimeError):
    """The workflow tried a move the diagram does not have."""


def transition(current: Stage, target: Stage) -> Transition:
    """The declared move from ``current`` to ``target``.

    Raises:
        IllegalTransitionError: When the diagram has no such move.
    """
    move = TRANSITIONS.get(target)
    if move is None or current not in move.sources:
        raise IllegalTransitionError(f"no transition from {current.value} to {target.value}")
    return move
