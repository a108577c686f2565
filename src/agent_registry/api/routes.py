"""The catalog's JSON routes under ``/api/v1``: search, versions, bundles, telemetry, report.

Every read goes through the application's
:class:`~agent_registry.catalog.models.CatalogSource`. Catalog calls block (a database
round trip, a bundle read), so each runs in a worker thread: the event loop stays free
for the Slack endpoint, which must acknowledge a click within three seconds whatever a
slow report is doing.

An asset version's URL is its ref: ``/api/v1/assets/skill/pdf-report@1.2.0``, and
``/api/v1/assets/mcp-server/io.github.acme/tickets@1.0.0`` for an MCP server, whose
name holds a ``/``. Names never hold ``@``, so the two routes cannot be confused.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import TypeVar

from aiohttp import hdrs, web

from agent_registry.api.access import (
    PUBLIC_STAGES,
    require_bundle_reader,
    require_version_reader,
)
from agent_registry.api.bodies import (
    read_bytes,
    read_json,
    require_aware,
    validate,
    validate_list,
)
from agent_registry.api.context import CATALOG, SETTINGS
from agent_registry.api.endpoint import (
    Content,
    Endpoint,
    Reply,
    add_endpoints,
    error_reply,
    model_reply,
)
from agent_registry.api.errors import ApiError, bad_parameter
from agent_registry.api.params import ChoiceParam, IntParam, Param, PatternParam, TextParam
from agent_registry.api.quotas import (
    INSTALL_EVENTS,
    QUOTAS,
    STAGING_BYTES,
    USAGE_EVENTS,
    QuotaBook,
)
from agent_registry.api.telemetry_fields import check_install, check_usage
from agent_registry.api.trust_routes import TRUST_ENDPOINTS
from agent_registry.assets.bundle_problems import InvalidBundleError
from agent_registry.assets.refs import (
    AssetKind,
    AssetRef,
    InvalidRefError,
    is_semver,
    parse_unversioned,
)
from agent_registry.catalog.models import (
    MAX_PAGE_SIZE,
    InstallEvent,
    OrgReport,
    Page,
    SearchHit,
    SearchQuery,
    UsageEvent,
    VersionDetail,
)
from agent_registry.identity.http import require_principal
from agent_registry.lifecycle.stages import Stage
from agent_registry.wire.limits import (
    MAX_INSTALL_BODY_BYTES,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_TEXT_PARAM_CHARS,
    MAX_USAGE_BATCH,
    MAX_USAGE_BODY_BYTES,
)
from agent_registry.wire.paths import (
    ASSETS_PATH,
    BUNDLE_MEDIA_TYPE,
    BUNDLES_PATH,
    INSTALLS_PATH,
    REPORT_PATH,
    SEARCH_PATH,
    USAGE_PATH,
)
from agent_registry.wire.schemas import Recorded, Staged

T = TypeVar("T")

IMMUTABLE = "public, max-age=31536000, immutable"
"""A bundle's bytes never change for its hash, so anything may keep them for a year."""

_KINDS = tuple(kind.value for kind in AssetKind)

# ----- parameters -------------------------------------------------------------------

Q = TextParam(
    "q",
    "Words to look for in names and descriptions; without it, everything matches.",
    max_chars=MAX_QUERY_CHARS,
)
KIND = ChoiceParam("kind", "Only this kind of asset.", choices=_KINDS)
TEAM = TextParam("team", "Only assets this team owns.", max_chars=MAX_TEXT_PARAM_CHARS)
STAGE = ChoiceParam(
    "stage",
    "Only versions in this lifecycle stage. Without it: what may be installed "
    "(published, re-certifying and deprecated; the latest of each asset).",
    choices=tuple(stage.value for stage in Stage),
)
LIMIT = IntParam(
    "limit", "The page size.", default=SearchQuery().limit, minimum=1, maximum=MAX_PAGE_SIZE
)
OFFSET = IntParam(
    "offset", "How many matches to skip (the previous page's next_offset).", maximum=MAX_OFFSET
)
ASSET_KIND = ChoiceParam("kind", "The asset kind.", where="path", choices=_KINDS)
ASSET_NAME = TextParam(
    "name",
    "The asset name. An MCP server's is namespace/name: send its '/' as it is or as %2F.",
    where="path",
    max_chars=MAX_TEXT_PARAM_CHARS,
)
ASSET_VERSION = TextParam(
    "version",
    "The exact semantic version, e.g. 1.2.0.",
    where="path",
    max_chars=MAX_TEXT_PARAM_CHARS,
)
CONTENT_HASH = PatternParam(
    "content_hash",
    "The bundle's content hash: sha256 of its canonical archive.",
    where="path",
    pattern="^[0-9a-f]{64}$",
    expected="a content hash: 64 lowercase hexadecimal digits",
)

