"""``POST /api/v1/mcp-watches``: set up the scheduled import of chosen MCP servers.

A watch is a Temporal Schedule that submits each new upstream version of the watched
servers for review. Setting one up is a write like a submission: it decides who the
scheduled submissions are attributed to. So it goes through the front door too: the
server resolves the caller (:func:`~agent_registry.identity.http.require_principal`),
creates or updates the Schedule itself, and records that principal in the Schedule's
input. Users hold no Temporal credentials; the submissions the worker makes are the
verified watcher's, machine-authored when the watcher is a machine.

The worker reads the upstream from inside the organization's network, so the route
takes only an upstream the platform team listed (``AGENT_REGISTRY_MCP_UPSTREAMS``) and
only from a member of the policy's ``platform`` group; anything else is a 403.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from agent_registry.api.bodies import read_json, validate
from agent_registry.api.context import SETTINGS
from agent_registry.api.endpoint import (
    Content,
    Endpoint,
    Reply,
    add_endpoints,
    error_reply,
    model_reply,
)
from agent_registry.api.errors import ApiError
from agent_registry.api.writes import GATEWAY, MAX_JSON_BYTES
from agent_registry.config import Settings
from agent_registry.identity.http import require_principal
from agent_registry.mcp_registry.allowed_upstreams import UpstreamNotAllowedError, check_upstream
from agent_registry.mcp_registry.contract import MCP_IMPORT_WORKFLOW, McpImportInput, schedule_id
from agent_registry.policy.loader import PolicyError, load_policy
from agent_registry.vocabulary.principal import Principal, one_line
from agent_registry.wire.paths import API_PREFIX

MCP_WATCHES_PATH = f"{API_PREFIX}/mcp-watches"

WATCH_GROUP = "platform"
"""The policy group whose members may set up watches."""

MIN_EVERY_SECONDS = 60
"""An upstream registry is asked at most once a minute per watch."""

MAX_EVERY_SECONDS = 366 * 24 * 3600
MAX_NAMES = 100


class WatchBody(BaseModel):
    """What to watch, where and how often; never who is asking (the credential says)."""

    model_config = ConfigDict(extra="forbid")
    upstream: str = Field(max_length=2000, description="The upstream registry's base URL.")
    names: list[str] = Field(min_length=1, max_length=MAX_NAMES)
    team: str | None = Field(default=None, max_length=200)
    every_seconds: int = Field(ge=MIN_EVERY_SECONDS, le=MAX_EVERY_SECONDS)

    @field_validator("upstream")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("names")
    @classmethod
    def _server_names(cls, values: list[str]) -> list[str]:
        for value in values:
            if not 3 <= len(value) <= 200 or value.count("/") != 1 or value != value.strip():
                raise ValueError(f"{value!r} is not an MCP server name (namespace/name)")
        return values


class WatchReply(BaseModel):
    """The schedule set up, and the principal its submissions are attributed to."""

    schedule_id: str
    names: list[str]
    every_seconds: int
    principal: str
    identity: str = Field(description="`verified`, or `unverified` in local mode.")


async def watch(request: web.Request) -> web.StreamResponse:
    """Create or update the watch's Schedule, recording the caller as its submitter."""
    principal = await require_principal(request)
    settings = request.app[SETTINGS]
    await asyncio.to_thread(_require_watcher, settings, principal)
    body = validate(await read_json(request, max_bytes=MAX_JSON_BYTES), WatchBody, what="the watch")
    try:
        upstream = check_upstream(body.upstream, settings.mcp_upstreams)
    except UpstreamNotAllowedError as error:
        raise ApiError(403, str(error)) from None
    names = sorted(set(body.names))
    import_input = McpImportInput(
        upstream=upstream,
        names=names,
        team=body.team,
        submitter=principal.email,
        principal=principal,
    )
    client = await request.app[GATEWAY].client()
    every = timedelta(seconds=body.every_seconds)
    sid = await watch_schedule(client, settings, import_input, every=every)
    return model_reply(
        WatchReply(
            schedule_id=sid,
            names=names,
            every_seconds=body.every_seconds,
            principal=principal.email,
            identity="verified" if principal.verified else "unverified",
        )
    )


def _require_watcher(settings: Settings, principal: Principal) -> None:
    """Refuse (403) a caller outside the policy's ``platform`` group.

    A watch makes the worker read an upstream and submit on the watcher's behalf for as
    long as the schedule lives: it is the platform team's to set, like the upstreams.

    Raises:
        ApiError: 403 when the caller is not a member, or the policy cannot be read.
    """
    try:
        policy = load_policy(settings.policy)
    except PolicyError:
        raise ApiError(403, "the policy cannot be read to check who may watch") from None
    if not policy.is_member(principal.email, WATCH_GROUP, verified_groups=principal.groups):
        raise ApiError(
            403,
            f"{one_line(principal.email)} is not in the policy's "
            f"'{WATCH_GROUP}' group, whose members set up MCP watches",
        )


async def watch_schedule(
    client: Client, settings: Settings, request: McpImportInput, *, every: timedelta
) -> str:
    """Create (or update) the schedule importing new versions of ``request.names``.

    The same upstream and servers give the same schedule: setting a watch up again
    replaces its interval, team and watcher.

    Returns:
        The schedule id.
    """
    sid = schedule_id(request.upstream, request.names)
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            MCP_IMPORT_WORKFLOW,
            request,
            id=f"{sid}/run",
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(sid, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(sid).update(replace)
    return sid


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        MCP_WATCHES_PATH,
        MCP_WATCHES_PATH,
        watch,
        "watchMcpServers",
        "Watch MCP servers upstream and submit their new versions",
        "Creates or updates the Temporal Schedule of the scheduled import; its "
        "submissions are the caller's, machine-authored when the caller is a machine. "
        "The caller is the principal of the `Authorization: Bearer` token (OIDC), or in "
        "local mode the `X-Agent-Registry-As` email of a loopback client, marked unverified.",
        tags=("writes",),
        body=Content(WatchBody),
        replies=(
            Reply(200, "The schedule, and whose its submissions are.", Content(WatchReply)),
            error_reply(400, "The body is not valid; the error names the field."),
            error_reply(401, "No credential, or one that does not verify (one line)."),
            error_reply(
                403,
                "Refused: local mode from another machine; a caller outside the policy's "
                "`platform` group; or an upstream that is not one of the allowed MCP "
                "registries (`AGENT_REGISTRY_MCP_UPSTREAMS`), which the line names.",
            ),
        ),
    ),
)


def add_routes(app: web.Application) -> None:
    """Add the watch route; needs the write routes' gateway (:func:`writes.add_routes`)."""
    add_endpoints(app, ENDPOINTS)
