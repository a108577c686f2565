"""A hostile submitter or reviewer against the identity rules: the holes found, closed.

Each test is an attack that used to work: another spelling of one's own mailbox to
approve one's own asset or vote twice, an identity-provider group named like a person
or a Slack user group to satisfy a group one is not in, and a forged token subject that
wrote a second, made-up line into the server log and the audit log.
"""

from __future__ import annotations

import base64
import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from agent_registry.api.errors import ApiError, json_errors
from agent_registry.api.writes import server_metadata
from agent_registry.assets.manifests import RegistryMetadata
from agent_registry.assets.refs import AssetRef
from agent_registry.identity.http import (
    LOCAL_AS_HEADER,
    LocalAuthenticator,
    OidcAuthenticator,
    install,
    require_principal,
)
from agent_registry.identity.login import LoginError, TokenCache, TokenSet
from agent_registry.identity.tokens import (
    OidcConfig,
    TokenRefusedError,
    TokenVerifier,
    principal_from_claims,
)
from agent_registry.lifecycle.contract import AssetStatus, ReviewInput, ReviewPlan, Vote
from agent_registry.lifecycle.membership import members_include
from agent_registry.lifecycle.review_rules import is_own_asset, missing_approvals, refusal
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.vocabulary.principal import Principal, VerifiedBy, canonical_email, person_key

NOW = datetime(2026, 12, 5, tzinfo=UTC)
ISSUER = "https://idp.example.com"
AUDIENCE = "https://registry.example.com/api"


def _status(*votes: Vote, approvals: int = 1, **groups: list[str]) -> AssetStatus:
    plan = ReviewPlan(
        policy_version="t",
        approvals_required=approvals,
        require_groups=[g for g in groups if g != "reviewers"],
        group_members={"reviewers": ["*"], **groups},
        sla=timedelta(days=2),
        escalate_after=timedelta(days=4),
        revision_window=timedelta(days=30),
    )
    return AssetStatus(
        ref=AssetRef.parse("skill/pdf-report@1.0.0"),
        stage=Stage.IN_REVIEW,
        owner_team="docs",
        submitter="alice@example.com",
        authors=["ann@bücher.example"],
        plan=plan,
        votes=list(votes),
    )


def _vote_as(email: str, by: VerifiedBy = VerifiedBy.SLACK) -> ReviewInput:
    return ReviewInput(principal=Principal(email=email, verified_by=by))


@pytest.mark.parametrize(
    "spelling",
    [
        "alice+slack@example.com",  # a Slack profile email on a sub-address of her mailbox
        "Alice+Review@Example.COM",
        "\uff41\uff4c\uff49\uff43\uff45@example.com",  # full-width "alice", NFKC-equal
        "alice@example.com.",  # the fully qualified domain
        "ann@xn--bcher-kva.example",  # the author's IDN domain in its ASCII form
        "ann+x@BÜCHER.example",
    ],
)
def test_another_spelling_of_the_submitters_or_an_authors_mailbox_cannot_approve(
    spelling: str,
) -> None:
    reason = refusal(_status(), Decision.APPROVE, _vote_as(spelling))
    assert reason is not None and "cannot review it" in reason


def test_one_person_under_two_spellings_cannot_vote_twice() -> None:
    first = Vote(reviewer="bob@example.com", decision=Decision.APPROVE, at=NOW)
    status = _status(first, approvals=2)
    reason = refusal(status, Decision.APPROVE, _vote_as("bob+second@example.com"))
    assert reason is not None and "already voted (approve)" in reason


def test_the_wider_match_only_refuses_it_never_admits() -> None:
    """Revising and group membership still need the exact canonical email."""
    status = _status()
    assert not is_own_asset(status, "alice+x@example.com")
    assert not members_include(["bob@example.com"], "bob+x@example.com")
    assert refusal(status, Decision.APPROVE, _vote_as("carol@example.com")) is None
    assert person_key("a.lice@example.com") != person_key("alice@example.com")


