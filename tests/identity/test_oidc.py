"""OIDC against a real provider: device-flow and client-credentials login, and every
token the server must refuse (expired, wrong issuer, wrong audience, tampered, ``alg:
none``, unknown key, key rotated away), each a one-line 401 naming who tried."""

from __future__ import annotations

import base64
import json
import stat
import threading
import time
from pathlib import Path

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from agent_registry.api.errors import json_errors
from agent_registry.cli.registry_writes import bearer_token
from agent_registry.config import Settings
from agent_registry.identity.http import OidcAuthenticator, install, require_principal
from agent_registry.identity.login import (
    TokenCache,
    client_credentials,
    finish_device_login,
    refresh,
    start_device_login,
)
from agent_registry.identity.tokens import OidcConfig, TokenRefusedError, TokenVerifier
from agent_registry.vocabulary.principal import PrincipalKind, VerifiedBy
from tests.idp.fixture import (
    AUDIENCE,
    BOT_CLIENT,
    BOT_SECRET,
    CLI_CLIENT,
    OTHER_AUDIENCE,
    SHORT_BOT_CLIENT,
    IdentityProvider,
    approve_device_login,
    new_signing_key,
    require_node_provider,
)

SCOPE = "openid offline_access email profile groups"


def _verifier(idp: IdentityProvider, **overrides: object) -> TokenVerifier:
    settings: dict[str, object] = {"issuer": idp.issuer, "audience": AUDIENCE}
    settings.update(overrides)
    return TokenVerifier(OidcConfig(**settings))  # type: ignore[arg-type]


def _bot_token(idp: IdentityProvider, *, client: str = BOT_CLIENT, audience: str = AUDIENCE) -> str:
    return client_credentials(idp.issuer, client, BOT_SECRET, audience=audience).access_token


def _device_login(idp: IdentityProvider, login: str) -> str:
    code = start_device_login(idp.issuer, CLI_CLIENT, audience=AUDIENCE, scope=SCOPE)
    assert code.verification_uri_complete is not None
    person = threading.Thread(
        target=approve_device_login, args=(code.verification_uri_complete, login)
    )
    person.start()
    tokens = finish_device_login(idp.issuer, CLI_CLIENT, code, sleep=lambda _: time.sleep(0.2))
    person.join()
    return tokens.access_token


def test_device_flow_login_proves_a_person_with_canonical_email_and_groups(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    code = start_device_login(idp.issuer, CLI_CLIENT, audience=AUDIENCE, scope=SCOPE)
    assert code.verification_uri_complete is not None
    approve_device_login(code.verification_uri_complete, "alice")
    tokens = finish_device_login(idp.issuer, CLI_CLIENT, code, sleep=time.sleep)

    principal = _verifier(idp).principal(tokens.access_token)
    assert principal.email == "alice@example.com"  # the provider says Alice@Example.com
    assert principal.kind is PrincipalKind.HUMAN
    assert principal.groups == ["platform"]
    assert principal.verified_by is VerifiedBy.OIDC
    assert principal.display_name == "Alice Adams"

    cache = TokenCache(tmp_path / "cfg" / "tokens.json")
    cache.save(tokens)
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert cache.load() == tokens

    renewed = refresh(tokens, audience=AUDIENCE)
    assert renewed.access_token != tokens.access_token
    assert _verifier(idp).principal(renewed.access_token).email == "alice@example.com"


def test_device_flow_polls_while_the_person_is_still_approving(idp: IdentityProvider) -> None:
    token = _device_login(idp, "bob")
    assert _verifier(idp).principal(token).groups == ["security"]


def test_client_credentials_make_a_machine_principal(idp: IdentityProvider) -> None:
    principal = _verifier(idp).principal(_bot_token(idp))
    assert principal.kind is PrincipalKind.MACHINE
    assert principal.email == f"{BOT_CLIENT}@clients.127.0.0.1"
    assert principal.verified_by is VerifiedBy.OIDC


def _refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRefusedError) as caught:
        verifier.principal(token)
    reason = str(caught.value)
    assert "\n" not in reason
    assert token not in reason
    return reason


def test_an_expired_token_is_refused(idp: IdentityProvider) -> None:
    token = _bot_token(idp, client=SHORT_BOT_CLIENT)
    verifier = _verifier(idp, leeway_seconds=0)
    assert verifier.principal(token).kind is PrincipalKind.MACHINE
    time.sleep(2.1)
    assert _refused(verifier, token) == "token expired"


def test_a_token_from_another_issuer_is_refused(idp: IdentityProvider) -> None:
    verifier = _verifier(idp, issuer="https://idp.elsewhere.test", jwks_url=idp.jwks_url)
    assert "issued by another provider" in _refused(verifier, _bot_token(idp))


