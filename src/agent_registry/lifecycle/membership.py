"""Group membership: whether a policy group's member list admits an identity.

Members are identities (emails, compared in canonical case-folded form), Slack
user-group ids, identity-provider group names, or ``*`` for anyone. Policy cannot ask
Slack or the identity provider who is in a group, so callers pass the groups the server
verified the principal is in (Slack's user groups, the token's groups claim): an entry
equal to one of them admits the principal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Slack user-group ids look like ``S0614TZR7``. Written in uppercase and starting with
# "S", they cannot be confused with an email; a lowercase user name never matches.
_SLACK_GROUP_PATTERN = re.compile(r"^S[A-Z0-9]{2,}$")
ANYONE = "*"
"""A group entry that admits every identity (the embedded default policy uses it)."""


def members_include(
    members: Sequence[str], identity: str, *, verified_groups: Sequence[str] = ()
) -> bool:
    """Tell whether a group's member list admits ``identity``.

    The one membership rule, used by :meth:`Policy.is_member` and by the workflow's
    vote validators (which get member lists, not the policy, through their plan).

    Args:
        members: The group's entries: identities, Slack user-group ids, or ``*``.
        identity: An email or user name; compared case-insensitively.
        verified_groups: Groups the server verified the identity is in: Slack
            user-group ids, or group names from the identity provider's groups claim.

    Returns:
        True if the list admits anyone, lists the identity, or lists a group in
        ``verified_groups``. A Slack group id never matches as a user name.
    """
    wanted = identity.strip().casefold()
    verified = set(verified_groups)
    for member in members:
        if member == ANYONE or member in verified:
            return True
        if not is_slack_group_id(member) and wanted and member.strip().casefold() == wanted:
            return True
    return False


def is_slack_group_id(entry: str) -> bool:
    """Tell whether a group entry is a Slack user-group id (``S`` + uppercase/digits)."""
    return _SLACK_GROUP_PATTERN.match(entry) is not None
