"""A loopback stand-in for the Anthropic Messages API, scripted per test.

Claude Code talks to ``ANTHROPIC_BASE_URL``: one ``POST /v1/messages`` per turn of its
agent loop, streamed as server-sent events when the request says ``stream: true``
(``message_start``, then per content block ``content_block_start``, its deltas and
``content_block_stop``, then ``message_delta`` with the stop reason and usage, then
``message_stop``; https://docs.anthropic.com/en/api/messages-streaming), or one JSON
message otherwise. A test scripts what the "model" answers, in order, and reads back
every request the client sent: which skills, agents and tools it was offered, and the
tool results (a hook's denial among them) it reported.

Answers are taken in order from the script; a request that finds the script empty is
answered by the responder when one is set (a function of the request, for runs whose
order is not the test's to fix, such as the arms of a behavioural eval), else with
:data:`FALLBACK` so the client ends its turn cleanly. Every request is recorded, so a
test can see that the client asked more than it scripted.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.api.live import live_server

SKILLS_HEADING = "The following skills are available for use with the Skill tool:"
"""The line Claude Code puts before the list of skills it offers the model."""

CHUNK = 24
"""Characters per streamed delta: long enough to be quick, short enough to split text."""


@dataclass(frozen=True)
class Text:
    """A text block the model answers with."""

    text: str


@dataclass(frozen=True)
class ToolUse:
    """A ``tool_use`` block: the model asks the client to run ``name`` with ``input``."""

    name: str
    input: dict[str, Any]
    id: str = ""


@dataclass(frozen=True)
class Reply:
    """One assistant message: its blocks, and the token usage it reports.

    The stop reason follows from the blocks (``tool_use`` when any block is a tool use),
    as the API sets it. ``input_tokens`` and ``output_tokens`` are what the client turns
    into cost.
    """

    blocks: tuple[Text | ToolUse, ...]
    input_tokens: int = 10
    output_tokens: int = 5

    @property
    def stop_reason(self) -> str:
        return "tool_use" if any(isinstance(b, ToolUse) for b in self.blocks) else "end_turn"


@dataclass(frozen=True)
class ApiError:
    """An error the API answers with instead of a message: its status and error type."""

    status: int
    type: str
    message: str


Answer = Reply | ApiError

Responder = Callable[["RecordedRequest"], Answer]
"""Answers a request from what it asks, when the script has nothing left."""

FALLBACK = Reply(blocks=(Text("Done."),))
"""What an unscripted request is answered with: a plain end of turn."""


def say(text: str, **usage: int) -> Reply:
    """A reply of one text block."""
    return Reply(blocks=(Text(text),), **usage)


def use(name: str, tool_input: dict[str, Any], *, text: str = "", **usage: int) -> Reply:
    """A reply that calls one tool, after an optional line of text."""
    blocks: tuple[Text | ToolUse, ...] = (ToolUse(name, tool_input),)
    return Reply(blocks=((Text(text), *blocks) if text else blocks), **usage)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the client sent, with its JSON body parsed."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: dict[str, Any]
    answered_with: Answer | None = None

    @property
    def is_message(self) -> bool:
        """A Messages API call (not a token count or anything else)."""
        return self.method == "POST" and self.path == "/v1/messages"

    @property
    def tool_names(self) -> list[str]:
        """The names of the tools offered to the model."""
        return [t["name"] for t in self.body.get("tools", []) if isinstance(t, dict)]

    def text(self) -> str:
        """All text the model is shown: system prompt and every text block of the messages.

        Skills and agents are listed in reminder blocks of the messages, which move
        between the system prompt and the first user turn across client versions, so
        tests read both.
        """
        parts = list(_texts(self.body.get("system")))
        for message in self.body.get("messages", []):
            parts.extend(_texts(message.get("content")))
        return "\n".join(parts)

    def listed_skills(self) -> dict[str, str]:
        """The skills offered under :data:`SKILLS_HEADING`: name to description."""
        return _listed(self.text(), SKILLS_HEADING)

    def tool_results(self) -> list[dict[str, Any]]:
        """Every ``tool_result`` block in the conversation, oldest first."""
        results: list[dict[str, Any]] = []
        for message in self.body.get("messages", []):
            content = message.get("content")
            if isinstance(content, list):
                results.extend(b for b in content if b.get("type") == "tool_result")
        return results


def result_text(block: dict[str, Any]) -> str:
    """The text of a ``tool_result`` block (a string or text blocks)."""
    return "\n".join(_texts(block.get("content")))


def _texts(content: object) -> Iterator[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                yield block["text"]
            elif isinstance(block, dict) and block.get("type") == "tool_result":
                yield from _texts(block.get("content"))


def _listed(text: str, heading: str) -> dict[str, str]:
    """``- name: description`` lines after ``heading``, up to the first other line."""
    listed: dict[str, str] = {}
    _, found, after = text.partition(heading)
    if not found:
        return listed
    for line in after.lstrip("\n").splitlines():
        if not line.startswith("- "):
            break
        name, _, description = line[2:].partition(": ")
        listed[name.strip()] = description.strip()
    return listed


@dataclass
class MessagesStandIn:
    """The scripted API: what it will answer, and every request it received.

    Attributes:
        url: The base URL to give the client as ``ANTHROPIC_BASE_URL``.
        requests: Every request received, in order (Messages calls and any other).
    """

    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    responder: Responder | None = None
    _script: deque[Answer] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def script(self, *answers: Answer) -> None:
        """Answer the next Messages calls with ``answers``, in order."""
        with self._lock:
            self._script.extend(answers)

    @property
    def messages(self) -> list[RecordedRequest]:
        """The Messages API calls, in order."""
        return [r for r in self.requests if r.is_message]

    @property
    def unanswered(self) -> list[Answer]:
        """Scripted answers no request has taken yet."""
        with self._lock:
            return list(self._script)

    def clear(self) -> None:
        """Forget the recorded requests and any answer left in the script."""
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def _next(self, request: RecordedRequest) -> Answer:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return self.responder(request) if self.responder is not None else FALLBACK

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _tool_id(self) -> str:
        return f"toolu_standin{next(self._ids):06d}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Record the request; answer a Messages call from the script."""
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers=dict(request.headers),
            body=body if isinstance(body, dict) else {"unparsed": body},
        )
        if request.method == "POST" and request.path == "/v1/messages/count_tokens":
            self._record(recorded)
            return web.json_response({"input_tokens": len(raw) // 4})
        if not recorded.is_message:
            self._record(recorded)
            return _error(ApiError(404, "not_found_error", f"no route {request.path}"))
        answer = self._next(recorded)
        if isinstance(answer, Reply):
            answer = self._with_ids(answer)
        self._record(dataclasses.replace(recorded, answered_with=answer))
        if isinstance(answer, ApiError):
            return _error(answer)
        model = str(body.get("model", "claude-stand-in"))
        message_id = f"msg_standin{len(self.requests):06d}"
        if body.get("stream"):
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for name, data in stream_events(answer, model=model, message_id=message_id):
                await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            await response.write_eof()
            return response
        return web.json_response(message(answer, model=model, message_id=message_id))

    def _with_ids(self, reply: Reply) -> Reply:
        """Give every tool use without an id one, unique within this stand-in."""
        blocks = tuple(
            ToolUse(b.name, b.input, b.id or self._tool_id()) if isinstance(b, ToolUse) else b
            for b in reply.blocks
        )
        return Reply(blocks, reply.input_tokens, reply.output_tokens)


def _error(error: ApiError) -> web.Response:
    body = {"type": "error", "error": {"type": error.type, "message": error.message}}
    return web.json_response(body, status=error.status)


def _block(block: Text | ToolUse) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}


def message(reply: Reply, *, model: str, message_id: str) -> dict[str, Any]:
    """The reply as one non-streamed Messages API response."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [_block(b) for b in reply.blocks],
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def stream_events(
    reply: Reply, *, model: str, message_id: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The reply as the API streams it: event names and their data, in order.

    Text arrives in ``text_delta`` pieces and a tool's input as ``input_json_delta``
    pieces of its JSON, so the client's own stream assembly is exercised.
    """
    start = {**message(reply, model=model, message_id=message_id), "content": []}
    start["stop_reason"] = None
    start["usage"] = {"input_tokens": reply.input_tokens, "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(reply.blocks):
        if isinstance(block, Text):
            opening: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in _pieces(block.text)]
        else:
            opening = {**_block(block), "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in _pieces(json.dumps(block.input))
            ]
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
        for delta in deltas:
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _pieces(text: str) -> Sequence[str]:
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def application(stand_in: MessagesStandIn) -> web.Application:
    """The aiohttp application serving ``stand_in`` on every path."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", stand_in.handle)
    return app


@contextmanager
def running_stand_in(answers: Iterable[Answer] = ()) -> Iterator[MessagesStandIn]:
    """A stand-in served on a free loopback port for the duration of the block."""
    stand_in = MessagesStandIn()
    stand_in.script(*answers)
    with live_server(application(stand_in)) as url:
        stand_in.url = url
        yield stand_in
