"""The server's identity mode, chosen once from the settings at start.

``agentreg serve`` calls :func:`check_bind` before it listens and :func:`authenticator_for`
to build the application: local mode is for one machine (``make up``) and refuses to
listen beyond loopback; OIDC mode needs an issuer and an audience and refuses to start
without them rather than accept writes it cannot attribute.
"""

from __future__ import annotations

import ipaddress

from agent_registry.config import Settings
from agent_registry.identity.http import Authenticator, LocalAuthenticator, OidcAuthenticator
from agent_registry.identity.tokens import ACCESS_TOKEN_TYPE, OidcConfig, TokenVerifier

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


class IdentityConfigError(Exception):
    """The identity settings cannot run a server; the message names what to set."""


def is_loopback_host(host: str) -> bool:
    """Whether binding ``host`` listens on this machine's loopback only."""
    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, host: str) -> None:
    """Refuse to serve local mode beyond loopback.

    Raises:
        IdentityConfigError: Local mode on any other interface, where anyone who can
            reach the port could claim any identity with ``--as``.
    """
    if settings.identity_mode == "local" and not is_loopback_host(host):
        raise IdentityConfigError(
            f"local identity mode takes --as on trust, so it serves loopback only, not "
            f"{host}; use --host 127.0.0.1, or set AGENT_REGISTRY_IDENTITY_MODE=oidc with "
            "AGENT_REGISTRY_OIDC_ISSUER and AGENT_REGISTRY_OIDC_AUDIENCE"
        )


def oidc_config(settings: Settings) -> OidcConfig:
    """What tokens are checked against, from the settings.

    Raises:
        IdentityConfigError: The issuer or the audience is not set, or untyped tokens
            are taken for an audience that is the CLI's client id.
    """
    if not settings.oidc_issuer or not settings.oidc_audience:
        raise IdentityConfigError(
            "OIDC identity mode needs AGENT_REGISTRY_OIDC_ISSUER (the provider's issuer "
            "URL) and AGENT_REGISTRY_OIDC_AUDIENCE (the audience of the registry's tokens)"
        )
    untyped = settings.oidc_token_type != ACCESS_TOKEN_TYPE
    if untyped and settings.oidc_audience == settings.oidc_client_id:
        # Untyped tokens are told apart only by the ID token's own claims, which a
        # device-flow ID token need not carry; with the CLI's client id as the audience
        # its ID tokens would pass for access tokens.
        raise IdentityConfigError(
            "AGENT_REGISTRY_OIDC_TOKEN_TYPE=any needs an audience other than the CLI's "
            f"client id ({settings.oidc_client_id}): ID tokens for that client carry it"
        )
    return OidcConfig(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        groups_claim=settings.oidc_groups_claim,
        jwks_url=settings.oidc_jwks_url,
        token_type=settings.oidc_token_type,
    )


def authenticator_for(settings: Settings) -> Authenticator:
    """The authenticator for the configured mode (see :func:`oidc_config` for refusals)."""
    if settings.identity_mode == "oidc":
        return OidcAuthenticator(TokenVerifier(oidc_config(settings)))
    return LocalAuthenticator()
