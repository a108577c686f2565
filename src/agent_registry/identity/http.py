"""The server's one way to learn who is calling: :func:`require_principal`.

Every write route calls it first and acts only on the principal it returns. What it
accepts depends on the server's identity mode, chosen once when the application is
built (:data:`AUTHENTICATOR`):

- ``oidc`` (production): an ``Authorization: Bearer <JWT>`` verified against the
  issuer's keys (:mod:`agent_registry.identity.tokens`).
- ``local`` (the embedded ``make up``): the ``X-Agent-Registry-As`` header (what
  ``agentreg ... --as EMAIL`` sends), taken from loopback clients only and marked
  ``local-unverified``; every reply then carries :data:`IDENTITY_HEADER` saying so.

Refusals are ``401`` (no or bad credential) or ``403`` (a credential, but not allowed
here) with one line, and each is handed to the application's :data:`REFUSALS` log
naming who tried.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Protocol

from aiohttp import hdrs, web

from agent_registry.identity.tokens import TokenRefusedError, TokenVerifier
from agent_registry.vocabulary.principal import Principal, PrincipalKind, VerifiedBy, one_line

logger = logging.getLogger(__name__)

LOCAL_AS_HEADER = "X-Agent-Registry-As"
"""Local mode only: the email the loopback caller says it is (``--as``)."""

IDENTITY_HEADER = "X-Agent-Registry-Identity"
"""On every local-mode reply: ``unverified``, so no client mistakes it for proof."""

UNVERIFIED = "unverified"


class IdentityRefusedError(Exception):
    """A caller could not be identified or may not act; becomes a 401 or 403.

    Attributes:
        status: 401 (no or invalid credential) or 403 (identified, not allowed).
        reason: One line for the caller and the audit log; never the token itself.
        actor: Who tried: the principal's email, else the token's unverified subject,
            else ``"anonymous"``.
    """

    def __init__(self, status: int, reason: str, *, actor: str = "anonymous") -> None:
        reason = one_line(reason)
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.actor = one_line(actor)[:320] or "anonymous"


class Authenticator(Protocol):
    """Turns a request into a principal, or raises :class:`IdentityRefusedError`."""

    mode: str
    """``local`` or ``oidc``; shown in refusals and the local-mode reply header."""

    async def authenticate(self, request: web.Request) -> Principal:
        """The caller of ``request``."""
        ...


class RefusalLog(Protocol):
    """Where refusals are written (the audit log in ``agentreg serve``)."""

    async def refused(self, *, actor: str, action: str, reason: str, status: int) -> None:
        """Record that ``actor`` was refused ``action`` (method and path) for ``reason``."""
        ...


AUTHENTICATOR: web.AppKey[Authenticator] = web.AppKey("agent_registry.identity.authenticator")
"""The application's authenticator; absent, every write is refused."""

REFUSALS: web.AppKey[RefusalLog] = web.AppKey("agent_registry.identity.refusals")
"""Where refusals are recorded; absent, they go to the server log only."""


async def require_principal(request: web.Request) -> Principal:
    """The verified caller of a write, or a one-line 401/403.

    Raises:
        web.HTTPUnauthorized: No credential, or one that does not verify.
        web.HTTPForbidden: A credential the mode does not accept from here (local mode
            from a non-loopback client).
    """
    authenticator = request.app.get(AUTHENTICATOR)
    try:
        if authenticator is None:
            raise IdentityRefusedError(401, "this server has no identity mode configured")
        principal = await authenticator.authenticate(request)
    except IdentityRefusedError as refused:
        await record_refusal(request, refused)
        raise as_http_error(refused) from None
    return principal


async def record_refusal(request: web.Request, refused: IdentityRefusedError) -> None:
    """Write ``refused`` to the server log and the application's refusal log."""
    action = f"{request.method} {request.path}"
    logger.warning(
        "refused %s for %s (%d): %s", action, refused.actor, refused.status, refused.reason
    )
    log = request.app.get(REFUSALS)
    if log is not None:
        await log.refused(
            actor=refused.actor, action=action, reason=refused.reason, status=refused.status
        )


def as_http_error(refused: IdentityRefusedError) -> web.HTTPException:
    """The aiohttp error for a refusal; the API's middleware turns it into JSON."""
    if refused.status == 403:
        return web.HTTPForbidden(reason=refused.reason)
    return web.HTTPUnauthorized(
        reason=refused.reason, headers={"WWW-Authenticate": 'Bearer realm="agent-registry"'}
    )


