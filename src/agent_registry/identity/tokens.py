"""OIDC bearer tokens: verified with PyJWT against the issuer's published keys.

The server trusts a token only when PyJWT has checked, against the issuer's JWKS
(fetched from its discovery document, cached, refetched on an unknown ``kid``): the
signature with an allow-listed asymmetric algorithm (never ``none``, never HMAC with a
public key), the issuer, the audience, the expiry and not-before. Only then are the
claims read: the email, the display name, the groups from a configurable claim, and
whether the token was issued to a person or to a program (RFC 9068 §2.2: a
client-credentials token's ``sub`` is the client's own id).
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt

from agent_registry.lifecycle.membership import ANYONE, is_slack_group_id
from agent_registry.vocabulary.principal import Principal, PrincipalKind, VerifiedBy, one_line

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
"""Asymmetric algorithms only: a token is proven by the issuer's private key."""

DISCOVERY_TIMEOUT_SECONDS = 10


class TokenRefusedError(Exception):
    """A bearer token that does not prove anyone; the message is one line for a 401.

    Attributes:
        subject: The token's unverified ``sub`` (or email), for the audit log only:
            who the token claims to be, never trusted as who the caller is.
    """

    def __init__(self, reason: str, *, subject: str | None = None) -> None:
        super().__init__(reason)
        self.subject = subject


@dataclass(frozen=True)
class OidcConfig:
    """What the server checks a token against.

    Attributes:
        issuer: The ``iss`` every token must carry (the provider's issuer URL).
        audience: The ``aud`` every token must contain (the registry's API).
        groups_claim: The claim listing the caller's groups.
        jwks_url: The key set's URL; read from the issuer's discovery document when None.
        leeway_seconds: Clock skew allowed on ``exp`` and ``nbf``.
        jwks_cache_seconds: How long fetched keys are reused before being fetched again;
            a key the provider rotated away stops verifying after this at the latest.
        token_type: ``at+jwt`` (RFC 9068): only a token typed as an access token is
            taken; ``any`` for providers whose access tokens are untyped (ID tokens are
            then told apart by their own claims, see :func:`access_token_refusal`).
    """

    issuer: str
    audience: str
    groups_claim: str = "groups"
    jwks_url: str | None = None
    leeway_seconds: int = 30
    jwks_cache_seconds: int = 300
    algorithms: tuple[str, ...] = field(default=ALLOWED_ALGORITHMS)
    token_type: str = "at+jwt"  # noqa: S105 - a JWT type, no secret


def discover_jwks_url(issuer: str) -> str:
    """The ``jwks_uri`` in the issuer's OpenID discovery document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(url, timeout=DISCOVERY_TIMEOUT_SECONDS) as reply:  # noqa: S310 - the configured issuer
        document: dict[str, Any] = json.load(reply)
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise ValueError(f"the discovery document at {url} has no jwks_uri")
    return jwks_uri


class TokenVerifier:
    """Checks bearer tokens and turns the good ones into principals. Blocking I/O."""

    def __init__(self, config: OidcConfig) -> None:
        self._config = config
        self._jwks: jwt.PyJWKClient | None = None

    @property
    def config(self) -> OidcConfig:
        """What tokens are checked against."""
        return self._config

    def _keys(self) -> jwt.PyJWKClient:
        if self._jwks is None:
            url = self._config.jwks_url or discover_jwks_url(self._config.issuer)
            self._jwks = jwt.PyJWKClient(
                url,
                cache_jwk_set=True,
                lifespan=self._config.jwks_cache_seconds,
                timeout=DISCOVERY_TIMEOUT_SECONDS,
            )
        return self._jwks

    def principal(self, token: str) -> Principal:
        """The principal ``token`` proves.

        Raises:
            TokenRefusedError: The token is malformed, unsigned, signed by a key the
                issuer does not publish, for another issuer or audience, expired, not
                yet valid, or names no usable identity.
        """
        claims = self.claims(token)
        return principal_from_claims(claims, self._config)

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token`` (see :meth:`principal` for what is refused)."""
        subject = unverified_subject(token)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise TokenRefusedError(f"malformed bearer token: {error}", subject=subject) from None
        algorithm = header.get("alg")
        if algorithm not in self._config.algorithms:
            raise TokenRefusedError(
                f"token algorithm {algorithm!r} is not accepted", subject=subject
            )
        try:
            key = self._keys().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as error:
            raise TokenRefusedError(
                f"the identity provider's keys could not be fetched: {error}", subject=subject
            ) from None
        except jwt.PyJWKClientError:
            raise TokenRefusedError(
                f"token signed with unknown key {header.get('kid')!r}", subject=subject
            ) from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(self._config.algorithms),
                audience=self._config.audience,
                issuer=self._config.issuer,
                leeway=self._config.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefusedError("token expired", subject=subject) from None
        except jwt.InvalidAudienceError:
            raise TokenRefusedError(
                f"token is not for this registry (audience must be {self._config.audience})",
                subject=subject,
            ) from None
        except jwt.InvalidIssuerError:
            raise TokenRefusedError(
                f"token issued by another provider (issuer must be {self._config.issuer})",
                subject=subject,
            ) from None
        except jwt.ImmatureSignatureError:
            raise TokenRefusedError("token not valid yet", subject=subject) from None
        except jwt.InvalidSignatureError:
            raise TokenRefusedError("token signature does not verify", subject=subject) from None
        except jwt.InvalidTokenError as error:
            raise TokenRefusedError(f"token refused: {error}", subject=subject) from None
        refused = access_token_refusal(header, claims, token_type=self._config.token_type)
        if refused is not None:
            raise TokenRefusedError(refused, subject=subject)
        return claims


ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a JWT type, no secret
"""RFC 9068 §2.1: the ``typ`` header of a JWT access token (``application/`` optional)."""

