"""Getting a token from the identity provider, and keeping it: the CLI's side of OIDC.

- People sign in with the device authorization grant (RFC 8628), which identity
  providers offer to command-line tools: the CLI shows a code and a URL, the person
  approves in a browser, the CLI polls the token endpoint until it is done.
- A CI bot uses the client-credentials grant with its own client id and secret; the
  registry then sees a machine principal.

Tokens are kept in the user's config folder in a file only they can read (0600) and
refreshed with the refresh token when they are about to expire. Tokens never go to a
log or an error message.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
HTTP_TIMEOUT_SECONDS = 15
EXPIRY_MARGIN_SECONDS = 60
"""A cached token this close to expiry is refreshed first, so it does not expire in flight."""


class LoginError(Exception):
    """Signing in failed; the message says why in one line (never with a token in it)."""


class TokenSet(BaseModel):
    """What the token endpoint gave, with the moment the access token expires."""

    access_token: str
    expires_at: float
    refresh_token: str | None = None
    issuer: str
    client_id: str

    def fresh(self, now: float) -> bool:
        """Whether the access token is good for at least the safety margin."""
        return self.expires_at - EXPIRY_MARGIN_SECONDS > now


@dataclass(frozen=True)
class DeviceCode:
    """What the person must do to finish a device-flow login."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    device_code: str
    interval: int
    expires_at: float


def _post_form(url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST a form, return the JSON reply; an OAuth error reply is returned, not raised."""
    request = urllib.request.Request(  # noqa: S310 - the configured issuer's endpoints
        url,
        data=urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as reply:  # noqa: S310
            body: dict[str, Any] = json.load(reply)
            return body
    except urllib.error.HTTPError as error:
        try:
            failure: dict[str, Any] = json.load(error)
        except ValueError:
            raise LoginError(f"{url} answered {error.code}") from None
        if "error" not in failure:
            raise LoginError(f"{url} answered {error.code}") from None
        return failure
    except urllib.error.URLError as error:
        raise LoginError(f"cannot reach the identity provider at {url}: {error.reason}") from None


def discover(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID discovery document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as reply:  # noqa: S310
            document: dict[str, Any] = json.load(reply)
    except (urllib.error.URLError, ValueError) as error:
        raise LoginError(
            f"cannot read the identity provider's discovery at {url}: {error}"
        ) from None
    return document


def _endpoint(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise LoginError(f"the identity provider does not offer {name}")
    return value


def _token_set(reply: dict[str, Any], *, issuer: str, client_id: str, now: float) -> TokenSet:
    if "error" in reply:
        description = reply.get("error_description") or reply["error"]
        raise LoginError(f"the identity provider refused: {description}")
    return TokenSet(
        access_token=str(reply["access_token"]),
        expires_at=now + float(reply.get("expires_in", 300)),
        refresh_token=reply.get("refresh_token"),
        issuer=issuer,
        client_id=client_id,
    )


def start_device_login(issuer: str, client_id: str, *, audience: str, scope: str) -> DeviceCode:
    """Ask for a device code (RFC 8628 §3.1)."""
    document = discover(issuer)
    reply = _post_form(
        _endpoint(document, "device_authorization_endpoint"),
        {"client_id": client_id, "scope": scope, "resource": audience},
    )
    if "error" in reply:
        raise LoginError(
            f"the identity provider refused: {reply.get('error_description') or reply['error']}"
        )
    return DeviceCode(
        user_code=str(reply["user_code"]),
        verification_uri=str(reply["verification_uri"]),
        verification_uri_complete=reply.get("verification_uri_complete"),
        device_code=str(reply["device_code"]),
        interval=int(reply.get("interval", 5)),
        expires_at=time.time() + float(reply.get("expires_in", 600)),
    )


def finish_device_login(
    issuer: str,
    client_id: str,
    code: DeviceCode,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> TokenSet:
    """Poll the token endpoint until the person approved, refused, or the code expired.

    Follows RFC 8628 §3.5: keep polling on ``authorization_pending``, wait five more
    seconds on ``slow_down``, stop on anything else.
    """
    token_url = _endpoint(discover(issuer), "token_endpoint")
    interval = max(code.interval, 1)
    while time.time() < code.expires_at:
        now = time.time()
        reply = _post_form(
            token_url,
            {"grant_type": DEVICE_GRANT, "device_code": code.device_code, "client_id": client_id},
        )
        error = reply.get("error")
        if error == "authorization_pending":
            sleep(interval)
            continue
        if error == "slow_down":
            interval += 5
            sleep(interval)
            continue
        return _token_set(reply, issuer=issuer, client_id=client_id, now=now)
    raise LoginError("the login code expired before it was approved; run agentreg login again")


def client_credentials(
    issuer: str, client_id: str, client_secret: str, *, audience: str
) -> TokenSet:
    """A machine's token (OAuth 2.0 client credentials): the registry sees a machine."""
    now = time.time()
    reply = _post_form(
        _endpoint(discover(issuer), "token_endpoint"),
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "resource": audience,
            "scope": "registry",
        },
    )
    return _token_set(reply, issuer=issuer, client_id=client_id, now=now)


def refresh(tokens: TokenSet, *, audience: str) -> TokenSet:
    """A new access token from the refresh token (the refresh token may rotate)."""
    if tokens.refresh_token is None:
        raise LoginError("the saved login cannot be refreshed; run agentreg login again")
    now = time.time()
    reply = _post_form(
        _endpoint(discover(tokens.issuer), "token_endpoint"),
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "client_id": tokens.client_id,
            "resource": audience,
        },
    )
    renewed = _token_set(reply, issuer=tokens.issuer, client_id=tokens.client_id, now=now)
    if renewed.refresh_token is None:
        renewed = renewed.model_copy(update={"refresh_token": tokens.refresh_token})
    return renewed


def config_folder() -> Path:
    """The user's config folder for the registry (``$XDG_CONFIG_HOME/agent-registry``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "agent-registry"


def check_private_folder(folder: Path) -> None:
    """Refuse to keep tokens in a folder another user owns or may write to.

    Whoever can write to the folder can swap or pre-create the files in it (a config
    folder under ``/tmp``, one made by someone else), and read what lands there.

    Raises:
        LoginError: Naming the folder and what is wrong with it.
    """
    info = folder.stat()
    if info.st_uid != os.getuid():
        raise LoginError(f"{folder} belongs to another user; the login is not kept there")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise LoginError(
            f"{folder} can be written by other users; run chmod 700 {folder} and log in again"
        )


class TokenCache:
    """The saved login, readable and writable by its owner only."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_folder() / "tokens.json"

    def load(self) -> TokenSet | None:
        """The saved tokens, or None when there are none (or they are unreadable)."""
        try:
            return TokenSet.model_validate_json(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def save(self, tokens: TokenSet) -> None:
        """Write ``tokens`` with mode 0600, replacing the file atomically.

        The file is first written under a fresh name created exclusively (never an
        existing file or a symlink someone left at a fixed name, which would receive
        the tokens), in a folder only the user can write to.

        Raises:
            LoginError: The folder is another user's or others can write to it.
        """
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        check_private_folder(folder)
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".tokens-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(tokens.model_dump_json())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        """Forget the saved login."""
        self.path.unlink(missing_ok=True)
