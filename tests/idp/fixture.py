"""A real OpenID Provider on loopback for the identity tests: ``oidc-provider`` under Node.

:class:`IdentityProvider` starts ``tests/idp/provider.mjs`` with keys it generates, the
test accounts and clients, and stops it. :func:`approve_device_login` plays the person
in the browser: it opens the verification URL, confirms the code, signs in and
consents through the provider's own pages.

Where Node or the package is missing the tests skip saying so; ``.ci/run`` installs the
package (``npm ci`` in this folder).
"""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

HERE = Path(__file__).parent
SCRIPT = HERE / "provider.mjs"
AUDIENCE = "https://registry.test/api"
OTHER_AUDIENCE = "https://other-service.test/api"
CLI_CLIENT = "agentreg-cli"
BOT_CLIENT = "ci-bot"
BOT_SECRET = "ci-bot-secret-for-tests-only"
SHORT_BOT_CLIENT = "short-lived-bot"
START_TIMEOUT_SECONDS = 30

ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"email": "Alice@Example.com", "name": "Alice Adams", "groups": ["platform"]},
    "bob": {"email": "bob@example.com", "name": "Bob Brown", "groups": ["security"]},
    "carol": {"email": "carol@example.com", "name": "Carol Chen", "groups": []},
}


def require_node_provider() -> str:
    """The ``node`` executable, or a skip saying what is missing and how to get it."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed; the OIDC tests need it to run oidc-provider")
    if not (HERE / "node_modules" / "oidc-provider" / "package.json").is_file():
        pytest.skip("oidc-provider is not installed; run `npm ci` in tests/idp (.ci/run does)")
    return node


def new_signing_key(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    """A fresh RSA key and its private JWK (for the provider) named ``kid``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key))
    jwk.update(kid=kid, use="sig", alg="RS256")
    return key, jwk


def _clients() -> list[dict[str, Any]]:
    confidential = {
        "grant_types": ["client_credentials"],
        "response_types": [],
        "redirect_uris": [],
    }
    return [
        {
            "client_id": CLI_CLIENT,
            "token_endpoint_auth_method": "none",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
            "response_types": [],
            "redirect_uris": [],
        },
        {"client_id": BOT_CLIENT, "client_secret": BOT_SECRET, **confidential},
        {"client_id": SHORT_BOT_CLIENT, "client_secret": BOT_SECRET, **confidential},
    ]


@dataclass
class IdentityProvider:
    """One running ``oidc-provider``; restartable on the same port with other keys."""

    node: str
    keys: list[dict[str, Any]]
    port: int = 0
    issuer: str = ""
    _process: subprocess.Popen[str] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the provider and wait for its ``listening`` line."""
        config = {
            "port": self.port,
            "audience": AUDIENCE,
            "other_audience": OTHER_AUDIENCE,
            "keys": self.keys,
            "accounts": ACCOUNTS,
            "clients": _clients(),
            "short_lived_clients": [SHORT_BOT_CLIENT],
        }
        env = {**os.environ, "IDP_CONFIG": json.dumps(config), "NODE_ENV": "test"}
        process = subprocess.Popen(
            [self.node, str(SCRIPT)],
            cwd=HERE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._process = process
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"oidc-provider did not start: {line!r}")
        self.issuer = line.split()[1]
        self.port = urllib.parse.urlsplit(self.issuer).port or 0

    def stop(self) -> None:
        """Stop the provider (its in-memory grants and sessions go with it)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def rotate(self, keys: Sequence[dict[str, Any]]) -> None:
        """Restart on the same port publishing only ``keys``: the old key is gone."""
        self.stop()
        self.keys = list(keys)
        self.start()

    @property
    def jwks_url(self) -> str:
        """The provider's key set (oidc-provider serves it at ``/jwks``)."""
        return f"{self.issuer}/jwks"


@contextmanager
def one_key_provider() -> Iterator[IdentityProvider]:
    """``oidc-provider`` on loopback, signing with one fresh RSA key (kid ``k1``).

    What the identity and import front-door tests share as their ``idp`` fixture.
    """
    node = require_node_provider()
    _, jwk = new_signing_key("k1")
    provider = IdentityProvider(node=node, keys=[jwk])
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


_FORM = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S)
_HIDDEN = re.compile(r"<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"\s*/?>")


def approve_device_login(verification_uri_complete: str, login: str) -> None:
    """Do in the provider's pages what the person does in a browser to approve a login.

    Confirms the code, signs in as ``login`` (the development interactions accept any
    password) and consents; fails the test if the success page is not reached.
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(verification_uri_complete, timeout=15) as reply:
        page = reply.read().decode()
    for _ in range(6):
        if "Sign-in Success" in page:
            return
        match = _FORM.search(page)
        assert match is not None, f"no form on the provider's page: {page[:300]}"
        action, inner = match.groups()
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(inner)}
        if 'name="login"' in inner:
            fields.update(login=login, password="any")
        request = urllib.request.Request(  # noqa: S310 - the loopback provider's form
            html.unescape(action), data=urllib.parse.urlencode(fields).encode(), method="POST"
        )
        with opener.open(request, timeout=15) as reply:
            page = reply.read().decode()
    raise AssertionError(f"the device login did not succeed: {page[:300]}")