# ----- handlers ---------------------------------------------------------------------


async def _blocking(call: Callable[..., T], *args: object) -> T:
    """Run a catalog call in a worker thread, keeping the event loop free."""
    return await asyncio.to_thread(call, *args)


async def search(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/search``: one page of matching versions, best first."""
    kind = KIND.read(request)
    stage = STAGE.read(request)
    if stage is not None and stage not in PUBLIC_STAGES:
        await require_principal(request)
    query = SearchQuery(
        text=Q.read(request) or "",
        kind=AssetKind(kind) if kind else None,
        team=TEAM.read(request),
        stage=stage,
        limit=LIMIT.read(request),
        offset=OFFSET.read(request),
    )
    page = await _blocking(request.app[CATALOG].search, query)
    return model_reply(page)


async def latest_version(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/assets/{kind}/{name}``: the latest published version."""
    detail = await _blocking(request.app[CATALOG].show, _asset(request))
    return model_reply(detail)


async def one_version(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/assets/{kind}/{name}@{version}``: that version, whatever its stage."""
    asset = _asset(request)
    version = _required(ASSET_VERSION, ASSET_VERSION.read(request))
    if not is_semver(version):
        raise bad_parameter("version", f"'{version}' is not an exact semantic version like 1.2.0")
    await require_version_reader(request, AssetRef.parse(f"{asset}@{version}"))
    detail = await _blocking(request.app[CATALOG].show, f"{asset}@{version}")
    return model_reply(detail)


async def bundle(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/bundles/{content_hash}``: the archive, cacheable forever.

    The hash is the ETag: a client that has the bundle asks with ``If-None-Match`` and
    gets a 304 without the bytes. The bundle is still looked up, so a 304 is never
    given for a hash the registry does not hold. Only a bundle of an installable
    version is public; any other is served to its submitter, authors and reviewers
    (see :mod:`agent_registry.api.access`).
    """
    content_hash = CONTENT_HASH.read(request)
    public = await require_bundle_reader(request, content_hash)
    data = await _blocking(request.app[CATALOG].bundle, content_hash)
    etag = f'"{content_hash}"'
    headers: dict[str, str] = {
        hdrs.ETAG: etag,
        hdrs.CACHE_CONTROL: IMMUTABLE if public else "private, no-store",
    }
    if _matches(request.headers.get(hdrs.IF_NONE_MATCH), etag):
        return web.Response(status=304, headers=headers)
    headers[hdrs.CONTENT_DISPOSITION] = f'attachment; filename="{content_hash}.tar"'
    return web.Response(body=data, content_type=BUNDLE_MEDIA_TYPE, headers=headers)


async def stage_bundle(request: web.Request) -> web.StreamResponse:
    """``PUT /api/v1/bundles/{content_hash}``: stage a submitted archive under its hash.

    What ``agentreg submit`` sends before it starts a lifecycle, so that the lifecycle
    carries the hash and never the bytes. Only a readable bundle within the registry's
    limits is kept, and keeping it changes no asset state.
    """
    principal = await require_principal(request)
    content_hash = CONTENT_HASH.read(request)
    limits = request.app[SETTINGS].bundle_limits
    data = await read_bytes(request, max_bytes=limits.max_archive_bytes)
    request.app[QUOTAS].take(principal.email, STAGING_BYTES, len(data))
    if hashlib.sha256(data).hexdigest() != content_hash:
        raise ApiError(
            400,
            "the body does not hash to the content hash in the path",
            {"field": "content_hash"},
        )
    try:
        stored = await _blocking(request.app[CATALOG].stage_bundle, data)
    except InvalidBundleError as error:
        raise ApiError(422, f"the archive is not a bundle the registry accepts: {error}") from None
    return model_reply(Staged(content_hash=stored), status=201)


async def record_install(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/installs``: count one install of a version."""
    principal = await require_principal(request)
    data = await read_json(request, max_bytes=MAX_INSTALL_BODY_BYTES)
    event = validate(data, InstallEvent, what="the install event")
    require_aware(event.at, field="at")
    _check_versioned_ref(event.ref)
    event = check_install(event, principal)
    request.app[QUOTAS].take(principal.email, INSTALL_EVENTS, 1)
    await _blocking(request.app[CATALOG].record_install, event)
    return model_reply(Recorded(recorded=1))


async def record_usage(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/usage``: count a batch of uses, as the usage hook sends them."""
    principal = await require_principal(request)
    data = await read_json(request, max_bytes=MAX_USAGE_BODY_BYTES)
    events = validate_list(data, UsageEvent, what="the usage batch", max_items=MAX_USAGE_BATCH)
    for index, event in enumerate(events):
        require_aware(event.at, field=f"{index}.at")
    events = check_usage(events, principal)
    if events:
        request.app[QUOTAS].take(principal.email, USAGE_EVENTS, len(events))
    recorded = await _blocking(request.app[CATALOG].record_usage, events) if events else 0
    return model_reply(Recorded(recorded=recorded))


async def report(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/report``: the org dashboard's numbers, computed now."""
    return model_reply(await _blocking(request.app[CATALOG].report))


def _asset(request: web.Request) -> str:
    """``kind/name`` from the path, checked as a ref so the catalog gets a clean one."""
    kind = _required(ASSET_KIND, ASSET_KIND.read(request))
    name = _required(ASSET_NAME, ASSET_NAME.read(request))
    try:
        parsed_kind, parsed_name = parse_unversioned(f"{kind}/{name}")
    except InvalidRefError as error:
        raise bad_parameter("name", str(error)) from None
    return f"{parsed_kind.value}/{parsed_name}"


def _required(param: Param, value: str | None) -> str:
    if not value:
        raise bad_parameter(param.name, "must not be empty")
    return value


def _check_versioned_ref(ref: str) -> None:
    try:
        AssetRef.parse(ref)
    except InvalidRefError as error:
        raise ApiError(400, f"ref: {error}", {"field": "ref"}) from None


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weakly, as RFC 9110 says)."""
    if if_none_match is None:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


# ----- the routes -------------------------------------------------------------------

_NOT_FOUND = error_reply(404, "No such asset or version; the error names the ref.")
_BAD_PARAMETER = error_reply(400, "A parameter is malformed; the error and detail name it.")
_TOO_LARGE = error_reply(413, "The body is over its size cap, or the batch over its count.")
_CATALOG = ("catalog",)
_TELEMETRY = ("telemetry",)
_UNAUTHORIZED = error_reply(401, "No principal: sign in (a bearer token), or --as in local mode.")
_FORBIDDEN = error_reply(403, "The credential is not accepted from here.")
_OVER_QUOTA = error_reply(
    429, "The principal is over its quota for this window; Retry-After says when to retry."
)

ENDPOINTS = (
    Endpoint(
        "GET",
        SEARCH_PATH,
        SEARCH_PATH,
        search,
        "search",
        "Search the catalog",
        "Versions matching the words, best first, one page at a time. Follow "
        "next_offset until it is null.",
        tags=_CATALOG,
        params=(Q, KIND, TEAM, STAGE, LIMIT, OFFSET),
        replies=(
            Reply(200, "One page of matches.", Content(Page[SearchHit])),
            _BAD_PARAMETER,
            error_reply(401, "A stage that is not installable was asked for without a principal."),
            _FORBIDDEN,
        ),
    ),
    Endpoint(
        "GET",
        f"{ASSETS_PATH}/{{kind}}/{{name}}",
        f"{ASSETS_PATH}/{{kind}}/{{name:[^@]+}}",
        latest_version,
        "getLatestVersion",
        "The latest published version of an asset",
        "What installing kind/name without a version gets: the highest published or "
        "re-certifying version.",
        tags=_CATALOG,
        params=(ASSET_KIND, ASSET_NAME),
        replies=(
            Reply(200, "The version.", Content(VersionDetail)),
            _BAD_PARAMETER,
            _NOT_FOUND,
        ),
    ),
    Endpoint(
        "GET",
        f"{ASSETS_PATH}/{{kind}}/{{name}}@{{version}}",
        f"{ASSETS_PATH}/{{kind}}/{{name:[^@]+}}@{{version:[^/@]+}}",
        one_version,
        "getVersion",
        "One version of an asset",
        "The URL is the ref, kind/name@version. An installable version is public; one in "
        "any other stage (in review, blocked, rejected, retired) is shown only to its "
        "submitter, authors, voters and the policy's review groups.",
        tags=_CATALOG,
        params=(ASSET_KIND, ASSET_NAME, ASSET_VERSION),
        replies=(
            Reply(200, "The version.", Content(VersionDetail)),
            _BAD_PARAMETER,
            _UNAUTHORIZED,
            _FORBIDDEN,
            _NOT_FOUND,
        ),
    ),
    Endpoint(
        "GET",
        f"{BUNDLES_PATH}/{{content_hash}}",
        f"{BUNDLES_PATH}/{{content_hash}}",
        bundle,
        "getBundle",
        "A bundle's canonical archive",
        "The bytes whose sha256 is the content hash: an uncompressed tar. Immutable: "
        "the ETag is the hash, and If-None-Match with it answers 304. Public only for a "
        "version in an installable stage; otherwise served to its submitter, authors, "
        "voters and the policy's review groups, and a 404 to anyone else.",
        tags=_CATALOG,
        params=(CONTENT_HASH,),
        replies=(
            Reply(
                200,
                "The archive.",
                Content(
                    media_type=BUNDLE_MEDIA_TYPE,
                    schema={"type": "string", "contentMediaType": BUNDLE_MEDIA_TYPE},
                ),
                headers={
                    "ETag": 'The content hash, quoted: "<sha256>".',
                    "Cache-Control": IMMUTABLE,
                },
            ),
            Reply(
                304,
                "The client's copy (If-None-Match) is this bundle.",
                headers={"ETag": 'The content hash, quoted: "<sha256>".'},
            ),
            _BAD_PARAMETER,
            _UNAUTHORIZED,
            _FORBIDDEN,
            error_reply(404, "No bundle has this hash, or none the caller may read."),
        ),
    ),
    Endpoint(
        "PUT",
        f"{BUNDLES_PATH}/{{content_hash}}",
        f"{BUNDLES_PATH}/{{content_hash}}",
        stage_bundle,
        "stageBundle",
        "Stage a submitted bundle",
        "Sent by agentreg submit and revise before the lifecycle starts, which then "
        "carries only the hash. The body is the canonical archive; it must hash to the "
        "path's content hash and read as a bundle within the registry's limits. Staging "
        "changes no asset state, and staging the same bytes again is a no-op. Needs a "
        "principal; each may stage a bounded number of bytes per hour.",
        tags=_CATALOG,
        params=(CONTENT_HASH,),
        body=Content(
            media_type=BUNDLE_MEDIA_TYPE,
            schema={"type": "string", "contentMediaType": BUNDLE_MEDIA_TYPE},
        ),
        replies=(
            Reply(201, "Staged (or already held).", Content(Staged)),
            error_reply(400, "The body does not hash to the path's content hash."),
            _UNAUTHORIZED,
            _FORBIDDEN,
            _TOO_LARGE,
            error_reply(422, "The archive is not a bundle within the registry's limits."),
            _OVER_QUOTA,
        ),
    ),
    Endpoint(
        "POST",
        INSTALLS_PATH,
        INSTALLS_PATH,
        record_install,
        "recordInstall",
        "Count an install",
        "Sent by the install command. Telemetry, not asset state: it changes no "
        "version. Needs a principal (the install is counted as theirs, whatever user "
        "says) and an event_id; text fields are capped; a principal's installs per hour "
        "are bounded. The timestamp must carry a timezone.",
        tags=_TELEMETRY,
        body=Content(InstallEvent),
        replies=(
            Reply(
                200,
                "Accepted; one sent again with the same event_id is still counted once.",
                Content(Recorded),
            ),
            error_reply(400, "The body is not JSON, or not a valid install event."),
            _UNAUTHORIZED,
            _FORBIDDEN,
            _NOT_FOUND,
            _TOO_LARGE,
            _OVER_QUOTA,
        ),
    ),
    Endpoint(
        "POST",
        USAGE_PATH,
        USAGE_PATH,
        record_usage,
        "recordUsage",
        "Count a batch of uses",
        f"Sent by the usage hook: at most {MAX_USAGE_BATCH} events and "
        f"{MAX_USAGE_BODY_BYTES} bytes per request. Telemetry, not asset state. Needs a "
        "principal (every use is counted as theirs) and an event_id per event; text "
        "fields are capped; a principal's uses per hour are bounded. Every timestamp "
        "must carry a timezone.",
        tags=_TELEMETRY,
        body=Content(UsageEvent, many=True, max_items=MAX_USAGE_BATCH),
        replies=(
            Reply(
                200,
                "How many events were recorded: those sent before (same event_id) are not.",
                Content(Recorded),
            ),
            error_reply(400, "The body is not JSON, or an event is invalid (detail lists them)."),
            _UNAUTHORIZED,
            _FORBIDDEN,
            _TOO_LARGE,
            _OVER_QUOTA,
        ),
    ),
    Endpoint(
        "GET",
        REPORT_PATH,
        REPORT_PATH,
        report,
        "getReport",
        "The org report",
        "Inventory, scope, reviews, re-certifications, deprecations and reuse: what the "
        "dashboard and agentreg report show.",
        tags=_CATALOG,
        replies=(Reply(200, "The report, computed now.", Content(OrgReport)),),
    ),
    *TRUST_ENDPOINTS,
)
"""Every ``/api/v1`` route: what :func:`add_routes` serves and ``/openapi.json`` lists."""


def add_routes(app: web.Application, *, quotas: QuotaBook | None = None) -> None:
    """Add the ``/api/v1`` routes to ``app``; they read ``app[CATALOG]``.

    Args:
        app: The application.
        quotas: The per-principal quota book of the writes (a fresh one by default).
    """
    app[QUOTAS] = quotas or QuotaBook()
    add_endpoints(app, ENDPOINTS)
