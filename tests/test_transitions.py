"""The declared state diagram: complete, enforced, and the one the workflow's docstring draws."""

from __future__ import annotations

import itertools
import re

import pytest

from agent_registry.lifecycle.stages import REVISABLE, Stage
from agent_registry.lifecycle.transitions import (
    TRANSITIONS,
    IllegalTransitionError,
    RecordedBy,
    transition,
)
from workflows import asset_lifecycle


def test_every_stage_but_submitted_can_be_entered_and_submitted_cannot() -> None:
    assert set(TRANSITIONS) == set(Stage) - {Stage.SUBMITTED}
    from_submitted = {t for t, move in TRANSITIONS.items() if Stage.SUBMITTED in move.sources}
    assert from_submitted == {Stage.EVALUATING}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Stage.SUBMITTED, Stage.PUBLISHED),
        (Stage.EVAL_FAILED, Stage.IN_REVIEW),
        (Stage.REJECTED, Stage.EVALUATING),
        (Stage.RETIRED, Stage.PUBLISHED),
        (Stage.DEPRECATED, Stage.PUBLISHED),
        (Stage.IN_REVIEW, Stage.RETIRED),
    ],
)
def test_a_move_the_diagram_does_not_have_is_refused(current: Stage, target: Stage) -> None:
    with pytest.raises(IllegalTransitionError, match=f"{current.value} to {target.value}"):
        transition(current, target)


def test_revisable_stages_are_the_ones_a_revision_leaves() -> None:
    assert TRANSITIONS[Stage.EVALUATING].sources - {Stage.SUBMITTED} == set(REVISABLE)


def test_the_workflow_records_only_stages_no_step_writes() -> None:
    by_workflow = {t for t, move in TRANSITIONS.items() if move.recorded_by is RecordedBy.WORKFLOW}
    assert by_workflow == {
        Stage.CHANGES_REQUESTED,
        Stage.REJECTED,
        Stage.RECERTIFYING,
    }


def test_the_workflow_docstring_draws_exactly_the_declared_moves() -> None:
    drawn: set[tuple[Stage, Stage]] = set()
    doc = asset_lifecycle.__doc__ or ""
    by_name = {stage.value: stage for stage in Stage}
    for line in doc.splitlines():
        match = re.fullmatch(r"\s+([\w, ]+?)\s+(<?->)\s+(.+)", line)
        if match is None:
            continue
        sources = [by_name[name.strip()] for name in match.group(1).split(",")]
        chain = [part.strip() for part in match.group(3).split("->")]
        targets = [by_name[re.sub(r"\s*\(.*\)", "", name).strip()] for name in chain[0].split("|")]
        drawn |= {(source, target) for source in sources for target in targets}
        if match.group(2) == "<->":
            drawn |= {(target, source) for source in sources for target in targets}
        for before, after in itertools.pairwise(chain):
            drawn.add((by_name[before], by_name[after]))
    declared = {(source, move.target) for move in TRANSITIONS.values() for source in move.sources}
    assert drawn == declared
