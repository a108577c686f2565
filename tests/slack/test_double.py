"""The Slack double answers like Slack for what the registry uses, driven by the real client."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from agent_registry.slack.client import retry_handlers
from tests.slack_double import (
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TOKEN,
    SlackDouble,
    SlackUser,
    block_actions_payload,
    form_body,
    sign,
    view_submission_payload,
)

CAROL = SlackUser("U0CAROL", "carol", "carol@example.com", "Carol Reviewer")
DAVE = SlackUser("U0DAVE", "dave", None)


def _client(double: SlackDouble, *, token: str = DEFAULT_TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=double.base_url, retry_handlers=retry_handlers())


async def test_post_update_and_ephemeral_keep_slack_shapes() -> None:
    async with SlackDouble(users=[CAROL]) as double:
        client = _client(double)
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*review*"}}]
        posted = await client.chat_postMessage(
            channel="#agent-registry-reviews", text="review", blocks=blocks
        )
        assert posted["ok"] is True
        channel, ts = posted["channel"], posted["ts"]
        assert channel.startswith("C") and posted["message"]["blocks"] == blocks
        second = await client.chat_postMessage(channel=channel, text="second")
        assert float(second["ts"]) > float(ts)

        updated = await client.chat_update(channel=channel, ts=ts, text="decided", blocks=[])
        assert updated["ts"] == ts and updated["message"]["text"] == "decided"
        reply = await client.chat_postMessage(channel=channel, thread_ts=ts, text="reminder")
        ephemeral = await client.chat_postEphemeral(channel=channel, user=CAROL.id, text="psst")

    assert ephemeral["message_ts"]
    assert [m.ts for m in double.messages_in("#agent-registry-reviews")] == [ts, second["ts"]]
    first = double.messages_in(channel)[0]
    assert first.text == "decided" and first.edits == 1
    assert [m.ts for m in double.replies_to(channel, ts)] == [reply["ts"]]
    assert [e.text for e in double.ephemerals_for(CAROL.id)] == ["psst"]
    # The recorded call has its blocks decoded, whatever encoding the client chose.
    assert double.calls_to("chat.postMessage")[0].params["blocks"] == blocks


async def test_refusals_are_ok_false_with_slacks_error_codes() -> None:
    async with SlackDouble(users=[CAROL]) as double:
        with pytest.raises(SlackApiError) as bad_token:
            await _client(double, token="xoxb-wrong").auth_test()
        with pytest.raises(SlackApiError) as unknown_user:
            await _client(double).users_info(user="U0NOBODY")
        posted = await _client(double).chat_postMessage(channel="#x", text="t")
        with pytest.raises(SlackApiError) as unknown_message:
            await _client(double).chat_update(channel=posted["channel"], ts="1.000001", text="t")
        with pytest.raises(SlackApiError) as unknown_group:
            await _client(double).usergroups_users_list(usergroup="S0NOPE")

    assert bad_token.value.response["error"] == "invalid_auth"
    assert unknown_user.value.response["error"] == "user_not_found"
    assert unknown_message.value.response["error"] == "message_not_found"
    assert unknown_group.value.response["error"] == "no_such_subteam"


async def test_users_groups_dms_and_views() -> None:
    async with SlackDouble(users=[CAROL, DAVE], usergroups={"S0REVIEWERS": [CAROL.id]}) as double:
        client = _client(double)
        info = await client.users_info(user=CAROL.id)
        by_email = await client.users_lookupByEmail(email="CAROL@example.com")
        no_email = await client.users_info(user=DAVE.id)
        members = await client.usergroups_users_list(usergroup="S0REVIEWERS")
        dm = await client.conversations_open(users=CAROL.id)
        dm_again = await client.conversations_open(users=CAROL.id)
        view = await client.views_open(
            trigger_id="1.2.3", view={"type": "modal", "title": {"type": "plain_text", "text": "x"}}
        )

    assert info["user"]["profile"]["email"] == "carol@example.com"
    assert by_email["user"]["id"] == CAROL.id
    assert "email" not in no_email["user"]["profile"]
    assert members["users"] == [CAROL.id]
    assert dm["channel"]["id"] == dm_again["channel"]["id"] == double.dm_channel(CAROL.id)
    assert view["view"]["id"].startswith("V") and double.views[0]["type"] == "modal"


async def test_rate_limit_answers_429_with_retry_after_then_the_client_succeeds() -> None:
    async with SlackDouble() as double:
        double.rate_limit("chat.postMessage", times=2, retry_after=1)
        started = time.monotonic()
        posted = await _client(double).chat_postMessage(channel="#reviews", text="once")
        waited = time.monotonic() - started

    attempts = double.calls_to("chat.postMessage")
    assert [call.status for call in attempts] == [429, 429, 200]
    assert attempts[0].response == {"ok": False, "error": "ratelimited"}
    assert waited >= 2.0  # Retry-After: 1, twice
    assert [m.ts for m in double.messages_in("#reviews")] == [posted["ts"]]


async def test_server_errors_and_dropped_connections_on_demand() -> None:
    async with SlackDouble() as double:
        double.server_error("chat.postMessage", times=1)
        double.disconnect("chat.postMessage", times=1)
        posted = await _client(double).chat_postMessage(channel="#reviews", text="once")

    assert [call.status for call in double.calls_to("chat.postMessage")] == [500, 0, 200]
    assert [m.ts for m in double.messages_in("#reviews")] == [posted["ts"]]


def test_signature_is_slacks_v0_hmac() -> None:
    body = form_body({"type": "block_actions"})
    headers = sign(body, timestamp=1_732_460_000)
    expected = hmac.new(
        DEFAULT_SIGNING_SECRET.encode(),
        f"v0:1732460000:{body}".encode(),
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Slack-Request-Timestamp"] == "1732460000"
    assert headers["X-Slack-Signature"] == f"v0={expected}"


def test_payloads_have_the_fields_slack_sends() -> None:
    click = block_actions_payload(
        user=CAROL,
        action_id="agentreg_approve",
        value="skill/x@1.0.0",
        channel_id="C0REVIEWS",
        message_ts="1732460001.000100",
    )
    decoded = json.loads(parse_qs(form_body(click))["payload"][0])
    assert decoded["type"] == "block_actions"
    assert decoded["user"]["id"] == CAROL.id and decoded["user"]["team_id"]
    assert decoded["container"] == {
        "type": "message",
        "message_ts": "1732460001.000100",
        "channel_id": "C0REVIEWS",
        "is_ephemeral": False,
    }
    assert decoded["actions"][0]["type"] == "button" and decoded["trigger_id"]
    submission = view_submission_payload(user=CAROL, private_metadata="{}", reason=None)
    values = submission["view"]["state"]["values"]
    assert values == {"reason": {"reason_input": {"type": "plain_text_input", "value": None}}}


async def test_history_and_replies_read_back_like_slack() -> None:
    async with SlackDouble(channels={"agent-registry-reviews": "C0REVIEWS1"}) as double:
        client = _client(double)
        metadata = {"event_type": "agent_registry_post", "event_payload": {"key": "k1"}}
        first = await client.chat_postMessage(channel="C0REVIEWS1", text="one", metadata=metadata)
        second = await client.chat_postMessage(channel="C0REVIEWS1", text="two")
        reply = await client.chat_postMessage(
            channel="C0REVIEWS1", thread_ts=first["ts"], text="reply", metadata=metadata
        )

        history = await client.conversations_history(
            channel="C0REVIEWS1", include_all_metadata=True, limit=1
        )
        assert [m["text"] for m in history["messages"]] == ["two"]  # newest first
        assert history["has_more"] is True
        cursor = history["response_metadata"]["next_cursor"]
        rest = await client.conversations_history(
            channel="C0REVIEWS1", include_all_metadata=True, cursor=cursor
        )
        assert [m["text"] for m in rest["messages"]] == ["one"]  # no thread replies
        assert rest["messages"][0]["metadata"] == metadata and rest["has_more"] is False
        bare = await client.conversations_history(channel="C0REVIEWS1", oldest=first["ts"])
        assert [m["ts"] for m in bare["messages"]] == [second["ts"]]  # oldest is exclusive
        assert "metadata" not in str(bare["messages"])  # only with include_all_metadata

        replies = await client.conversations_replies(
            channel="C0REVIEWS1", ts=first["ts"], include_all_metadata=True
        )
        assert [m["ts"] for m in replies["messages"]] == [first["ts"], reply["ts"]]
        assert replies["messages"][1]["metadata"] == metadata
        listed = await client.conversations_list(types="public_channel,private_channel")
        assert {"id": "C0REVIEWS1", "name": "agent-registry-reviews"} in listed["channels"]

        # Like Slack, reading needs the channel's id, and refusals come as asked.
        with pytest.raises(SlackApiError) as by_name:
            await client.conversations_history(channel="#agent-registry-reviews")
        assert by_name.value.response["error"] == "channel_not_found"
        double.fail_with("conversations.history", "missing_scope", times=1)
        with pytest.raises(SlackApiError) as refused:
            await client.conversations_history(channel="C0REVIEWS1")
        assert refused.value.response["error"] == "missing_scope"
