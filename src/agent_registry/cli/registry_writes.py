"""The CLI's writes, sent to the registry server: the one front door.

``submit``, ``revise``, ``review``, ``attest`` and ``deprecate`` never talk to Temporal:
they send their request to the server at ``AGENT_REGISTRY_API_URL`` (``make up``'s
server on loopback by default), which authenticates the caller and only then acts. How
the caller is named depends on the identity mode:

- ``local`` (the embedded default): ``--as EMAIL`` (or the login name) in a header,
  taken on trust by a server on this machine; every answer says it is unverified.
- ``oidc``: a bearer token from ``agentreg login`` (kept and refreshed in the user's
  config folder), or, with ``AGENT_REGISTRY_OIDC_CLIENT_SECRET`` set, a CI bot's
  client-credentials token. ``--as`` is refused: who you are is what the token proves.
"""

from __future__ import annotations

import base64
import getpass
import json
import time
import urllib.error
import urllib.request
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel

from agent_registry.api.write_schemas import LIFECYCLE_STATUS_PATH, StatusReply, WriteReply
from agent_registry.catalog.credentials import caller_headers
from agent_registry.cli.errors import CliError
from agent_registry.cli.serve import DEFAULT_PORT
from agent_registry.config import Settings
from agent_registry.identity.http import IDENTITY_HEADER, UNVERIFIED
from agent_registry.identity.login import LoginError, TokenCache, client_credentials, refresh

HTTP_TIMEOUT_SECONDS = 60
Reply = TypeVar("Reply", bound=BaseModel)


class ServerAnswerError(CliError):
    """The server answered with an error: its one line, and the status.

    The status is for callers that treat one answer as an outcome (a 409 on a
    submission: submitted before).
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def server_url(settings: Settings) -> str:
    """The registry server writes go to: the configured API URL, else ``make up``'s."""
    return (settings.api_url or f"http://127.0.0.1:{DEFAULT_PORT}").rstrip("/")


def bearer_token(settings: Settings, cache: TokenCache | None = None) -> str:
    """A current access token: a CI bot's, else the saved login's, refreshed if due.

    Raises:
        CliError: Nobody is logged in, or the provider refused.
    """
    if not settings.oidc_issuer or not settings.oidc_audience:
        raise CliError(
            "set AGENT_REGISTRY_OIDC_ISSUER and AGENT_REGISTRY_OIDC_AUDIENCE to use the "
            "registry's identity provider"
        )
    try:
        if settings.oidc_client_secret is not None:
            return client_credentials(
                settings.oidc_issuer,
                settings.oidc_client_id,
                settings.oidc_client_secret.get_secret_value(),
                audience=settings.oidc_audience,
            ).access_token
        cache = cache or TokenCache()
        tokens = cache.load()
        if tokens is None or tokens.issuer != settings.oidc_issuer:
            raise CliError("you are not logged in: run agentreg login")
        if not tokens.fresh(time.time()):
            tokens = refresh(tokens, audience=settings.oidc_audience)
            cache.save(tokens)
        return tokens.access_token
    except LoginError as error:
        raise CliError(str(error)) from None


def credential_headers(settings: Settings, as_user: str | None) -> dict[str, str]:
    """How this request names its caller, for the configured identity mode."""
    if settings.identity_mode != "local" and as_user:
        raise CliError(
            "--as is for the local mode only; the registry knows you from agentreg login"
        )
    return caller_headers(
        settings,
        local_user=lambda: as_user or getpass.getuser(),
        token=lambda: bearer_token(settings),
    )


def _request(
    settings: Settings,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> tuple[Any, bool]:
    """Send one request; return the parsed JSON reply and whether it was unverified.

    Raises:
        CliError: The server could not be reached, or refused (its one-line reason).
    """
    url = server_url(settings) + path
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the configured registry server
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as reply:  # noqa: S310
            unverified = reply.headers.get(IDENTITY_HEADER) == UNVERIFIED
            return json.load(reply), unverified
    except urllib.error.HTTPError as error:
        raise ServerAnswerError(_error_line(error), status=error.code) from None
    except urllib.error.URLError as error:
        raise CliError(
            f"cannot reach the registry server at {server_url(settings)} ({error.reason}); "
            "start it (make up, or agentreg serve) or set AGENT_REGISTRY_API_URL"
        ) from None


def _error_line(error: urllib.error.HTTPError) -> str:
    try:
        body = json.load(error)
    except ValueError:
        return f"the registry server answered {error.code}"
    message = body.get("error") if isinstance(body, dict) else None
    if not message:
        return f"the registry server answered {error.code}"
    return f"refused: {message}" if error.code in (401, 403) else str(message)


def send_write(
    settings: Settings, path: str, body: dict[str, Any], *, as_user: str | None
) -> WriteReply:
    """POST a write to the server as the caller; the server's answer.

    Raises:
        CliError: The server refused (401/403 with its one line) or could not be reached.
    """
    data, unverified = _request(
        settings, "POST", path, headers=credential_headers(settings, as_user), body=body
    )
    reply = WriteReply.model_validate(data)
    if unverified and reply.identity != UNVERIFIED:
        reply = reply.model_copy(update={"identity": UNVERIFIED})
    return reply


def request_json(
    settings: Settings, path: str, body: dict[str, Any], *, headers: dict[str, str]
) -> Any:
    """POST ``body`` to the server with ``headers``; its parsed JSON answer.

    For write routes whose answer is not a :class:`WriteReply` (a watch's schedule).

    Raises:
        CliError: The server refused (401/403 with its one line) or could not be reached.
    """
    data, _ = _request(settings, "POST", path, headers=headers, body=body)
    return data


def archive_text(archive: bytes) -> str:
    """An archive as the write bodies carry it (base64)."""
    return base64.b64encode(archive).decode("ascii")


def read_status(settings: Settings, ref: str) -> StatusReply:
    """A lifecycle's state, read through the server."""
    data, _ = _request(
        settings, "GET", f"{LIFECYCLE_STATUS_PATH}?{urlencode({'ref': ref})}", headers={}
    )
    return StatusReply.model_validate(data)


def acted_as(reply: WriteReply) -> str:
    """A line saying as whom the server acted, and whether that was verified."""
    if reply.identity == UNVERIFIED:
        return f"as {reply.principal} (identity unverified: the server is in local mode)"
    return f"as {reply.principal}"