ID_TOKEN_CLAIMS = ("nonce", "at_hash", "c_hash")
"""Claims only an OpenID Connect ID token carries (OIDC Core §2, §3.1.3.6, §3.3.2.11)."""


def access_token_refusal(
    header: dict[str, Any], claims: dict[str, Any], *, token_type: str
) -> str | None:
    """Why a verified JWT is not an access token for the registry, or None.

    An ID token is signed by the same keys and, where the registry's audience is a
    client id, carries the same audience; it is handed to web pages and other services
    as proof of a login, not as a credential to act. RFC 9068 §4 has a resource server
    refuse a token whose ``typ`` is not ``at+jwt``. For providers whose access tokens
    carry no such type (``token_type`` ``any``) a token with an ID token's own claims is
    still refused.
    """
    typ = header.get("typ")
    kind = typ.strip().lower().removeprefix("application/") if isinstance(typ, str) else None
    if token_type == ACCESS_TOKEN_TYPE and kind != ACCESS_TOKEN_TYPE:
        shown = "none" if typ is None else repr(one_line(str(typ))[:40])
        return (
            f"not an access token (typ {shown}, must be at+jwt): sign in with agentreg "
            "login; an ID token is not accepted"
        )
    marker = next((name for name in ID_TOKEN_CLAIMS if name in claims), None)
    if marker is not None:
        return (
            f"an ID token (it carries {marker}), not an access token: sign in with agentreg login"
        )
    return None


def unverified_subject(token: str) -> str | None:
    """Who a token claims to be, read without checking it: for the audit log only."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    for name in ("email", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return one_line(value)[:200]
    return None


def machine_email(client_id: str, issuer: str) -> str:
    """The identity of a program: ``<client id>@clients.<issuer host>``.

    A client-credentials token names a client, not a mailbox; this gives it an
    email-shaped identity policy files can list, which no person's address can equal.
    """
    host = urlsplit(issuer).hostname or "issuer"
    return f"{client_id}@clients.{host}"


def token_groups(value: object) -> list[str]:
    """The identity-provider groups a token's groups claim may vouch for.

    A policy group's entries are people (emails), Slack user-group ids (``S...``) and
    ``*`` as well as group names, and a verified group equal to an entry admits the
    caller (:func:`~agent_registry.lifecycle.membership.members_include`). A group name is often
    chosen by whoever creates the group, so a name shaped like one of those entries is
    not taken from a token: a group called ``carol@example.com`` must not make its
    members Carol, nor one called like the security team's Slack user group make them
    members of it; only Slack vouches for Slack groups.
    """
    if not isinstance(value, list):
        return []
    return [
        name
        for name in (str(item).strip() for item in value if isinstance(item, str))
        if name and name != ANYONE and "@" not in name and not is_slack_group_id(name)
    ]


def principal_from_claims(claims: dict[str, Any], config: OidcConfig) -> Principal:
    """The principal verified ``claims`` describe.

    Raises:
        TokenRefusedError: A person's token without a usable email claim.
    """
    subject = str(claims.get("sub", ""))
    client_id = claims.get("client_id")
    groups = token_groups(claims.get(config.groups_claim, []))
    if isinstance(client_id, str) and client_id == subject:
        return Principal(
            email=machine_email(client_id, config.issuer),
            display_name=client_id,
            kind=PrincipalKind.MACHINE,
            groups=groups,
            verified_by=VerifiedBy.OIDC,
        )
    email = claims.get("email")
    if not isinstance(email, str):
        raise TokenRefusedError("token carries no email claim", subject=subject or None)
    if claims.get("email_verified") in (False, "false"):
        # The email is the identity key: an address the provider did not verify could be
        # anyone's (a self-registered account naming a colleague), so it proves no one.
        raise TokenRefusedError(
            "token's email is not verified by the identity provider (email_verified false)",
            subject=subject or None,
        )
    try:
        return Principal(
            email=email,
            display_name=str(claims.get("name") or email),
            kind=PrincipalKind.HUMAN,
            groups=groups,
            verified_by=VerifiedBy.OIDC,
        )
    except ValueError:
        raise TokenRefusedError(
            f"token's email claim {email!r} is not an email address", subject=subject or None
        ) from None
