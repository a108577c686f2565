"""A local Slack: the Web API methods we use, on loopback, plus signed interaction payloads.

Slack cannot be reached from the test machines, so this double speaks Slack's real HTTP
shapes (``/api/<method>``, form, JSON or query parameters, a bearer token, answers
``{"ok": true, …}`` or ``{"ok": false, "error": …}``) and the real ``AsyncWebClient``
is pointed at it through ``base_url``. It records every call, keeps the current state of
every posted message, and fails on demand (429 with ``Retry-After``, 500, a dropped
connection) so the clients' retry behaviour is exercised for real.

The second half builds interaction requests as Slack sends them to an app: the
``payload=<url-encoded JSON>`` form body and the ``v0`` HMAC-SHA256 signature headers.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from pydantic import SecretStr

from agent_registry.config import Settings
from agent_registry.slack.actions import REASON_BLOCK, REASON_INPUT, REASON_MODAL_CALLBACK

DEFAULT_TOKEN = "xoxb-test-0000000000-double"
DEFAULT_SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM_ID = "T0AGENTREG"
BOT_USER_ID = "U0AGENTBOT"
BOT_ID = "B0AGENTBOT"
API_APP_ID = "A0AGENTREG"

_trigger_seq = itertools.count(1_000_000)
"""Numbers in trigger ids and response URLs, unique within a test session."""

JSON_PARAMS = ("blocks", "attachments", "view", "metadata")
"""Parameters Slack takes as JSON inside a form body; decoded for assertions."""


@dataclass(frozen=True)
class SlackUser:
    """One user of the double's workspace.

    Attributes:
        id: The Slack user id (``U…``).
        name: The user name (handle).
        email: The profile email; None when the app may not see it.
        real_name: The full name.
    """

    id: str
    name: str
    email: str | None = None
    real_name: str = ""

    def as_slack(self) -> dict[str, Any]:
        """The user object as ``users.info`` returns it."""
        profile: dict[str, Any] = {
            "real_name": self.real_name or self.name,
            "display_name": self.name,
        }
        if self.email is not None:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.real_name or self.name,
            "deleted": False,
            "is_bot": False,
            "profile": profile,
        }


@dataclass
class Call:
    """One request the double received.

    Attributes:
        method: The Web API method (``chat.postMessage``).
        params: The parameters, with JSON-valued ones (``blocks``, ``view``…) decoded.
        status: The HTTP status the double answered with.
        response: The JSON it answered (None for a dropped connection).
    """

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any] | None


@dataclass
class Message:
    """The current state of one posted message (``chat.update`` edits it in place).

    Attributes:
        channel: The channel id.
        ts: The message timestamp, its id within the channel.
        text: The fallback text.
        blocks: The Block Kit blocks.
        thread_ts: The parent's ts for a thread reply.
        metadata: The message metadata (``event_type``, ``event_payload``).
        edits: How many times ``chat.update`` changed it.
    """

    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    edits: int = 0

    def buttons(self) -> dict[str, dict[str, Any]]:
        """The message's buttons by ``action_id``, as a click would find them."""
        return {
            element["action_id"]: element
            for block in self.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("type") == "button"
        }

    def as_slack(self) -> dict[str, Any]:
        """The message object as Slack returns it."""
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": API_APP_ID,
            "team": TEAM_ID,
            "text": self.text,
            "ts": self.ts,
        }
        if self.blocks:
            message["blocks"] = self.blocks
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.metadata:
            message["metadata"] = self.metadata
        if self.edits:
            message["edited"] = {"user": BOT_USER_ID, "ts": self.ts}
        return message


