"""``agentreg login`` / ``agentreg logout``: sign in to the registry's identity provider.

``login`` runs the OAuth 2.0 device authorization grant (RFC 8628): it prints a URL and
a code, the person approves in any browser, and the tokens are kept in the user's config
folder (mode 0600) for the write commands, refreshed when due. A CI bot does not log in:
it sets ``AGENT_REGISTRY_OIDC_CLIENT_SECRET`` and each command gets a client-credentials
token, so the registry sees it as a machine.
"""

from __future__ import annotations

from agent_registry.cli.errors import CliError
from agent_registry.cli.render import plain
from agent_registry.config import Settings
from agent_registry.identity.login import (
    LoginError,
    TokenCache,
    finish_device_login,
    start_device_login,
)
from agent_registry.identity.tokens import OidcConfig, TokenRefusedError, TokenVerifier


def login() -> None:
    """Sign in with the identity provider (device flow); the write commands then use it."""
    settings = Settings()
    if settings.identity_mode != "oidc" or not settings.oidc_issuer or not settings.oidc_audience:
        raise CliError(
            "this registry uses local identity mode (--as EMAIL, unverified); set "
            "AGENT_REGISTRY_IDENTITY_MODE=oidc, AGENT_REGISTRY_OIDC_ISSUER and "
            "AGENT_REGISTRY_OIDC_AUDIENCE to log in with an identity provider"
        )
    try:
        code = start_device_login(
            settings.oidc_issuer,
            settings.oidc_client_id,
            audience=settings.oidc_audience,
            scope=settings.oidc_scope,
        )
        plain(f"open {code.verification_uri} and enter the code {code.user_code}")
        if code.verification_uri_complete:
            plain(f"  (or open {code.verification_uri_complete})")
        plain("waiting for you to approve…")
        tokens = finish_device_login(settings.oidc_issuer, settings.oidc_client_id, code)
    except LoginError as error:
        raise CliError(str(error)) from None
    verifier = TokenVerifier(
        OidcConfig(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            groups_claim=settings.oidc_groups_claim,
            jwks_url=settings.oidc_jwks_url,
            token_type=settings.oidc_token_type,
        )
    )
    try:
        principal = verifier.principal(tokens.access_token)
    except TokenRefusedError as error:
        raise CliError(f"the provider's token would be refused by the registry: {error}") from None
    cache = TokenCache()
    try:
        cache.save(tokens)
    except LoginError as error:
        raise CliError(str(error)) from None
    plain(f"logged in as {principal.email}; the login is kept in {cache.path}")


def logout() -> None:
    """Forget the saved login."""
    cache = TokenCache()
    cache.clear()
    plain(f"logged out ({cache.path} removed)")
