"""Property tests: hostile input gets documented findings, never a crash or a hang.

Asset files (SKILL.md, a subagent ``.md``, ``server.json``, ``scope.yaml``, the
``agentreg.yaml`` sidecar) are read from people's machines and from stored bundles;
Slack interaction payloads are whatever reaches the endpoint. For arbitrary text and
bytes the parsers must answer with ``spec.*`` / ``bundle.*`` / ``load.*`` /
``metadata.*`` findings or the documented :class:`ProblemsError` subclasses; for
arbitrary JSON shapes the Slack app's payload reading and its listeners must not raise.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from agent_registry.assets.bundle import SIDECAR_NAME, Bundle, BundleFile, BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.frontmatter import (
    parse_frontmatter,
    parse_json_object,
    parse_yaml_mapping,
)
from agent_registry.assets.kinds import SCOPE_FILE, SERVER_FILE, SKILL_FILE
from agent_registry.assets.loader import AssetLoadError, load_path, parse_asset
from agent_registry.assets.refs import AssetKind
from agent_registry.cli.serve import EVENTS_PATH, start_http
from agent_registry.policy.loader import load_policy
from agent_registry.slack import app as slack_app
from agent_registry.slack.actions import (
    APPROVE_ACTION,
    ATTEST_ACTION,
    DEPRECATE_ACTION,
    DEPRECATE_MODAL_CALLBACK,
    REASON_MODAL_CALLBACK,
    REJECT_ACTION,
    REQUEST_CHANGES_ACTION,
)
from agent_registry.slack.app import InteractionHandlers, build_app
from agent_registry.slack.client import make_web_client
from agent_registry.vocabulary.findings import Finding, Severity
from tests.slack_double import (
    DEFAULT_SIGNING_SECRET,
    DEFAULT_TOKEN,
    SlackDouble,
    SlackUser,
    sign,
)
from tests.support import POLICIES, make_settings

EXAMPLES = 200
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=2000,  # milliseconds per example: a parser that loops is a failure here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
DOCUMENTED_CHECK = re.compile(r"^(spec|bundle|load|metadata)\.[a-z0-9-]+$")


def _documented(problems: list[Finding]) -> None:
    for problem in problems:
        assert isinstance(problem, Finding)
        assert DOCUMENTED_CHECK.match(problem.check_id), problem
        assert isinstance(problem.severity, Severity)
        assert problem.message.strip(), problem


# ----- strategies -------------------------------------------------------------------------

_YAML_BITS = st.sampled_from(
    [
        "---\n",
        "name: x\n",
        "description: d\n",
        "tools: Read, Bash\n",
        "metadata:\n  a: 1\n",
        "&a [*a]\n",
        "<<: *x\n",
        "!!python/object:os.system\n",
        "? [1, 2]\n: v\n",
        "{",
        "}",
        "[",
        "- ",
        ":",
        "\t",
        "'",
        '"',
        "\\",
        "%YAML 1.1\n",
        "!!binary AAAA\n",
        "1e999999\n",
        "\ufeff",
        "\x00",
        "\r",
        "\u2028",
        "name: ",
        "a" * 70,
    ]
)
yamlish = st.one_of(st.text(), st.lists(st.one_of(_YAML_BITS, st.text(max_size=8))).map("".join))
"""Arbitrary text, and text built from YAML's sharp edges."""

markdown = st.one_of(
    st.text(),
    st.builds(lambda head, body: f"---\n{head}\n---\n{body}", yamlish, st.text()),
)
_JSON_BITS = st.sampled_from(
    ['{"name": "io.github.x/y"', "}", "[", "]", ",", ":", '"', "1e400", "NaN", "{" * 50, "\\u0000"]
)
jsonish = st.one_of(
    st.text(),
    st.lists(st.one_of(_JSON_BITS, st.text(max_size=6))).map("".join),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    ).map(json.dumps),
)
raw = st.one_of(
    st.binary(max_size=2048), st.text().map(lambda t: t.encode("utf-8", "surrogatepass"))
)


def _encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


file_bytes = st.one_of(raw, yamlish.map(_encoded))

# ----- the frontmatter parser -------------------------------------------------------------


