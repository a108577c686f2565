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

from agent_registry.config import Settings
from agent_registry.identity.http import LOCAL_AS_HEADER
from agent_registry.identity.login import TokenCache


def client_credentials(settings: Settings, *, as_user: str | None = None) -> dict[str, str]:
    """The headers that name this machine's caller, or none when there is no login."""
    if settings.identity_mode == "local":
        user = as_user or os.environ.get("AGENT_REGISTRY_USER") or getpass.getuser()
        return {LOCAL_AS_HEADER: user.strip()}
    tokens = TokenCache().load()
    if tokens is None or tokens.issuer != settings.oidc_issuer or not tokens.fresh(time.time()):
        return {}
    return {"Authorization": f"Bearer {tokens.access_token}"}