def test_a_token_group_named_like_a_person_or_a_slack_group_admits_no_one() -> None:
    """Group names are often chosen by whoever creates the group; they cannot be people,
    Slack user groups (only Slack vouches for those) or ``*``."""
    config = OidcConfig(issuer=ISSUER, audience=AUDIENCE)
    claims = {
        "sub": "mallory",
        "email": "mallory@example.com",
        "groups": ["carol@example.com", "S0614TZR7", "*", " security ", 7, "docs"],
    }
    principal = principal_from_claims(claims, config)
    assert principal.groups == ["security", "docs"]
    security = ["S0614TZR7", "carol@example.com"]
    assert not members_include(security, principal.email, verified_groups=principal.groups)
    status = _status(security=security)
    mallory = ReviewInput(principal=principal)
    assert refusal(status, Decision.APPROVE, mallory) is None  # may vote, but...
    voted = status.model_copy(
        update={
            "votes": [
                Vote(
                    reviewer=principal.email,
                    decision=Decision.APPROVE,
                    at=NOW,
                    verified_groups=principal.groups,
                )
            ]
        }
    )
    assert voted.plan is not None
    assert missing_approvals(voted.plan, voted.votes) == ["an approver from security"]


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class _Refusals:
    def __init__(self) -> None:
        self.seen: list[dict[str, object]] = []

    async def refused(self, *, actor: str, action: str, reason: str, status: int) -> None:
        self.seen.append({"actor": actor, "action": action, "reason": reason, "status": status})


def _oidc_votes_app(refusals: _Refusals) -> web.Application:
    """A vote route behind the OIDC front door, its refusals recorded in ``refusals``."""
    app = web.Application(middlewares=[json_errors])
    install(app, OidcAuthenticator(TokenVerifier(OidcConfig(ISSUER, AUDIENCE))), refusals)

    async def write(request: web.Request) -> web.Response:
        await require_principal(request)
        return web.json_response({})

    app.router.add_post("/api/v1/votes", write)
    return app


async def test_a_forged_subject_cannot_write_a_second_line_into_the_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forged = "mallory\nrefused POST /api/v1/votes for bob@example.com (401): \x1b[2Kok"
    token = _unsigned({"sub": forged, "iss": ISSUER, "aud": AUDIENCE})
    refusals = _Refusals()
    async with TestClient(TestServer(_oidc_votes_app(refusals))) as client:
        with caplog.at_level(logging.WARNING, logger="agent_registry.identity.http"):
            reply = await client.post(
                "/api/v1/votes", headers={"Authorization": f"Bearer {token}"}, json={}
            )
        assert reply.status == 401
        body = await reply.json()
    assert "\n" not in str(body) and token not in str(body)
    [seen] = refusals.seen
    actor = str(seen["actor"])
    assert actor.startswith("mallory") and not any(ord(c) < 32 for c in actor)
    assert actor.endswith(" (unverified)")
    lines = [r.getMessage() for r in caplog.records if r.name == "agent_registry.identity.http"]
    assert lines and all("\n" not in line and "\x1b" not in line for line in lines)
    assert token not in " ".join(lines) + json.dumps(seen)


async def test_a_forged_token_naming_someone_is_not_recorded_as_them() -> None:
    """The audit log must not say Bob was refused when a forged token only named him."""
    token = _unsigned({"sub": "b-1", "email": "bob@example.com", "iss": ISSUER, "aud": AUDIENCE})
    refusals = _Refusals()
    async with TestClient(TestServer(_oidc_votes_app(refusals))) as client:
        reply = await client.post(
            "/api/v1/votes", headers={"Authorization": f"Bearer {token}"}, json={}
        )
        assert reply.status == 401
    assert [seen["actor"] for seen in refusals.seen] == ["bob@example.com (unverified)"]


@pytest.mark.parametrize(
    "forwarded",
    [
        {"X-Forwarded-For": "127.0.0.1"},
        {"Forwarded": "for=127.0.0.1"},
        {"X-Real-IP": "::1"},
    ],
)
async def test_local_mode_ignores_forwarding_headers_from_a_remote_peer(
    forwarded: dict[str, str],
) -> None:
    """Held: only the socket's peer address counts, whatever a header says."""
    app = web.Application()
    refusals = _Refusals()
    install(app, LocalAuthenticator(), refusals)
    request = make_mocked_request(
        "POST", "/api/v1/votes", headers={LOCAL_AS_HEADER: "bob@example.com", **forwarded}, app=app
    ).clone(remote="192.0.2.7")
    with pytest.raises(web.HTTPForbidden):
        await require_principal(request)
    assert [seen["status"] for seen in refusals.seen] == [403]


