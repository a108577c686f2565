"""The Messages API stand-in itself: streamed as the API streams, errors as the API errs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.live import call
from tests.claude_client.client_run import ClaudeClient
from tests.claude_client.messages_stand_in import (
    FALLBACK,
    ApiError,
    MessagesStandIn,
    Reply,
    Text,
    ToolUse,
    running_stand_in,
    say,
    stream_events,
)


def test_a_streamed_reply_reassembles_to_the_scripted_blocks() -> None:
    reply = Reply(blocks=(Text("x" * 60), ToolUse("Skill", {"skill": "release-notes"}, "t1")))
    events = list(stream_events(reply, model="m", message_id="msg_1"))
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    text = "".join(
        d["delta"]["text"] for n, d in events if n == "content_block_delta" and d["index"] == 0
    )
    partial = "".join(
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["index"] == 1
    )
    assert text == "x" * 60 and len([n for n in names if n == "content_block_delta"]) > 3
    assert json.loads(partial) == {"skill": "release-notes"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_unstreamed_calls_get_one_message_and_the_script_runs_out_to_the_fallback() -> None:
    with running_stand_in([say("first")]) as api:
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        first = call(api.url, "POST", "/v1/messages", body=body.encode()).json()
        second = call(api.url, "POST", "/v1/messages", body=body.encode()).json()
        unknown = call(api.url, "GET", "/v1/models")
    assert first["content"] == [{"type": "text", "text": "first"}]
    assert first["stop_reason"] == "end_turn"
    assert second["content"][0]["text"] == FALLBACK.blocks[0].text  # type: ignore[union-attr]
    assert unknown.status == 404 and unknown.json()["type"] == "error"
    assert [r.path for r in api.requests] == ["/v1/messages", "/v1/messages", "/v1/models"]


def test_the_client_retries_an_overloaded_api_as_it_would_the_real_one(
    client: ClaudeClient, api: MessagesStandIn, project: Path
) -> None:
    api.script(ApiError(529, "overloaded_error", "Overloaded"), say("Recovered."))

    run = client.ask("hi", project=project)

    assert run.result["is_error"] is False
    assert run.result["result"] == "Recovered."
    assert [type(r.answered_with).__name__ for r in api.messages] == ["ApiError", "Reply"]