@FUZZ
@given(markdown)
def test_frontmatter_parser_answers_any_text_with_findings(text: str) -> None:
    result = parse_frontmatter(text, file="SKILL.md")
    _documented(result.problems)


@FUZZ
@given(yamlish)
def test_yaml_mapping_parser_answers_any_text_with_findings(text: str) -> None:
    result = parse_yaml_mapping(text, file=SCOPE_FILE, field_prefix="scope")
    _documented(result.problems)


@FUZZ
@given(jsonish)
def test_json_object_parser_answers_any_text_with_findings(text: str) -> None:
    result = parse_json_object(text, file=SERVER_FILE)
    _documented(result.problems)


# ----- whole assets, as workers parse stored bundles --------------------------------------


@FUZZ
@given(file_bytes, st.booleans())
def test_any_skill_md_parses_to_findings(data: bytes, executable: bool) -> None:
    bundle = Bundle(
        root_name="fuzzed-skill", files=(BundleFile(SKILL_FILE, data, executable=executable),)
    )
    _documented(parse_asset(bundle, AssetKind.SKILL).problems)


@FUZZ
@given(st.one_of(raw, markdown.map(_encoded)))
def test_any_subagent_file_parses_to_findings(data: bytes) -> None:
    bundle = Bundle(root_name="fuzzed.md", files=(BundleFile("fuzzed.md", data),), single_file=True)
    _documented(parse_asset(bundle, AssetKind.SUBAGENT).problems)


@FUZZ
@given(st.one_of(raw, jsonish.map(_encoded)), file_bytes)
def test_any_mcp_server_parses_to_findings(server: bytes, scope: bytes) -> None:
    bundle = Bundle(
        root_name="fuzzed-server",
        files=(BundleFile(SCOPE_FILE, scope), BundleFile(SERVER_FILE, server)),
    )
    _documented(parse_asset(bundle, AssetKind.MCP_SERVER).problems)


# ----- from disk, sidecar included, as ``agentreg submit`` loads ---------------------------


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """One folder for the module; hypothesis examples cannot take function fixtures."""
    folder = Path(tempfile.mkdtemp(prefix="agentreg-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _fresh(scratch: Path) -> Path:
    target = scratch / "case"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    return target


LIMITS = BundleLimits()


def _load(path: Path) -> None:
    """``load_path``: findings, or one of the two documented errors."""
    refused: AssetLoadError | BundleError | None = None
    try:
        problems = load_path(path, limits=LIMITS).problems
    except (AssetLoadError, BundleError) as error:
        refused = error
        problems = error.problems
    if refused is not None:
        assert problems and str(refused)
    _documented(problems)


@FUZZ
@given(file_bytes, file_bytes)
def test_a_skill_folder_with_any_skill_md_and_sidecar_loads_or_is_refused(
    scratch: Path, skill: bytes, sidecar: bytes
) -> None:
    folder = _fresh(scratch) / "fuzzed-skill"
    folder.mkdir()
    (folder / SKILL_FILE).write_bytes(skill)
    (folder / SIDECAR_NAME).write_bytes(sidecar)
    _load(folder)


@FUZZ
@given(st.one_of(raw, markdown.map(_encoded)), file_bytes)
def test_a_subagent_file_with_any_sidecar_loads_or_is_refused(
    scratch: Path, agent: bytes, sidecar: bytes
) -> None:
    folder = _fresh(scratch)
    (folder / "fuzzed.md").write_bytes(agent)
    (folder / "fuzzed.agentreg.yaml").write_bytes(sidecar)
    _load(folder / "fuzzed.md")


@FUZZ
@given(st.one_of(raw, jsonish.map(_encoded)), file_bytes, file_bytes)
def test_an_mcp_server_folder_with_any_files_loads_or_is_refused(
    scratch: Path, server: bytes, scope: bytes, sidecar: bytes
) -> None:
    folder = _fresh(scratch) / "fuzzed-server"
    folder.mkdir()
    (folder / SERVER_FILE).write_bytes(server)
    (folder / SCOPE_FILE).write_bytes(scope)
    (folder / SIDECAR_NAME).write_bytes(sidecar)
    _load(folder)


# ----- Slack interaction payloads ---------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=25,
)
_REF = st.sampled_from(
    ["skill/release-notes@1.0.0", "subagent/code-reviewer@1.0.0-x", "", "not a ref", "a/b@c"]
)
_ACTION_IDS = st.sampled_from(
    [
        APPROVE_ACTION,
        REJECT_ACTION,
        REQUEST_CHANGES_ACTION,
        ATTEST_ACTION,
        DEPRECATE_ACTION,
        "unknown",
    ]
)
_METADATA = st.one_of(
    st.text(max_size=40),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"ref": _REF, "channel": st.text(max_size=8), "message_ts": st.text(max_size=8)},
        optional={"decision": st.one_of(st.sampled_from(["reject", "approve", "x"]), json_values)},
    ).map(json.dumps),
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, json_values)


