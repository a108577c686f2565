"""An ID token where an access token is expected: refused, against the real provider.

Where an operator names a client id as the registry's audience (a common set-up), the
ID token the provider gives that client carries the same audience and verifies with the
same keys. ID tokens are proof of a login shown to web pages and other services, not a
credential to act with, so the server takes only a token typed as an access token
(RFC 9068 §4), or, for providers whose access tokens are untyped, one without an ID
token's own claims.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from agent_registry.config import Settings
from agent_registry.identity import login
from agent_registry.identity.server import IdentityConfigError, oidc_config
from agent_registry.identity.tokens import (
    OidcConfig,
    TokenRefusedError,
    TokenVerifier,
    access_token_refusal,
)
from agent_registry.vocabulary.principal import PrincipalKind
from tests.idp.fixture import AUDIENCE, CLI_CLIENT, IdentityProvider, approve_device_login

SCOPE = "openid offline_access email profile groups"


def _device_tokens(idp: IdentityProvider, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Everything the token endpoint answered to a device-flow login as alice."""
    reply: dict[str, Any] = {}
    keep = login._token_set

    def capture(answer: dict[str, Any], **kwargs: Any) -> login.TokenSet:
        reply.update(answer)
        return keep(answer, **kwargs)

    monkeypatch.setattr(login, "_token_set", capture)
    code = login.start_device_login(idp.issuer, CLI_CLIENT, audience=AUDIENCE, scope=SCOPE)
    assert code.verification_uri_complete is not None
    person = threading.Thread(
        target=approve_device_login, args=(code.verification_uri_complete, "alice")
    )
    person.start()
    login.finish_device_login(idp.issuer, CLI_CLIENT, code, sleep=lambda _: time.sleep(0.2))
    person.join()
    return reply


def test_an_id_token_is_refused_even_where_its_audience_is_the_registrys(
    idp: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = _device_tokens(idp, monkeypatch)
    id_token = str(tokens["id_token"])
    # The operator named the CLI's client id as the audience: the ID token matches it.
    verifier = TokenVerifier(OidcConfig(issuer=idp.issuer, audience=CLI_CLIENT))
    with pytest.raises(TokenRefusedError) as caught:
        verifier.principal(id_token)
    reason = str(caught.value)
    assert reason.startswith("not an access token (typ none, must be at+jwt)")
    assert "\n" not in reason and id_token not in reason
    assert caught.value.subject == "Alice@Example.com"  # who it claimed, for the audit log

    access = TokenVerifier(OidcConfig(issuer=idp.issuer, audience=AUDIENCE))
    assert access.principal(str(tokens["access_token"])).kind is PrincipalKind.HUMAN


def test_untyped_access_tokens_are_taken_only_when_configured_and_never_with_id_claims() -> None:
    claims = {"sub": "alice", "email": "alice@example.com"}
    assert access_token_refusal({"typ": "at+jwt"}, claims, token_type="at+jwt") is None
    assert access_token_refusal({"typ": "application/AT+JWT"}, claims, token_type="at+jwt") is None
    assert "typ 'JWT'" in (access_token_refusal({"typ": "JWT"}, claims, token_type="at+jwt") or "")
    assert access_token_refusal({"typ": "JWT"}, claims, token_type="any") is None
    assert access_token_refusal({}, claims, token_type="any") is None
    for marker in ("nonce", "at_hash", "c_hash"):
        reason = access_token_refusal({}, {**claims, marker: "x"}, token_type="any")
        assert reason is not None and marker in reason
    typed = access_token_refusal({"typ": "at+jwt"}, {**claims, "nonce": "n"}, token_type="at+jwt")
    assert typed is not None and "ID token" in typed


def test_the_server_setting_chooses_the_token_type() -> None:
    base = {"oidc_issuer": "https://idp.example.com", "oidc_audience": AUDIENCE}
    assert oidc_config(Settings(**base)).token_type == "at+jwt"  # type: ignore[arg-type]
    untyped = Settings(**base, oidc_token_type="any")  # type: ignore[arg-type]
    assert oidc_config(untyped).token_type == "any"


def test_untyped_tokens_are_not_taken_for_the_clis_own_client_id() -> None:
    """There the CLI's ID tokens, which need carry no ID-token claim, would pass."""
    settings = Settings(
        oidc_issuer="https://idp.example.com",
        oidc_audience=CLI_CLIENT,
        oidc_client_id=CLI_CLIENT,
        oidc_token_type="any",
    )  # type: ignore[call-arg]
    with pytest.raises(IdentityConfigError, match="audience other than the CLI's client id"):
        oidc_config(settings)
    typed = settings.model_copy(update={"oidc_token_type": "at+jwt"})
    assert oidc_config(typed).audience == CLI_CLIENT