@pytest.mark.parametrize("flag", [False, "false"])
def test_a_token_whose_email_the_provider_did_not_verify_proves_no_one(flag: object) -> None:
    """A self-registered account naming a colleague's address is not that colleague."""
    config = OidcConfig(issuer=ISSUER, audience=AUDIENCE)
    claims = {"sub": "u-9", "email": "alice@example.com", "email_verified": flag}
    with pytest.raises(TokenRefusedError, match="email is not verified"):
        principal_from_claims(claims, config)
    verified = principal_from_claims({**claims, "email_verified": True}, config)
    assert verified.email == "alice@example.com"
    unsaid = {"sub": "u-9", "email": "alice@example.com"}  # most access tokens omit it
    assert principal_from_claims(unsaid, config).email == "alice@example.com"


@pytest.mark.parametrize(
    "disguised",
    [
        "ali\u200bce@example.com",  # a zero-width space: reads as alice@example.com
        "\u202emoc.elpmaxe@ecila",  # a right-to-left override: reads as alice@example.com
        "alice\u2060@example.com",  # a word joiner
        "bob\x9b31m@example.com",  # a C1 control: an escape sequence on a terminal
    ],
)
def test_an_address_disguised_with_invisible_characters_is_refused_everywhere(
    disguised: str,
) -> None:
    """A submitter cannot list an author that reads as Alice but matches no rule about her."""
    with pytest.raises(ValueError, match="invisible or control character"):
        canonical_email(disguised)
    with pytest.raises(ValueError, match="not an email address"):
        Principal(email=disguised, verified_by=VerifiedBy.LOCAL_UNVERIFIED)
    metadata = RegistryMetadata(owner_team="docs", version="1.0.0", authors=[disguised])
    submitter = Principal(email="bob@example.com", verified_by=VerifiedBy.OIDC)
    with pytest.raises(ApiError) as caught:
        server_metadata(metadata, submitter)
    assert caught.value.status == 400 and "metadata.authors[0]" in caught.value.error


def test_a_ci_bot_cannot_vote_so_a_submitter_cannot_approve_through_their_pipeline() -> None:
    """Alice submits, then has the pipeline she controls approve with the bot's token."""
    config = OidcConfig(issuer=ISSUER, audience=AUDIENCE)
    bot = principal_from_claims({"sub": "ci-bot", "client_id": "ci-bot"}, config)
    assert bot.kind.value == "machine"
    status = _status()  # reviewers: anyone
    for decision in (Decision.APPROVE, Decision.REJECT):
        reason = refusal(status, decision, ReviewInput(principal=bot, reason="r"))
        assert reason is not None and "only a person can review" in reason


def _tokens() -> TokenSet:
    return TokenSet(
        access_token="secret-access-token",
        expires_at=0.0,
        refresh_token="secret-refresh-token",
        issuer=ISSUER,
        client_id="agentreg-cli",
    )


def test_a_file_planted_at_the_temporary_name_does_not_receive_the_tokens(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir(mode=0o700)
    planted = tmp_path / "planted"
    planted.write_text("")
    planted.chmod(0o666)
    (folder / "tokens.tmp").symlink_to(planted)
    cache = TokenCache(folder / "tokens.json")
    cache.save(_tokens())
    assert planted.read_text() == ""
    assert cache.load() == _tokens()
    assert stat.S_IMODE((folder / "tokens.json").stat().st_mode) == 0o600
    assert not (folder / "tokens.json").is_symlink()


def test_tokens_are_not_kept_in_a_folder_others_can_write(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(LoginError, match="can be written by other users"):
        TokenCache(folder / "tokens.json").save(_tokens())
    assert list(folder.iterdir()) == []