_ACTION = st.fixed_dictionaries(
    {},
    optional={"action_id": _maybe(_ACTION_IDS), "value": _maybe(_REF), "type": json_values},
)
_VIEW = st.fixed_dictionaries(
    {},
    optional={
        "callback_id": _maybe(st.sampled_from([REASON_MODAL_CALLBACK, DEPRECATE_MODAL_CALLBACK])),
        "private_metadata": _maybe(_METADATA),
        "state": _maybe(
            st.fixed_dictionaries(
                {
                    "values": st.dictionaries(
                        st.text(max_size=12),
                        _maybe(st.dictionaries(st.text(max_size=12), json_values)),
                    )
                }
            )
        ),
    },
)
slack_payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["block_actions", "view_submission", "x"])},
        optional={
            "user": _maybe(st.fixed_dictionaries({"id": _maybe(st.sampled_from(["U0CAROL", ""]))})),
            "container": _maybe(
                st.fixed_dictionaries(
                    {
                        "channel_id": _maybe(st.text(max_size=8)),
                        "message_ts": _maybe(st.text(max_size=8)),
                    }
                )
            ),
            "channel": _maybe(st.fixed_dictionaries({"id": _maybe(st.text(max_size=8))})),
            "message": _maybe(st.fixed_dictionaries({"ts": _maybe(st.text(max_size=8))})),
            "actions": _maybe(st.lists(_maybe(_ACTION), max_size=3)),
            "trigger_id": json_values,
            "view": _maybe(_VIEW),
        },
    ),
)
"""Anything JSON, and Slack-shaped payloads whose every field may be the wrong type."""


@FUZZ
@given(slack_payloads)
def test_payload_reading_never_raises(payload: Any) -> None:
    body = payload if isinstance(payload, dict) else {"payload": payload}
    click = slack_app._click_from_action(body, "approve")
    if click is not None:
        assert click.user_id and click.channel and click.message_ts
        assert isinstance(click.ref_text, str) and click.update_id.startswith("slack/approve/")
    view = slack_app._mapping(body, "view")
    for shape in (slack_app.ReasonContext, slack_app.MessageContext):
        context = slack_app._modal_context(view, shape)
        if context is not None:
            made = slack_app._click_from_view(body, context, "deprecate")
            assert made.ref_text == context.ref
    assert isinstance(slack_app._input_value(view, "a", "b"), str)
    assert isinstance(slack_app._first_action(body), Mapping)


class _RecordingSlack(AsyncWebClient):
    """A Web API client that answers every call ``ok`` from here, recording it."""

    def __init__(self) -> None:
        super().__init__(token=DEFAULT_TOKEN)
        self.called: list[str] = []

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        self.called.append(api_method)
        data: dict[str, Any] = {"ok": True}
        if api_method == "users.info":
            data["user"] = {
                "id": "U0CAROL",
                "name": "carol",
                "deleted": False,
                "is_bot": False,
                "profile": {"email": "carol@example.com", "real_name": "Carol"},
            }
        if api_method == "usergroups.users.list":
            data["users"] = ["U0CAROL"]
        return AsyncSlackResponse(
            client=self,
            http_verb="POST",
            api_url=api_method,
            req_args={},
            data=data,
            headers={},
            status_code=200,
        )


class _NoLifecycle:
    """A workflow handle whose workflow was never started."""

    async def execute_update(self, *args: Any, **kwargs: Any) -> Any:
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")

    async def describe(self) -> Any:
        raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")