def test_a_token_for_another_audience_is_refused(idp: IdentityProvider) -> None:
    token = _bot_token(idp, audience=OTHER_AUDIENCE)
    assert "not for this registry" in _refused(_verifier(idp), token)


def _segments(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    return (
        json.loads(base64.urlsafe_b64decode(header + "==")),
        json.loads(base64.urlsafe_b64decode(payload + "==")),
        signature,
    )


def _b64(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_a_tampered_token_is_refused(idp: IdentityProvider) -> None:
    header, payload, signature = _segments(_device_login(idp, "carol"))
    payload["email"] = "bob@example.com"
    payload["groups"] = ["security"]
    forged = f"{_b64(header)}.{_b64(payload)}.{signature}"
    assert _refused(_verifier(idp), forged) == "token signature does not verify"


def test_an_unsigned_alg_none_token_is_refused(idp: IdentityProvider) -> None:
    header, payload, _ = _segments(_bot_token(idp))
    header["alg"] = "none"
    unsigned = f"{_b64(header)}.{_b64(payload)}."
    assert _refused(_verifier(idp), unsigned) == "token algorithm 'none' is not accepted"


def test_a_token_signed_with_an_unknown_key_is_refused(idp: IdentityProvider) -> None:
    _, payload, _ = _segments(_bot_token(idp))
    stranger, _ = new_signing_key("not-published")
    forged = jwt.encode(payload, stranger, algorithm="RS256", headers={"kid": "not-published"})
    assert _refused(_verifier(idp), forged) == "token signed with unknown key 'not-published'"


def test_a_token_signed_with_a_key_rotated_away_is_refused() -> None:
    node = require_node_provider()
    _, old = new_signing_key("old")
    provider = IdentityProvider(node=node, keys=[old])
    provider.start()
    try:
        token = _bot_token(provider)
        verifier = _verifier(provider, jwks_cache_seconds=1)
        assert verifier.principal(token).kind is PrincipalKind.MACHINE
        _, new = new_signing_key("new")
        provider.rotate([new])
        time.sleep(1.2)
        assert _refused(verifier, token) == "token signed with unknown key 'old'"
        assert verifier.principal(_bot_token(provider)).kind is PrincipalKind.MACHINE
    finally:
        provider.stop()


class _Log:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str, int]] = []

    async def refused(self, *, actor: str, action: str, reason: str, status: int) -> None:
        self.entries.append((actor, action, reason, status))


async def test_the_server_answers_a_bad_token_with_one_line_401_and_logs_who_tried(
    idp: IdentityProvider,
) -> None:
    app = web.Application(middlewares=[json_errors])
    log = _Log()
    install(app, OidcAuthenticator(_verifier(idp)), log)

    async def whoami(request: web.Request) -> web.Response:
        principal = await require_principal(request)
        return web.json_response({"email": principal.email, "kind": principal.kind})

    app.router.add_post("/whoami", whoami)
    good = _bot_token(idp)
    header, payload, signature = _segments(good)
    payload["aud"] = OTHER_AUDIENCE
    forged = f"{_b64(header)}.{_b64(payload)}.{signature}"
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        ok = await client.post("/whoami", headers={"Authorization": f"Bearer {good}"})
        assert await ok.json() == {"email": f"{BOT_CLIENT}@clients.127.0.0.1", "kind": "machine"}
        bad = await client.post("/whoami", headers={"Authorization": f"Bearer {forged}"})
        assert bad.status == 401
        assert (await bad.json())["error"] == "token signature does not verify"
        none = await client.post("/whoami")
        assert none.status == 401
        assert "agentreg login" in (await none.json())["error"]
    assert log.entries == [
        (f"{BOT_CLIENT} (unverified)", "POST /whoami", "token signature does not verify", 401),
        (
            "anonymous",
            "POST /whoami",
            "sign in first: agentreg login (no bearer token was sent)",
            401,
        ),
    ]


def test_the_cli_refreshes_a_saved_login_that_is_about_to_expire(
    idp: IdentityProvider, tmp_path: Path
) -> None:
    code = start_device_login(idp.issuer, CLI_CLIENT, audience=AUDIENCE, scope=SCOPE)
    assert code.verification_uri_complete is not None
    approve_device_login(code.verification_uri_complete, "carol")
    tokens = finish_device_login(idp.issuer, CLI_CLIENT, code, sleep=time.sleep)
    cache = TokenCache(tmp_path / "tokens.json")
    cache.save(tokens.model_copy(update={"expires_at": time.time() + 5}))
    settings = Settings(identity_mode="oidc", oidc_issuer=idp.issuer, oidc_audience=AUDIENCE)

    token = bearer_token(settings, cache)

    assert token != tokens.access_token
    saved = cache.load()
    assert saved is not None and saved.access_token == token and saved.fresh(time.time())
    assert _verifier(idp).principal(token).email == "carol@example.com"
