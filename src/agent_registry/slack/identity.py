"""Who clicked: a Slack user turned into the principal the lifecycle checks.

The workflow's validators compare principals: canonical emails with the submitter, the
authors and the policy's groups, and the groups the server found the principal in. Both
are established here by asking Slack, never taken from the request: a Slack payload
names the user id, and only Slack can say whose email and which groups that id has. A
user whose email Slack does not share is refused: without it the registry could not
tell them from the author of the asset they are deciding on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent_registry.policy.model import Policy
from agent_registry.vocabulary.principal import (
    Principal,
    PrincipalKind,
    VerifiedBy,
    canonical_email,
)

logger = logging.getLogger(__name__)


class IdentityError(Exception):
    """Slack could not tell who a user is or which groups they belong to.

    The message is safe to show the user and to log: it names the Slack method and
    Slack's error code, never a token.
    """


@dataclass(frozen=True)
class Reviewer:
    """A Slack user as the lifecycle sees them.

    Attributes:
        identity: The user's canonical email: what the workflow compares with the
            submitter, authors and group members.
        verified_groups: The policy's Slack user-group ids that Slack says the user is in.
        display: A name for messages and logs (real name, display name or user name).
    """

    identity: str
    verified_groups: list[str] = field(default_factory=list)
    display: str = ""

    @property
    def principal(self) -> Principal:
        """The clicker as every lifecycle update names its caller, verified by Slack."""
        return Principal(
            email=self.identity,
            display_name=self.display or self.identity,
            kind=PrincipalKind.HUMAN,
            groups=list(self.verified_groups),
            verified_by=VerifiedBy.SLACK,
        )


def policy_slack_groups(policy: Policy) -> list[str]:
    """Every Slack user-group id named anywhere in the policy's groups, each once.

    Args:
        policy: The policy in force.

    Returns:
        The ids in a stable order, so Slack is asked the same questions each click.
    """
    ids: dict[str, None] = {}
    for group in sorted(policy.groups):
        for entry in policy.slack_groups(group):
            ids.setdefault(entry, None)
    return list(ids)


async def resolve_reviewer(client: AsyncWebClient, *, user_id: str, policy: Policy) -> Reviewer:
    """Resolve a Slack user to a reviewer identity and the policy groups Slack vouches for.

    Args:
        client: A client with the bot token (scopes ``users:read``, ``users:read.email``
            and ``usergroups:read``).
        user_id: The Slack user id from the interaction payload.
        policy: The policy in force; only its Slack user-group ids are checked.

    Returns:
        The reviewer.

    Raises:
        IdentityError: When Slack refuses ``users.info`` or ``usergroups.users.list``,
            or does not share the user's email.
    """
    user = await _user_info(client, user_id=user_id)
    profile = user.get("profile")
    profile = profile if isinstance(profile, Mapping) else {}
    try:
        identity = canonical_email(str(profile.get("email") or ""))
    except ValueError:
        raise IdentityError(
            f"Slack does not share the email of user {user_id}, and the registry needs it "
            "to tell a reviewer from the asset's authors; give the app the "
            "users:read.email scope"
        ) from None
    display = next(
        (
            str(candidate).strip()
            for candidate in (
                profile.get("real_name"),
                profile.get("display_name"),
                user.get("real_name"),
                user.get("name"),
            )
            if candidate and str(candidate).strip()
        ),
        identity,
    )
    groups = policy_slack_groups(policy)
    memberships = await asyncio.gather(
        *(_is_in_group(client, user_id=user_id, group_id=group) for group in groups)
    )
    verified = [group for group, member in zip(groups, memberships, strict=True) if member]
    return Reviewer(identity=identity, verified_groups=verified, display=display)


async def _user_info(client: AsyncWebClient, *, user_id: str) -> Mapping[str, object]:
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as error:
        raise IdentityError(
            f"Slack would not say who user {user_id} is (users.info: {_slack_error(error)})"
        ) from None
    user = response.get("user")
    if not isinstance(user, Mapping):
        raise IdentityError(f"Slack returned no user for {user_id} (users.info)")
    return user


async def _is_in_group(client: AsyncWebClient, *, user_id: str, group_id: str) -> bool:
    try:
        response = await client.usergroups_users_list(usergroup=group_id)
    except SlackApiError as error:
        raise IdentityError(
            f"Slack would not list the members of user group {group_id} "
            f"(usergroups.users.list: {_slack_error(error)}); "
            "check the policy's group ids and the app's usergroups:read scope"
        ) from None
    users = response.get("users")
    return isinstance(users, list) and user_id in users


def _slack_error(error: SlackApiError) -> str:
    """Slack's error code (``user_not_found``, ``missing_scope``, ``ratelimited``…).

    ``str(error)`` embeds the whole response object; the code alone says what went
    wrong and carries nothing that should not be shown.
    """
    response = error.response
    data = getattr(response, "data", None)
    if isinstance(data, Mapping) and data.get("error"):
        return str(data["error"])
    status = getattr(response, "status_code", None)
    return f"HTTP {status}" if status else "no answer"