UNVERIFIED_MARK = " (unverified)"
"""After an actor the server could not verify, so the audit log never attributes it."""


def claimed_actor(claimed: str | None) -> str:
    """How a refusal names someone it did not verify: the claim, marked as a claim.

    A forged token or a remote ``--as`` can name anyone; recorded bare, the audit log
    would say ``bob@example.com`` was refused when Bob did nothing, indistinguishable
    from a refusal of Bob himself.
    """
    text = one_line(claimed or "")[:200]
    return f"{text}{UNVERIFIED_MARK}" if text else "anonymous"


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is this host's loopback (``127.0.0.0/8`` or ``::1``)."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class LocalAuthenticator:
    """Local mode: trusts ``X-Agent-Registry-As`` from loopback, and says it proved nothing.

    A bare user name is taken as ``name@localhost`` (:func:`local_email`).

    Exists so the embedded default (``make up``) needs no identity provider. The server
    refuses to bind beyond loopback in this mode (see ``agentreg serve``); the check
    here is the second wall, for a proxy or a port-forward that makes a remote caller
    arrive on a loopback socket's peer address only if it runs on this host.
    """

    mode = "local"

    def __init__(self, *, default_groups: tuple[str, ...] = ()) -> None:
        self._groups = list(default_groups)

    async def authenticate(self, request: web.Request) -> Principal:
        """The ``--as`` email of a loopback caller, marked ``local-unverified``."""
        claimed = request.headers.get(LOCAL_AS_HEADER, "").strip()
        if not is_loopback(request.remote):
            raise IdentityRefusedError(
                403,
                f"local mode accepts --as only from this machine, not {request.remote}",
                actor=claimed_actor(claimed),
            )
        if not claimed:
            raise IdentityRefusedError(
                401, f"local mode needs --as EMAIL (the {LOCAL_AS_HEADER} header)"
            )
        try:
            return Principal(
                email=local_email(claimed),
                display_name=claimed,
                kind=PrincipalKind.HUMAN,
                groups=list(self._groups),
                verified_by=VerifiedBy.LOCAL_UNVERIFIED,
            )
        except ValueError as error:
            raise IdentityRefusedError(
                401, f"--as {claimed!r} is not an email address", actor=claimed_actor(claimed)
            ) from error


class OidcAuthenticator:
    """Production: the caller is whoever the ``Authorization: Bearer`` token proves."""

    mode = "oidc"

    def __init__(self, verifier: TokenVerifier) -> None:
        self._verifier = verifier

    async def authenticate(self, request: web.Request) -> Principal:
        """The principal of the request's bearer token (checked off the event loop)."""
        scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise IdentityRefusedError(
                401, "sign in first: agentreg login (no bearer token was sent)"
            )
        try:
            return await asyncio.to_thread(self._verifier.principal, token)
        except TokenRefusedError as refused:
            raise IdentityRefusedError(
                401, str(refused), actor=claimed_actor(refused.subject)
            ) from None


LOCAL_DOMAIN = "localhost"
"""Local mode's domain for a bare user name: ``--as alice`` is ``alice@localhost``."""


def local_email(claimed: str) -> str:
    """The email a local-mode ``--as`` names; a bare user name gets :data:`LOCAL_DOMAIN`.

    Keeps the embedded walkthrough's ``--as alice`` working while every rule still
    compares emails: ``alice`` and ``Alice`` are both ``alice@localhost``.
    """
    return claimed if "@" in claimed else f"{claimed}@{LOCAL_DOMAIN}"


def install(
    app: web.Application, authenticator: Authenticator, refusals: RefusalLog | None = None
) -> None:
    """Give ``app`` its identity mode; in local mode, mark every reply as unverified.

    The marker is added on response preparation, so it is on every reply the
    application sends (reads, writes, errors, the dashboard), not only on the routes
    that remember to add it.
    """
    app[AUTHENTICATOR] = authenticator
    if refusals is not None:
        app[REFUSALS] = refusals
    if authenticator.mode == "local":
        app.on_response_prepare.append(_mark_unverified)


async def _mark_unverified(request: web.Request, response: web.StreamResponse) -> None:
    response.headers[IDENTITY_HEADER] = UNVERIFIED
