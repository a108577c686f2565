"""Who uses an asset and for which team, as the user's own environment says.

The hook runs in the user's shell with no login to the registry, so attribution is
what the user (or their machine's managed settings) configured: ``AGENT_REGISTRY_USER``
and ``AGENT_REGISTRY_TEAM``, with the login name as the user when unset.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import dataclass

USER_VARIABLE = "AGENT_REGISTRY_USER"
TEAM_VARIABLE = "AGENT_REGISTRY_TEAM"
UNKNOWN_USER = "unknown"
MAX_CHARS = 200


@dataclass(frozen=True)
class Identity:
    """The user and team a use is attributed to."""

    user: str
    team: str | None


def identity_from(env: Mapping[str, str]) -> Identity:
    """Attribution from the environment.

    Args:
        env: The hook's environment.

    Returns:
        The configured user (else the login name, else ``unknown``) and team (else None).
    """
    user = _clean(env.get(USER_VARIABLE)) or _clean(_login_name()) or UNKNOWN_USER
    return Identity(user=user, team=_clean(env.get(TEAM_VARIABLE)))


def _login_name() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no passwd entry in some containers
        return None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:MAX_CHARS] if value else None