@dataclass(frozen=True)
class Ephemeral:
    """An ephemeral message: seen only by ``user``, never stored in the channel."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    message_ts: str


@dataclass(frozen=True)
class _Fault:
    kind: Literal["ratelimited", "server_error", "disconnect", "error"]
    retry_after: int = 1
    error: str = ""


class DoubleError(Exception):
    """A Slack-shaped failure inside the double: answered as ``{"ok": false, "error": …}``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SlackDouble:
    """The Slack Web API, as far as the registry uses it, on a loopback port.

    Use it as an async context manager; point ``AsyncWebClient(base_url=…)`` at
    :attr:`base_url`.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        users: Iterable[SlackUser] = (),
        usergroups: Mapping[str, Iterable[str]] | None = None,
        channels: Mapping[str, str] | None = None,
    ) -> None:
        """Set up the workspace.

        Args:
            token: The one bot token the double accepts.
            users: The workspace's users.
            usergroups: User-group id to member user ids.
            channels: Channel name (without ``#``) to id; unknown names get an id the
                first time a message is posted to them.
        """
        self.token = token
        self.users: dict[str, SlackUser] = {user.id: user for user in users}
        self.usergroups: dict[str, list[str]] = {
            group: list(members) for group, members in (usergroups or {}).items()
        }
        self.channels: dict[str, str] = dict(channels or {})
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: list[dict[str, Any]] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._last_ts_micros = 0
        self._id_seq = itertools.count(1)
        self._dm_channels: dict[str, str] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ----- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> SlackDouble:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        address = self._runner.addresses[0]
        self._port = int(address[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """The API base URL in the form slack_sdk expects: ``http://127.0.0.1:PORT/api/``."""
        if self._port is None:
            raise RuntimeError("the Slack double is not running; use it with `async with`")
        return f"http://127.0.0.1:{self._port}/api/"

    # ----- faults on demand --------------------------------------------------------

    def rate_limit(self, method: str, *, times: int, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``Retry-After``."""
        self._add_faults(method, _Fault("ratelimited", retry_after), times)

    def server_error(self, method: str, *, times: int) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 500."""
        self._add_faults(method, _Fault("server_error"), times)

    def disconnect(self, method: str, *, times: int) -> None:
        """Drop the connection of the next ``times`` calls of ``method`` without answering."""
        self._add_faults(method, _Fault("disconnect"), times)

    def fail_with(self, method: str, error: str, *, times: int) -> None:
        """Answer the next ``times`` calls of ``method`` with ``{"ok": false, "error": error}``.

        For Slack's refusals that the double does not model itself, such as
        ``missing_scope`` (a token without the method's scope) or ``not_in_channel``.
        """
        self._add_faults(method, _Fault("error", error=error), times)

    def _add_faults(self, method: str, fault: _Fault, times: int) -> None:
        self._faults.setdefault(method, deque()).extend([fault] * times)

    # ----- what happened -----------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = False) -> list[Call]:
        """Every call of ``method`` in order; with ``ok_only``, the ones Slack accepted."""
        return [
            call
            for call in self.calls
            if call.method == method
            and (not ok_only or (call.response is not None and call.response.get("ok") is True))
        ]

    def channel_id(self, channel: str) -> str:
        """The id of a channel given by name (``#reviews``/``reviews``) or id."""
        return self._channel_id(channel, create=False)

    def messages_in(self, channel: str, *, replies: bool = False) -> list[Message]:
        """The channel's messages in posting order; thread replies only when asked."""
        channel_id = self.channels.get(channel.removeprefix("#"), channel)
        return [
            message
            for (where, _), message in sorted(self.messages.items(), key=lambda item: item[0][1])
            if where == channel_id and (replies or message.thread_ts is None)
        ]

    def replies_to(self, channel: str, ts: str) -> list[Message]:
        """The thread replies under the message ``ts``."""
        return [
            message
            for message in self.messages_in(channel, replies=True)
            if message.thread_ts == ts
        ]

    def ephemerals_for(self, user: str) -> list[Ephemeral]:
        """The ephemeral messages shown to ``user``, in order."""
        return [ephemeral for ephemeral in self.ephemerals if ephemeral.user == user]

    def dm_channel(self, user: str) -> str:
        """The DM channel id ``conversations.open`` gives for ``user``."""
        if user not in self._dm_channels:
            self._dm_channels[user] = f"D{next(self._id_seq):08d}"
        return self._dm_channels[user]

    # ----- HTTP --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _read_params(request)
        faults = self._faults.get(method)
        if faults:
            fault = faults.popleft()
            if fault.kind == "disconnect":
                self.calls.append(Call(method, params, 0, None))
                # Closing the transport mid-request is what a dropped connection looks
                # like to the client: it gets no status line at all.
                assert request.transport is not None
                request.transport.close()
                raise web.HTTPInternalServerError
            if fault.kind == "error":
                return self._answer(method, params, {"ok": False, "error": fault.error})
            if fault.kind == "ratelimited":
                return self._answer(
                    method,
                    params,
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(fault.retry_after)},
                )
            return self._answer(method, params, {"ok": False, "error": "internal_error"}, 500)
        token = _bearer(request) or str(params.pop("token", "") or "")
        if not token:
            return self._answer(method, params, {"ok": False, "error": "not_authed"})
        if not hmac.compare_digest(token, self.token):
            return self._answer(method, params, {"ok": False, "error": "invalid_auth"})
        handler = self._methods().get(method)
        if handler is None:
            return self._answer(method, params, {"ok": False, "error": "unknown_method"})
        try:
            body: dict[str, Any] = handler(params)
        except DoubleError as error:
            return self._answer(method, params, {"ok": False, "error": error.code})
        return self._answer(method, params, {"ok": True, **body})

    def _answer(
        self,
        method: str,
        params: dict[str, Any],
        body: dict[str, Any],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        self.calls.append(Call(method, params, status, body))
        return web.json_response(body, status=status, headers=headers)

    # ----- the methods -------------------------------------------------------------

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.open": self._conversations_open,
            "conversations.list": self._conversations_list,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
        }

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://agentreg-test.slack.com/",
            "team": "Agent Registry Test",
            "user": "agentreg",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(_required(params, "channel"), create=True)
        text, blocks = _content(params)
        thread_ts = params.get("thread_ts") or None
        if thread_ts and (channel, thread_ts) not in self.messages:
            raise DoubleError("thread_not_found")
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata=params.get("metadata") or None,
        )
        self.messages[(channel, message.ts)] = message
        return {"channel": channel, "ts": message.ts, "message": message.as_slack()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        # Like Slack, chat.update wants the channel id it got back from postMessage.
        channel = _required(params, "channel")
        ts = _required(params, "ts")
        message = self.messages.get((channel, ts))
        if message is None:
            raise DoubleError(
                "channel_not_found"
                if channel not in self._known_channel_ids()
                else "message_not_found"
            )
        if "text" in params:
            message.text = str(params["text"])
        if "blocks" in params:
            message.blocks = list(params["blocks"] or [])
        if not message.text and not message.blocks:
            raise DoubleError("no_text")
        if "metadata" in params:
            message.metadata = params["metadata"] or None
        message.edits += 1
        return {
            "channel": channel,
            "ts": ts,
            "text": message.text,
            "message": message.as_slack(),
        }

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(_required(params, "channel"), create=True)
        user = _required(params, "user")
        if user not in self.users:
            raise DoubleError("user_not_in_channel")
        text, blocks = _content(params)
        message_ts = self._next_ts()
        self.ephemerals.append(Ephemeral(channel, user, text, blocks, message_ts))
        return {"message_ts": message_ts}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        _required(params, "trigger_id")
        view = params.get("view")
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise DoubleError("invalid_arguments")
        opened = {
            "id": f"V{next(self._id_seq):08d}",
            "team_id": TEAM_ID,
            "app_id": API_APP_ID,
            "bot_id": BOT_ID,
            "hash": uuid.uuid4().hex,
            "state": {"values": {}},
            **view,
        }
        self.views.append(opened)
        return {"view": opened}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(_required(params, "user"))
        if user is None:
            raise DoubleError("user_not_found")
        return {"user": user.as_slack()}

    def _users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = _required(params, "email").casefold()
        for user in self.users.values():
            if user.email is not None and user.email.casefold() == email:
                return {"user": user.as_slack()}
        raise DoubleError("users_not_found")

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        members = self.usergroups.get(_required(params, "usergroup"))
        if members is None:
            raise DoubleError("no_such_subteam")
        return {"users": list(members)}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            return {"channel": {"id": str(params["channel"])}, "already_open": True}
        users = [u for u in str(_required(params, "users")).split(",") if u]
        unknown = [u for u in users if u not in self.users]
        if unknown:
            raise DoubleError("user_not_found")
        if len(users) != 1:
            raise DoubleError("not_implemented")  # group DMs: not used by the registry
        return {"channel": {"id": self.dm_channel(users[0])}}

    def _conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        # Membership is not modelled: joining a known channel succeeds (``fail_with``
        # plays a refusal such as missing_scope or method_not_supported_for_channel_type).
        channel = self._conversation(params)
        return {"channel": {"id": channel}}

    def _conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        # The workspace's channels (DMs are not listed for these types), one page.
        listed = [{"id": id_, "name": name} for name, id_ in sorted(self.channels.items())]
        return _page("channels", listed, params, default_limit=100)

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        # Like Slack: the channel's id only (a name is channel_not_found), newest first,
        # top-level messages only, metadata only with include_all_metadata.
        channel = self._conversation(params)
        messages = [
            message
            for (where, _), message in self.messages.items()
            if where == channel and message.thread_ts is None and _in_window(message.ts, params)
        ]
        messages.sort(key=lambda message: float(message.ts), reverse=True)
        return _page("messages", _as_read(messages, params), params, default_limit=100)

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        # Like Slack: the parent first, then its replies oldest first; the window applies
        # to the replies.
        channel = self._conversation(params)
        ts = _required(params, "ts")
        parent = self.messages.get((channel, ts))
        if parent is None:
            raise DoubleError("thread_not_found")
        replies = sorted(
            (
                message
                for (where, _), message in self.messages.items()
                if where == channel and message.thread_ts == ts and _in_window(message.ts, params)
            ),
            key=lambda message: float(message.ts),
        )
        return _page("messages", _as_read([parent, *replies], params), params, default_limit=1000)

    def _conversation(self, params: dict[str, Any]) -> str:
        channel = _required(params, "channel")
        if channel not in self._known_channel_ids():
            raise DoubleError("channel_not_found")
        return channel

    # ----- helpers -----------------------------------------------------------------

    def _next_ts(self) -> str:
        # Like Slack's ``1732460000.000100``: the posting time, unique and only growing
        # (reading history back by ``oldest`` depends on it being the real time).
        micros = max(time.time_ns() // 1000, self._last_ts_micros + 100)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _known_channel_ids(self) -> set[str]:
        return {*self.channels.values(), *self._dm_channels.values()}

    def _channel_id(self, channel: str, *, create: bool) -> str:
        if channel in self._known_channel_ids():
            return channel
        name = channel.removeprefix("#")
        if name in self.channels:
            return self.channels[name]
        if channel.startswith("#") or not channel[:1].isupper():
            if not create:
                raise KeyError(f"no channel {channel} in the Slack double")
            self.channels[name] = f"C{next(self._id_seq):08d}"
            return self.channels[name]
        # An id we never handed out: Slack says the same.
        if create:
            raise DoubleError("channel_not_found")
        raise KeyError(f"no channel {channel} in the Slack double")


def slack_settings(settings: Settings, double: SlackDouble) -> Settings:
    """``settings`` whose worker posts to ``double``, with the bot token it accepts."""
    return settings.model_copy(
        update={"slack_bot_token": SecretStr(DEFAULT_TOKEN), "slack_api_url": double.base_url}
    )


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus body (form-encoded or JSON), JSON-valued fields decoded."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        raw = await request.text()
        if request.content_type == "application/json":
            decoded = json.loads(raw) if raw else {}
            if isinstance(decoded, dict):
                params.update(decoded)
        elif raw:
            params.update(parse_qsl(raw, keep_blank_values=True))
    for name in JSON_PARAMS:
        value = params.get(name)
        if isinstance(value, str) and value:
            # Undecodable JSON is left as sent; the method rejects it like Slack would.
            with contextlib.suppress(json.JSONDecodeError):
                params[name] = json.loads(value)
    return params


def _required(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise DoubleError("invalid_arguments")
    return str(value)


def _truthy(value: Any) -> bool:
    return str(value).lower() in {"1", "true"}


def _in_window(ts: str, params: Mapping[str, Any]) -> bool:
    """Whether ``ts`` lies between ``oldest`` and ``latest`` (bounds exclusive by default)."""
    inclusive = _truthy(params.get("inclusive", False))
    value = float(ts)
    oldest = float(params.get("oldest") or 0)
    latest = float(params["latest"]) if params.get("latest") else None
    if value < oldest or (value == oldest and not inclusive and oldest):
        return False
    return latest is None or value < latest or (value == latest and inclusive)


def _as_read(messages: list[Message], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Messages as the history methods return them: metadata only when asked for."""
    with_metadata = _truthy(params.get("include_all_metadata", False))
    read = []
    for message in messages:
        shown = message.as_slack()
        if not with_metadata:
            shown.pop("metadata", None)
        read.append(shown)
    return read


def _page(
    key: str, items: list[dict[str, Any]], params: Mapping[str, Any], *, default_limit: int
) -> dict[str, Any]:
    """One page of ``items`` by ``limit`` and ``cursor`` (an offset, opaque to the client)."""
    limit = int(params.get("limit") or default_limit)
    start = int(params.get("cursor") or 0)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return {
        key: page,
        "has_more": more,
        "response_metadata": {"next_cursor": str(start + limit) if more else ""},
    }


def _content(params: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    text = str(params.get("text") or "")
    blocks = params.get("blocks") or []
    if not isinstance(blocks, list):
        raise DoubleError("invalid_blocks")
    if not text and not blocks and not params.get("attachments"):
        raise DoubleError("no_text")
    return text, blocks


# ----- interaction requests, as Slack sends them to an app -----------------------------


def sign(
    body: str, *, signing_secret: str = DEFAULT_SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack adds to a request it sends to an app.

    Args:
        body: The exact request body.
        signing_secret: The app's signing secret.
        timestamp: Seconds since the epoch; now by default (tests pass an old one).

    Returns:
        ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` (``v0=`` + the hex
        HMAC-SHA256 of ``v0:{timestamp}:{body}``), and the form content type.
    """
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(
        signing_secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def form_body(payload: Mapping[str, Any]) -> str:
    """An interaction payload as Slack posts it: ``payload=<url-encoded JSON>``."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def _user(user: SlackUser) -> dict[str, str]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}


def block_actions_payload(
    *,
    user: SlackUser,
    action_id: str,
    value: str,
    channel_id: str,
    message_ts: str,
    block_id: str = "review_actions",
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a button click on a message.

    Args:
        user: Who clicked.
        action_id: The button's ``action_id``.
        value: The button's ``value``.
        channel_id: The channel of the message.
        message_ts: The message's ts.
        block_id: The actions block's id.
        trigger_id: The trigger for ``views.open``; a fresh one by default.

    Returns:
        The payload, as the JSON Slack sends (HTTP) or delivers over Socket Mode.
    """
    now = f"{time.time():.6f}"
    return {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or f"{next(_trigger_seq)}.{TEAM_ID[1:]}.{uuid.uuid4().hex}",
        "team": {"id": TEAM_ID, "domain": "agentreg-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "agent-registry-reviews"},
        "message": {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": message_ts,
            "text": "review request",
        },
        "state": {"values": {}},
        "response_url": (
            f"https://hooks.slack.com/actions/{TEAM_ID}/{next(_trigger_seq)}/{uuid.uuid4().hex}"
        ),
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": action_id, "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": now,
            }
        ],
    }


def view_submission_payload(
    *,
    user: SlackUser,
    private_metadata: str,
    reason: str | None,
    callback_id: str = REASON_MODAL_CALLBACK,
) -> dict[str, Any]:
    """A ``view_submission`` payload for the reason modal.

    Args:
        user: Who submitted.
        private_metadata: The modal's ``private_metadata`` as the app set it.
        reason: What the user typed; None when the field was left empty (Slack then
            sends ``"value": null``).
        callback_id: The modal's ``callback_id``.

    Returns:
        The payload.
    """
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "agentreg-test"},
        "user": _user(user),
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "trigger_id": f"{next(_trigger_seq)}.{TEAM_ID[1:]}.{uuid.uuid4().hex}",
        "view": {
            "id": f"V{next(_trigger_seq):08d}",
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "title": {"type": "plain_text", "text": "Reason"},
            "blocks": [],
            "state": {
                "values": {
                    REASON_BLOCK: {REASON_INPUT: {"type": "plain_text_input", "value": reason}}
                }
            },
            "hash": uuid.uuid4().hex,
            "app_id": API_APP_ID,
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
