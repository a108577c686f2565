"""How the catalog's HTTP client names its caller on the registry's write routes.

Staging a bundle and counting installs and uses need a principal (see
:mod:`agent_registry.api.routes`), named the way the server's identity mode expects:
in local mode the ``--as`` header with the user's name (loopback only, unverified); in
``oidc`` mode the access token ``agentreg login`` saved, while it is fresh. Nothing here
prompts or refreshes, so the usage hook stays quick: without a fresh token the server
refuses with 401 and the hook keeps its spool for the next flush.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable

from agent_registry.config import Settings
from agent_registry.identity.http import LOCAL_AS_HEADER
from agent_registry.identity.login import TokenCache


def caller_headers(
    settings: Settings,
    *,
    local_user: Callable[[], str],
    token: Callable[[], str | None],
) -> dict[str, str]:
    """How a request names its caller, for the server's identity mode.

    Every client of the registry's write routes (the catalog's, the CLI's) names its
    caller here, so the header each mode expects is written in one place. Both sources
    are called only in their own mode: finding the login name or a token may fail, and
    must not where the mode does not use it.

    Args:
        settings: The identity mode.
        local_user: In local mode, the user to send in the ``--as`` header.
        token: Otherwise, the bearer token to send, or None to send no credential.
    """
    if settings.identity_mode == "local":
        return {LOCAL_AS_HEADER: local_user().strip()}
    access_token = token()
    if access_token is None:
        return {}
    return {"Authorization": f"Bearer {access_token}"}


def client_credentials(settings: Settings, *, as_user: str | None = None) -> dict[str, str]:
    """The headers that name this machine's caller, or none when there is no login."""
    return caller_headers(
        settings,
        local_user=lambda: as_user or os.environ.get("AGENT_REGISTRY_USER") or getpass.getuser(),
        token=lambda: _fresh_saved_token(settings),
    )


def _fresh_saved_token(settings: Settings) -> str | None:
    """The access token ``agentreg login`` saved for this issuer, while it is fresh."""
    tokens = TokenCache().load()
    if tokens is None or tokens.issuer != settings.oidc_issuer or not tokens.fresh(time.time()):
        return None
    return tokens.access_token
