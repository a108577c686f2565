"""Who may vote, and when a review is decided."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent_registry.assets.refs import AssetRef
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import (
    AssetStatus,
    ReviewInput,
    ReviewPlan,
    Vote,
    caller_refusal,
)
from agent_registry.lifecycle.membership import members_include
from agent_registry.lifecycle.review_rules import missing_approvals, outcome, refusal
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.vocabulary.principal import Principal, VerifiedBy

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _plan(
    *, approvals: int = 1, require: list[str] | None = None, **groups: list[str]
) -> ReviewPlan:
    return ReviewPlan(
        policy_version="t",
        approvals_required=approvals,
        require_groups=require or [],
        group_members=groups,
        sla=timedelta(days=2),
        escalate_after=timedelta(days=4),
        revision_window=timedelta(days=30),
    )


def _status(plan: ReviewPlan, *votes: Vote, stage: Stage = Stage.IN_REVIEW) -> AssetStatus:
    return AssetStatus(
        ref=AssetRef.parse("skill/pdf-report@1.0.0"),
        stage=stage,
        owner_team="docs",
        submitter="alice@example.com",
        authors=["ann@example.com"],
        plan=plan,
        votes=list(votes),
    )


def _vote(
    reviewer: str, decision: Decision = Decision.APPROVE, groups: list[str] | None = None
) -> Vote:
    return Vote(reviewer=reviewer, decision=decision, at=NOW, verified_groups=groups or [])


def _as(
    who: str,
    *,
    reason: str | None = None,
    by: VerifiedBy = VerifiedBy.OIDC,
    groups: list[str] | None = None,
) -> ReviewInput:
    """A vote as the server sends it: the principal it resolved for ``who``."""
    email = who if "@" in who else f"{who}@example.com"
    principal = Principal(email=email, groups=groups or [], verified_by=by)
    return ReviewInput(principal=principal, reason=reason)


def test_membership_by_identity_wildcard_or_verified_slack_group() -> None:
    assert members_include(["bob@example.com"], "Bob@Example.com")
    assert members_include(["*"], "anyone")
    assert not members_include(["S0SECURITY"], "bob")
    assert not members_include(["S0SECURITY"], "S0SECURITY")
    assert members_include(["S0SECURITY"], "bob", verified_groups=["S0SECURITY"])


@pytest.mark.parametrize(
    ("reviewer", "expected"),
    [
        ("alice@example.com", "cannot review it"),
        ("ANN@example.com", "cannot review it"),
        ("  Alice@EXAMPLE.com ", "cannot review it"),
        ("eve@example.com", "not in the policy's 'reviewers' group"),
    ],
)
def test_refusals_say_why(reviewer: str, expected: str) -> None:
    plan = _plan(reviewers=["bob@example.com"])
    reason = refusal(_status(plan), Decision.APPROVE, _as(reviewer))
    assert reason is not None and expected in reason


@pytest.mark.parametrize(
    ("submitter", "authors", "reviewer", "by"),
    [
        ("Alice@Example.com", [], "alice@example.com", VerifiedBy.SLACK),
        ("alice@example.com", [], "ALICE@example.COM", VerifiedBy.OIDC),
        ("bob@example.com", ["Alice@Example.com"], "alice@example.com", VerifiedBy.SLACK),
        ("bob@example.com", [" alice@example.com"], "Alice@Example.com", VerifiedBy.OIDC),
    ],
)
def test_self_approval_is_refused_in_every_spelling_and_channel(
    submitter: str, authors: list[str], reviewer: str, by: VerifiedBy
) -> None:
    status = _status(_plan(reviewers=["*"])).model_copy(
        update={"submitter": submitter, "authors": authors}
    )
    reason = refusal(status, Decision.APPROVE, _as(reviewer, by=by))
    assert reason is not None and "cannot review it" in reason


def test_an_update_with_caller_supplied_identity_fields_is_refused() -> None:
    forged = ReviewInput.model_validate(
        {"reviewer": "bob@example.com", "source": "slack", "verified_groups": ["S0SEC"]}
    )
    assert "source" not in ReviewInput.model_fields
    assert "verified_groups" not in ReviewInput.model_fields
    assert forged.principal is None
    assert "not accepted" in (caller_refusal(forged) or "")
    assert "names no principal" in (caller_refusal(ReviewInput()) or "")
    assert caller_refusal(_as("bob")) is None


def test_a_second_vote_and_a_vote_after_the_decision_are_refused() -> None:
    plan = _plan(approvals=2, reviewers=["*"])
    once = _status(plan, _vote("bob@example.com"))
    assert "already voted (approve)" in (
        refusal(once, Decision.APPROVE, _as("BOB@example.com")) or ""
    )
    decided = _status(_plan(reviewers=["*"]), _vote("bob"))
    assert "already decided (approve)" in (refusal(decided, Decision.APPROVE, _as("carol")) or "")


def test_outside_review_nothing_can_be_decided() -> None:
    status = _status(_plan(), stage=Stage.CHANGES_REQUESTED)
    assert "not in review" in (refusal(status, Decision.APPROVE, _as("bob")) or "")


def test_reject_and_request_changes_need_a_reason() -> None:
    status = _status(_plan())
    assert "reason is required to reject" in (refusal(status, Decision.REJECT, _as("bob")) or "")
    assert refusal(status, Decision.REJECT, _as("bob", reason="dup")) is None


def test_required_groups_must_each_supply_an_approver() -> None:
    plan = _plan(approvals=2, require=["security"], security=["S0SEC", "sec@example.com"])
    two = [_vote("bob"), _vote("carol")]
    assert missing_approvals(plan, two) == ["an approver from security"]
    assert outcome(plan, two) is None
    via_slack = [_vote("bob"), _vote("carol", groups=["S0SEC"])]
    assert missing_approvals(plan, via_slack) == []
    assert outcome(plan, via_slack) is Decision.APPROVE
    assert missing_approvals(plan, [_vote("sec@example.com")]) == ["1 more approval"]


def test_a_change_request_decides_at_once() -> None:
    plan = _plan(approvals=2)
    votes = [_vote("bob"), _vote("carol", Decision.REQUEST_CHANGES)]
    assert outcome(plan, votes) is Decision.REQUEST_CHANGES


def test_cli_votes_are_refused_where_the_plan_turns_cli_reviews_off() -> None:
    plan = _plan(reviewers=["*"]).model_copy(update={"cli_reviews": False})
    status = _status(plan)
    for by in (VerifiedBy.OIDC, VerifiedBy.LOCAL_UNVERIFIED):
        cli = refusal(status, Decision.APPROVE, _as("bob@example.com", by=by))
        assert cli is not None
        assert "command line are off" in cli
        assert "Slack" in cli
    slack = _as("bob@example.com", by=VerifiedBy.SLACK)
    assert refusal(status, Decision.APPROVE, slack) is None
    assert refusal(_status(_plan(reviewers=["*"])), Decision.APPROVE, _as("bob")) is None


def test_groups_from_the_identity_provider_admit_like_slack_user_groups() -> None:
    plan = _plan(approvals=1, require=["security"], security=["appsec"], reviewers=["*"])
    status = _status(plan)
    assert refusal(status, Decision.APPROVE, _as("bob", groups=["appsec"])) is None
    voted = [_vote("bob@example.com", groups=["appsec"])]
    assert missing_approvals(plan, voted) == []
    assert missing_approvals(plan, [_vote("carol@example.com")]) == ["an approver from security"]


@pytest.mark.parametrize(
    ("setting", "token", "allowed"),
    [
        ("auto", None, True),
        ("auto", "xoxb-planted", False),
        ("on", "xoxb-planted", True),
        ("off", None, False),
    ],
)
def test_cli_reviews_are_for_the_embedded_default_unless_configured(
    setting: str, token: str | None, allowed: bool
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        cli_reviews=setting,  # type: ignore[arg-type]
        slack_bot_token=token,  # type: ignore[arg-type]
    )
    assert settings.cli_reviews_allowed is allowed
