"""Attest and deprecate follow the same identity rules as a vote: principals compared
in canonical form, groups the server verified, and "command-line decisions off" applied
to them too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.contract import (
    AssetStatus,
    AttestInput,
    DeprecateInput,
    LifePlan,
    ReviewPlan,
    caller_refusal,
)
from agent_registry.lifecycle.life_rules import attest_refusal, deprecate_refusal
from agent_registry.lifecycle.stages import Stage
from agent_registry.vocabulary.principal import Principal, VerifiedBy

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _status(stage: Stage, *, cli_reviews: bool = True) -> AssetStatus:
    return AssetStatus(
        ref=AssetRef.parse("skill/pdf-report@1.0.0"),
        stage=stage,
        owner_team="docs",
        submitter="Alice@Example.com",
        authors=["Bob@Example.com"],
        plan=ReviewPlan(
            policy_version="t",
            approvals_required=1,
            sla=timedelta(days=1),
            escalate_after=timedelta(days=2),
            revision_window=timedelta(days=3),
            cli_reviews=cli_reviews,
        ),
        life=LifePlan(
            policy_version="t",
            recertify_every=timedelta(days=90),
            grace=timedelta(days=14),
            sunset_after=timedelta(days=30),
            attesters=["Bob@Example.com", "S0DOCS"],
            deprecators=["platform"],
        ),
    )


def _who(
    email: str, by: VerifiedBy = VerifiedBy.OIDC, groups: list[str] | None = None
) -> Principal:
    return Principal(email=email, groups=groups or [], verified_by=by)


@pytest.mark.parametrize("spelling", ["bob@example.com", "BOB@example.COM", " Bob@Example.com "])
def test_the_owner_team_attests_in_any_spelling_of_its_email(spelling: str) -> None:
    status = _status(Stage.RECERTIFYING)
    assert attest_refusal(status, AttestInput(principal=_who(spelling))) is None


def test_attest_by_a_verified_group_and_not_by_a_stranger() -> None:
    status = _status(Stage.RECERTIFYING)
    slack = _who("dana@example.com", VerifiedBy.SLACK, ["S0DOCS"])
    assert attest_refusal(status, AttestInput(principal=slack)) is None
    stranger = attest_refusal(status, AttestInput(principal=_who("mallory@example.com")))
    assert stranger is not None and "is not in team docs" in stranger


def test_command_line_attestations_and_deprecations_are_off_where_reviews_are() -> None:
    due = _status(Stage.RECERTIFYING, cli_reviews=False)
    published = _status(Stage.PUBLISHED, cli_reviews=False)
    for by in (VerifiedBy.OIDC, VerifiedBy.LOCAL_UNVERIFIED):
        owner = _who("bob@example.com", by)
        attest = attest_refusal(due, AttestInput(principal=owner))
        assert attest is not None and "command line are off" in attest
        request = DeprecateInput(principal=owner, reason="replaced")
        deprecate = deprecate_refusal(published, request, now=NOW)
        assert deprecate is not None and "command line are off" in deprecate
    slack_owner = _who("bob@example.com", VerifiedBy.SLACK)
    assert attest_refusal(due, AttestInput(principal=slack_owner)) is None
    request = DeprecateInput(principal=slack_owner, reason="replaced")
    assert deprecate_refusal(published, request, now=NOW) is None


def test_the_platform_team_deprecates_through_its_verified_group() -> None:
    published = _status(Stage.PUBLISHED)
    lead = DeprecateInput(principal=_who("lee@example.com", groups=["platform"]), reason="r")
    assert deprecate_refusal(published, lead, now=NOW) is None
    stranger = DeprecateInput(principal=_who("lee@example.com"), reason="r")
    refused = deprecate_refusal(published, stranger, now=NOW)
    assert refused is not None and "may not deprecate" in refused


def test_attest_and_deprecate_with_caller_supplied_identity_fields_are_refused() -> None:
    forged_attest = AttestInput.model_validate(
        {"attester": "bob@example.com", "source": "slack", "verified_groups": ["S0DOCS"]}
    )
    forged_deprecate = DeprecateInput.model_validate(
        {"actor": "lee@example.com", "reason": "r", "verified_groups": ["platform"]}
    )
    for forged in (forged_attest, forged_deprecate):
        assert forged.principal is None
        assert "not accepted" in (caller_refusal(forged) or "")
    assert "system" in DeprecateInput.model_fields  # set only by the workflow itself
    assert DeprecateInput(system="registry", reason="superseded").actor == "registry"
    posing = DeprecateInput(principal=_who("bob@example.com"), system="registry", reason="r")
    assert "only the registry" in (
        deprecate_refusal(_status(Stage.PUBLISHED), posing, now=NOW) or ""
    )