class _NoTemporal:
    def get_workflow_handle(self, *args: Any, **kwargs: Any) -> _NoLifecycle:
        return _NoLifecycle()


POLICY = load_policy(POLICIES / "slack_reviewers.toml")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CAROL = SlackUser("U0CAROL", "carol", "carol@example.com", "Carol Reviewer")

Listener = Callable[[AsyncAck, dict[str, Any], AsyncWebClient], Awaitable[None]]


def _ack_into(acknowledged: list[dict[str, Any]]) -> AsyncAck:
    async def ack(**kwargs: Any) -> None:
        acknowledged.append(kwargs)

    return cast(AsyncAck, ack)


async def _every_listener(body: dict[str, Any]) -> list[str]:
    handlers = InteractionHandlers(
        temporal=cast(Client, _NoTemporal()), policy_loader=lambda: POLICY
    )
    listeners: list[Listener] = [
        handlers.on_approve,
        handlers.on_reason_button,
        handlers.on_reason_submitted,
        handlers.on_attest,
        handlers.on_deprecate_button,
        handlers.on_deprecate_submitted,
    ]
    acks: list[str] = []
    for listener in listeners:
        acknowledged: list[dict[str, Any]] = []
        await listener(_ack_into(acknowledged), body, _RecordingSlack())
        assert len(acknowledged) == 1, listener  # every request is acknowledged, once
        acks.append(listener.__name__)
    return acks


@FUZZ
@given(slack_payloads.filter(lambda p: isinstance(p, dict)))
def test_every_listener_survives_any_payload_shape(payload: dict[str, Any]) -> None:
    assert len(asyncio.run(_every_listener(payload))) == 6


async def _post(body: str, *, signed: bool) -> tuple[int, list[BaseException]]:
    """POST ``body`` to the app served as ``agentreg serve`` serves it."""
    failures: list[BaseException] = []

    async def record(error: BaseException) -> None:
        failures.append(error)

    async with SlackDouble(users=[CAROL], usergroups={"S0REVIEWERS": [CAROL.id]}) as double:
        configured = make_settings(Path(tempfile.gettempdir()), "sqlite://").model_copy(
            update={
                "slack_bot_token": SecretStr(DEFAULT_TOKEN),
                "slack_signing_secret": SecretStr(DEFAULT_SIGNING_SECRET),
                "slack_api_url": double.base_url,
            }
        )
        web_client = make_web_client(configured)
        assert web_client is not None
        app = build_app(
            settings=configured,
            temporal=cast(Client, _NoTemporal()),
            policy_loader=lambda: POLICY,
            web_client=web_client,
        )
        app.error(record)
        runner = await start_http(app, host="127.0.0.1", port=0)
        try:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    url, data=body.encode(), headers=sign(body) if signed else FORM
                ) as response,
            ):
                status = response.status
            me = asyncio.current_task()
            listeners = [task for task in asyncio.all_tasks() if task is not me]
            await asyncio.wait_for(asyncio.gather(*listeners, return_exceptions=True), timeout=5)
        finally:
            await runner.cleanup()
    return status, failures


def _ours(error: BaseException) -> bool:
    """Whether ``error`` was raised in the registry's own code (not in Bolt's)."""
    frames = traceback.extract_tb(error.__traceback__)
    return any(f"{os.sep}agent_registry{os.sep}" in frame.filename for frame in frames)


@FUZZ
@given(slack_payloads)
def test_the_served_app_answers_any_signed_payload_without_a_crash(payload: Any) -> None:
    body = urlencode({"payload": json.dumps(payload)})
    status, failures = asyncio.run(_post(body, signed=True))
    assert not any(_ours(error) for error in failures), failures
    # Bolt itself cannot dispatch some signed payloads (e.g. "view": null on a
    # block_actions): it answers 500 through its error handler, outside the registry.
    assert status < 500 or failures, status


@FUZZ
@given(st.one_of(slack_payloads.map(json.dumps), st.text()))
def test_an_unsigned_body_is_refused_whatever_it_holds(payload: str) -> None:
    body = urlencode({"payload": payload})
    status, failures = asyncio.run(_post(body, signed=False))
    assert status in {400, 401}, status
    assert failures == []
