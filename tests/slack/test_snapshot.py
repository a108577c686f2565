"""The snapshot a notice or review message carries: the facts it shows, and no more."""

from __future__ import annotations

from datetime import timedelta

from agent_registry.lifecycle.contract import (
    Deprecation,
    LifePlan,
    StageChange,
    Vote,
)
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.slack.snapshot import Objection, ReviewNeeds, review_snapshot
from tests.slack.factories import NOW, make_plan, make_status


def _vote(reviewer: str, decision: Decision, reason: str | None = None) -> Vote:
    return Vote(reviewer=reviewer, decision=decision, reason=reason, at=NOW)


def test_it_carries_what_the_review_still_needs_not_the_groups_members() -> None:
    status = make_status(votes=[_vote("sec@acme.io", Decision.APPROVE)])
    snapshot = review_snapshot(status)
    assert snapshot.needs == ReviewNeeds(
        approvals_required=2, require_groups=["security"], missing=["1 more approval"]
    )
    assert snapshot.approvers == ["sec@acme.io"]
    assert snapshot.votes_cast == 1
    assert snapshot.objection is None
    assert "S0REVIEWERS" not in snapshot.model_dump_json()


def test_the_objection_is_the_first_vote_that_is_not_an_approval() -> None:
    votes = [
        _vote("ann@acme.io", Decision.APPROVE),
        _vote("rob@acme.io", Decision.REQUEST_CHANGES, "add tests"),
        _vote("sue@acme.io", Decision.REJECT, "no"),
    ]
    snapshot = review_snapshot(make_status(votes=votes))
    assert snapshot.objection == Objection(reviewer="rob@acme.io", reason="add tests")
    assert (snapshot.approvers, snapshot.votes_cast) == (["ann@acme.io"], 3)


def test_no_plan_no_needs() -> None:
    assert review_snapshot(make_status(plan=None)).needs is None


def test_of_the_history_it_keeps_when_the_version_retired() -> None:
    deprecation = Deprecation(
        reason="replaced", by="ops@acme.io", at=NOW, sunset_at=NOW + timedelta(days=30)
    )
    retired = NOW + timedelta(days=31)
    history = [
        StageChange(stage=Stage.PUBLISHED, at=NOW - timedelta(days=1)),
        StageChange(stage=Stage.DEPRECATED, at=NOW),
        StageChange(stage=Stage.RETIRED, at=retired),
    ]
    snapshot = review_snapshot(
        make_status(stage=Stage.RETIRED, deprecation=deprecation, history=history)
    )
    assert snapshot.retired_at == retired
    assert snapshot.deprecation == deprecation
    assert review_snapshot(make_status(history=history[:2])).retired_at is None


def test_its_size_does_not_grow_with_the_history_the_groups_or_the_life_plan() -> None:
    small = review_snapshot(make_status())
    plan = make_plan().model_copy(
        update={"group_members": {"reviewers": [f"r{n}@acme.io" for n in range(500)]}}
    )
    life = LifePlan(
        policy_version="p",
        recertify_every=timedelta(days=90),
        grace=timedelta(days=14),
        sunset_after=timedelta(days=30),
        attesters=[f"a{n}@acme.io" for n in range(100)],
    )
    history = [StageChange(stage=Stage.RECERTIFYING, at=NOW, note="x" * 200)] * 300
    large = review_snapshot(
        make_status(plan=plan, life=life, history=history, waiting_for="w" * 1000)
    )
    assert large == small
