"""resolve_reviewer: Slack, not the request, says who clicked and which groups they are in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from agent_registry.policy.loader import load_policy
from agent_registry.policy.model import Policy
from agent_registry.slack.client import retry_handlers
from agent_registry.slack.identity import IdentityError, resolve_reviewer
from tests.slack_double import DEFAULT_TOKEN, SlackDouble, SlackUser
from tests.support import POLICIES

CAROL = SlackUser("U0CAROL", "carol", "Carol@Example.com", "Carol Reviewer")
ERIN = SlackUser("U0ERIN", "erin", None, "Erin No-Email")
FRANK = SlackUser("U0FRANK", "frank", "frank@example.com")


@pytest.fixture
def policy() -> Policy:
    return load_policy(POLICIES / "slack_reviewers.toml")


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(
        users=[CAROL, ERIN, FRANK],
        usergroups={
            "S0REVIEWERS": [CAROL.id, ERIN.id],
            "S0SECURITY": [CAROL.id],
            "S0PLATFORM": [],
        },
    ) as running:
        yield running


def _client(double: SlackDouble) -> AsyncWebClient:
    return AsyncWebClient(
        token=DEFAULT_TOKEN, base_url=double.base_url, retry_handlers=retry_handlers()
    )


async def test_identity_is_the_profile_email_and_groups_come_from_slack(
    double: SlackDouble, policy: Policy
) -> None:
    reviewer = await resolve_reviewer(_client(double), user_id=CAROL.id, policy=policy)

    assert reviewer.identity == "carol@example.com"  # Slack says Carol@Example.com
    assert sorted(reviewer.verified_groups) == ["S0REVIEWERS", "S0SECURITY"]
    assert reviewer.display == "Carol Reviewer"
    principal = reviewer.principal
    assert (principal.email, principal.verified_by) == ("carol@example.com", "slack")
    assert sorted(principal.groups) == ["S0REVIEWERS", "S0SECURITY"]
    asked = sorted(call.params["usergroup"] for call in double.calls_to("usergroups.users.list"))
    assert asked == ["S0PLATFORM", "S0REVIEWERS", "S0SECURITY"]


async def test_a_user_whose_email_slack_does_not_share_is_refused(
    double: SlackDouble, policy: Policy
) -> None:
    # Without the email the registry could not tell this user from the asset's author.
    with pytest.raises(IdentityError, match=f"does not share the email of user {ERIN.id}"):
        await resolve_reviewer(_client(double), user_id=ERIN.id, policy=policy)


async def test_a_user_in_no_group_has_no_verified_groups(
    double: SlackDouble, policy: Policy
) -> None:
    reviewer = await resolve_reviewer(_client(double), user_id=FRANK.id, policy=policy)

    assert reviewer.identity == "frank@example.com"
    assert reviewer.verified_groups == []


async def test_a_policy_without_slack_groups_asks_slack_only_who_clicked(
    double: SlackDouble,
) -> None:
    anyone = load_policy(None)  # the packaged default: every group is "*"

    reviewer = await resolve_reviewer(_client(double), user_id=FRANK.id, policy=anyone)

    assert reviewer.verified_groups == []
    assert [call.method for call in double.calls] == ["users.info"]


async def test_slack_errors_become_a_clear_identity_error_without_the_token(
    double: SlackDouble, policy: Policy
) -> None:
    with pytest.raises(IdentityError) as unknown_user:
        await resolve_reviewer(_client(double), user_id="U0GHOST", policy=policy)
    del double.usergroups["S0SECURITY"]
    with pytest.raises(IdentityError) as unknown_group:
        await resolve_reviewer(_client(double), user_id=CAROL.id, policy=policy)

    assert "U0GHOST" in str(unknown_user.value) and "user_not_found" in str(unknown_user.value)
    assert "S0SECURITY" in str(unknown_group.value)
    assert "no_such_subteam" in str(unknown_group.value)
    for error in (unknown_user.value, unknown_group.value):
        assert DEFAULT_TOKEN not in str(error)
