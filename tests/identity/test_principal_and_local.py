"""The principal's canonical email, and local mode's loopback-only ``--as``."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from agent_registry.cli.setup import access_advice
from agent_registry.config import Settings
from agent_registry.identity.http import (
    IDENTITY_HEADER,
    LOCAL_AS_HEADER,
    REFUSALS,
    LocalAuthenticator,
    install,
    require_principal,
)
from agent_registry.vocabulary.principal import (
    Principal,
    PrincipalKind,
    VerifiedBy,
    canonical_email,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM ", "alice@example.com"),
        ("ALICE@EXAMPLE.COM", "alice@example.com"),
    ],
)
def test_every_spelling_of_an_email_is_one_identity(raw: str, expected: str) -> None:
    assert canonical_email(raw) == expected
    assert Principal(email=raw, verified_by=VerifiedBy.OIDC).email == expected


@pytest.mark.parametrize("raw", ["alice", "", "a@b@c", "al ice@example.com", "@example.com"])
def test_what_is_not_an_email_is_refused_naming_it(raw: str) -> None:
    with pytest.raises(ValueError, match="is not an email address") as caught:
        canonical_email(raw)
    assert repr(raw) in str(caught.value)


def test_a_principal_is_frozen_and_knows_how_it_was_verified() -> None:
    bot = Principal(
        email="ci-bot@clients.example.com",
        kind=PrincipalKind.MACHINE,
        verified_by=VerifiedBy.OIDC,
    )
    assert bot.verified
    assert not Principal(email="a@b.c", verified_by=VerifiedBy.LOCAL_UNVERIFIED).verified
    with pytest.raises(ValueError, match="frozen"):
        bot.email = "x@y.z"  # type: ignore[misc]


class _Log:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str, int]] = []

    async def refused(self, *, actor: str, action: str, reason: str, status: int) -> None:
        self.entries.append((actor, action, reason, status))


def _app() -> tuple[web.Application, _Log]:
    app = web.Application()
    log = _Log()
    install(app, LocalAuthenticator(), log)
    return app, log


def _request(app: web.Application, remote: str, claimed: str | None) -> web.Request:
    headers = {LOCAL_AS_HEADER: claimed} if claimed is not None else {}
    request = make_mocked_request("POST", "/api/v1/votes", headers=headers, app=app)
    # make_mocked_request's transport reports 127.0.0.1; set the peer under test.
    return request.clone(remote=remote)


async def test_local_mode_accepts_as_from_loopback_marked_unverified() -> None:
    app, _ = _app()
    for remote in ("127.0.0.1", "::1"):
        principal = await require_principal(_request(app, remote, "Alice@Example.com"))
        assert principal.email == "alice@example.com"
        assert principal.verified_by == VerifiedBy.LOCAL_UNVERIFIED


async def test_local_mode_refuses_a_remote_caller_with_403_and_logs_who() -> None:
    app, log = _app()
    with pytest.raises(web.HTTPForbidden) as caught:
        await require_principal(_request(app, "10.0.0.7", "alice@example.com"))
    assert "only from this machine" in caught.value.reason
    reason = caught.value.reason
    assert log.entries == [("alice@example.com (unverified)", "POST /api/v1/votes", reason, 403)]


async def test_local_mode_without_as_or_with_a_non_address_is_401() -> None:
    app, log = _app()
    with pytest.raises(web.HTTPUnauthorized, match="needs --as EMAIL"):
        await require_principal(_request(app, "127.0.0.1", None))
    with pytest.raises(web.HTTPUnauthorized, match="'al ice' is not an email"):
        await require_principal(_request(app, "127.0.0.1", "al ice"))
    assert [entry[0] for entry in log.entries] == ["anonymous", "al ice (unverified)"]


async def test_local_mode_takes_a_bare_user_name_as_name_at_localhost() -> None:
    app, _ = _app()
    principal = await require_principal(_request(app, "127.0.0.1", "Alice"))
    assert principal.email == "alice@localhost"


async def test_a_server_without_an_identity_mode_refuses_every_write() -> None:
    app = web.Application()
    with pytest.raises(web.HTTPUnauthorized, match="no identity mode"):
        await require_principal(make_mocked_request("POST", "/x", app=app))
    assert REFUSALS not in app


async def test_local_mode_marks_every_reply_unverified() -> None:
    app, _ = _app()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/", page)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        found = await client.get("/")
        missing = await client.get("/nowhere")
    assert found.headers[IDENTITY_HEADER] == "unverified"
    assert missing.status == 404
    assert missing.headers[IDENTITY_HEADER] == "unverified"


def test_setup_says_who_may_reach_the_namespace_and_which_identity_mode_runs() -> None:
    local = access_advice(Settings(identity_mode="local"), temporal=True)
    assert "registry server and the workers only" in local[0]
    assert "read-only" in local[0]
    assert "AGENT_REGISTRY_IDENTITY_MODE=oidc" in local[1]
    oidc = Settings(identity_mode="oidc", oidc_issuer="https://login.example.com/")
    assert access_advice(oidc, temporal=False) == [
        "identity mode: oidc, issuer https://login.example.com/"
    ]
