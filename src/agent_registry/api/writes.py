"""The registry's one front door for writes: submit, revise, vote, attest, deprecate.

Every route here first asks :func:`~agent_registry.identity.http.require_principal` who
is calling, and only then starts or updates the lifecycle, putting that principal into
the update. So in production the people who decide hold no Temporal credentials: the
server (and the workers) are the only clients of the namespace, and what a lifecycle
is told about its caller is what the server verified.

A refusal by the lifecycle (your own asset, not a reviewer, decisions from the command
line off) is a one-line 403, written to the audit log with the principal that tried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web
from pydantic import BaseModel
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from agent_registry import temporal
from agent_registry.api.bodies import read_json, validate
from agent_registry.api.context import SETTINGS
from agent_registry.api.endpoint import (
    Content,
    Endpoint,
    Handler,
    Reply,
    add_endpoints,
    error_reply,
    model_reply,
)
from agent_registry.api.errors import ApiError
from agent_registry.api.params import TextParam
from agent_registry.api.write_schemas import (
    ATTESTATIONS_PATH,
    DEPRECATIONS_PATH,
    LIFECYCLE_STATUS_PATH,
    REVISIONS_PATH,
    SUBMISSIONS_PATH,
    VOTES_PATH,
    AttestBody,
    DeprecateBody,
    ReviseBody,
    StatusReply,
    SubmitBody,
    VoteBody,
    WriteReply,
)
from agent_registry.assets.bundle_problems import InvalidBundleError
from agent_registry.assets.manifests import RegistryMetadata
from agent_registry.assets.refs import AssetRef
from agent_registry.identity.http import IdentityRefusedError, record_refusal, require_principal
from agent_registry.lifecycle.client import (
    LifecycleClient,
    LifecycleClosedError,
    LifecycleNotFoundError,
    UpdateRefusedError,
    already_submitted_message,
)
from agent_registry.lifecycle.contract import (
    AttestInput,
    DeprecateInput,
    ReviewInput,
    RevisionInput,
    Submission,
    VoteResult,
)
from agent_registry.lifecycle.stages import Stage
from agent_registry.staging import staged_revision, staged_submission
from agent_registry.temporal import workflow_ui_url
from agent_registry.vocabulary.principal import Principal, PrincipalKind, canonical_email

MAX_JSON_BYTES = 64 * 1024
"""A vote, attestation or deprecation is a few lines of JSON."""

Connect = Callable[[], Awaitable[Client]]


class LifecycleGateway:
    """The server's Temporal client, connected on the first write.

    Lazy so that a server that only serves reads (or a test of them) needs no Temporal.
    """

    def __init__(self, connect: Connect = temporal.connect) -> None:
        self._connect = connect
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        """The connected client (the MCP watches' schedules use it directly)."""
        async with self._lock:
            if self._client is None:
                self._client = await self._connect()
            return self._client

    async def lifecycles(self) -> LifecycleClient:
        """The lifecycle client over the connected client, for every lifecycle write."""
        return LifecycleClient(await self.client())


GATEWAY: web.AppKey[LifecycleGateway] = web.AppKey("agent_registry.api.lifecycle_gateway")


def add_routes(app: web.Application, gateway: LifecycleGateway | None = None) -> None:
    """Add the write routes, with ``gateway`` (a lazily connected one by default)."""
    app[GATEWAY] = gateway or LifecycleGateway()
    add_endpoints(app, ENDPOINTS)


def _identity(principal: Principal) -> str:
    return "verified" if principal.verified else "unverified"


def _ref(text: str) -> AssetRef:
    try:
        return AssetRef.parse(text)
    except ValueError as error:
        raise ApiError(400, f"ref: {error}", {"field": "ref"}) from None


def server_metadata(metadata: RegistryMetadata, principal: Principal) -> RegistryMetadata:
    """The metadata as the server records it: canonical authors, attribution from the caller.

    Authors are emails, made canonical, so that every rule compares them with principals
    in one form; with none listed, the submitter is the author. Whether a machine wrote
    it follows from who submits (a client-credentials principal), not from the body.

    Raises:
        ApiError: 400 naming an author that is not an email address.
    """
    authors: list[str] = []
    for index, author in enumerate(metadata.authors):
        try:
            email = canonical_email(author)
        except ValueError as error:
            raise ApiError(
                400, f"metadata.authors[{index}]: {error}", {"field": f"metadata.authors.{index}"}
            ) from None
        if email not in authors:
            authors.append(email)
    return metadata.model_copy(
        update={
            "authors": authors or [principal.email],
            "machine_authored": principal.kind is PrincipalKind.MACHINE,
        }
    )


async def submit(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/submissions``: stage the bundle and start the version's lifecycle."""
    principal = await require_principal(request)
    settings = request.app[SETTINGS]
    limit = settings.max_bundle_bytes * 4 // 3 + MAX_JSON_BYTES
    body = validate(await read_json(request, max_bytes=limit), SubmitBody, what="the submission")
    ref = _ref(body.ref)
    metadata = server_metadata(body.metadata, principal)
    if metadata.version != ref.version:
        raise ApiError(
            400, f"ref {ref} and metadata.version {metadata.version} differ", {"field": "ref"}
        )
    submission = Submission(
        ref=ref, metadata=metadata, submitter=principal.email, archive=body.archive
    )
    lifecycles = await request.app[GATEWAY].lifecycles()
    try:
        handle = await lifecycles.start(
            submission,
            task_queue=settings.task_queue,
            stage=partial(staged_submission, settings),
        )
    except WorkflowAlreadyStartedError:
        raise ApiError(409, already_submitted_message(ref.workflow_id)) from None
    except InvalidBundleError as error:
        raise ApiError(400, f"archive: {error}", {"field": "archive"}) from None
    return model_reply(
        WriteReply(
            ref=str(ref),
            stage=Stage.SUBMITTED,
            message=f"submitted {ref} as workflow {handle.id}",
            principal=principal.email,
            identity=_identity(principal),
            workflow_id=handle.id,
            ui_link=workflow_ui_url(
                settings.ui_url,
                namespace=lifecycles.temporal.namespace,
                workflow_id=handle.id,
                run_id=handle.result_run_id,
            ),
        ),
        status=201,
    )


async def revise(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/revisions``: new content for a version in EvalFailed/ChangesRequested."""
    principal = await require_principal(request)
    settings = request.app[SETTINGS]
    limit = settings.max_bundle_bytes * 4 // 3 + MAX_JSON_BYTES
    body = validate(await read_json(request, max_bytes=limit), ReviseBody, what="the revision")
    ref = _ref(body.ref)
    revision = RevisionInput(
        principal=principal,
        archive=body.archive,
        changelog=body.changelog,
        false_positives=body.false_positives,
    )
    try:
        revision = await asyncio.to_thread(staged_revision, settings, revision)
    except InvalidBundleError as error:
        raise ApiError(400, f"archive: {error}", {"field": "archive"}) from None
    lifecycles = await request.app[GATEWAY].lifecycles()
    sent = lifecycles.revise(ref, revision)
    return await _answer(request, principal, ref, sent, closed="nothing to revise")


async def vote(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/votes``: approve, reject or request changes."""
    principal = await require_principal(request)
    body = validate(await read_json(request, max_bytes=MAX_JSON_BYTES), VoteBody, what="the vote")
    ref = _ref(body.ref)
    vote_input = ReviewInput(principal=principal, reason=body.reason)
    lifecycles = await request.app[GATEWAY].lifecycles()
    sent = lifecycles.vote(ref, body.decision, vote_input)
    return await _answer(request, principal, ref, sent, closed="its review is over")


async def attest(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/attestations``: the owner team attests a version due for re-certification."""
    principal = await require_principal(request)
    body = validate(
        await read_json(request, max_bytes=MAX_JSON_BYTES), AttestBody, what="the attestation"
    )
    ref = _ref(body.ref)
    lifecycles = await request.app[GATEWAY].lifecycles()
    sent = lifecycles.attest(ref, AttestInput(principal=principal))
    return await _answer(request, principal, ref, sent, closed="there is nothing to attest")


async def deprecate(request: web.Request) -> web.StreamResponse:
    """``POST /api/v1/deprecations``: deprecate a published version."""
    principal = await require_principal(request)
    body = validate(
        await read_json(request, max_bytes=MAX_JSON_BYTES), DeprecateBody, what="the deprecation"
    )
    ref = _ref(body.ref)
    if body.sunset is not None and body.sunset.tzinfo is None:
        raise ApiError(400, "sunset: must carry a timezone", {"field": "sunset"})
    request_input = DeprecateInput(
        principal=principal,
        reason=body.reason.strip(),
        replacement=str(_ref(body.replacement)) if body.replacement else None,
        sunset=body.sunset,
    )
    closed = "its lifecycle is over; there is nothing left to deprecate"
    lifecycles = await request.app[GATEWAY].lifecycles()
    sent = lifecycles.deprecate(ref, request_input)
    return await _answer(request, principal, ref, sent, closed=closed)


async def _answer(
    request: web.Request,
    principal: Principal,
    ref: AssetRef,
    sent: Awaitable[VoteResult],
    *,
    closed: str,
) -> web.StreamResponse:
    """The lifecycle's answer to an update; a refusal by its validators is a logged 403.

    Args:
        request: The write request.
        principal: Who sent it.
        ref: The version it is about.
        sent: The update, as :class:`LifecycleClient` sends it.
        closed: Why nothing happens once the lifecycle has ended.
    """
    try:
        result = await sent
    except LifecycleNotFoundError as error:
        raise ApiError(404, str(error)) from None
    except LifecycleClosedError as error:
        raise ApiError(409, f"{error}; {closed}") from None
    except UpdateRefusedError as error:
        refused = IdentityRefusedError(403, error.reason, actor=principal.email)
        await record_refusal(request, refused)
        raise ApiError(403, error.reason) from None
    return model_reply(
        WriteReply(
            ref=str(ref),
            stage=result.stage,
            message=result.message,
            principal=principal.email,
            identity=_identity(principal),
        )
    )


REF_PARAM = TextParam("ref", "The version, kind/name@version.", max_chars=400)


async def lifecycle_status(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/lifecycle-status?ref=``: a lifecycle's state, read through the server."""
    text = REF_PARAM.read(request)
    if not text:
        raise ApiError(400, "parameter 'ref': required", {"parameter": "ref"})
    ref = _ref(text)
    lifecycles = await request.app[GATEWAY].lifecycles()
    try:
        state = await lifecycles.status(ref)
    except LifecycleNotFoundError as error:
        raise ApiError(404, str(error)) from None
    return model_reply(StatusReply(status=state.status, running=state.running))


_TAGS = ("writes",)
_REPLIES = (
    error_reply(400, "The body is not valid; the error names the field."),
    error_reply(401, "No credential, or one that does not verify (one line)."),
    error_reply(
        403,
        "Refused: local mode from another machine, or the lifecycle refused this caller "
        "(own asset, not a reviewer, not the owner team, command-line decisions off).",
    ),
    error_reply(404, "The version was never submitted."),
    error_reply(409, "The lifecycle has ended."),
)
_AUTH = (
    " The caller is the principal of the `Authorization: Bearer` token (OIDC), or in "
    "local mode the `X-Agent-Registry-As` email of a loopback client, marked unverified."
)


def _accepted(status: int = 200) -> Reply:
    return Reply(status, "Accepted; the lifecycle's answer.", Content(WriteReply))


def _write(
    path: str,
    handler: Handler,
    operation_id: str,
    summary: str,
    who: str,
    body: type[BaseModel],
    *,
    status: int = 200,
) -> Endpoint:
    """A write route: a JSON body, the caller's identity, and the replies every write shares.

    One shape for all of them, so that no write can be documented (or added) without
    saying who may call it and how a refusal looks.
    """
    return Endpoint(
        "POST",
        path,
        path,
        handler,
        operation_id,
        summary,
        who + _AUTH,
        tags=_TAGS,
        body=Content(body),
        replies=(_accepted(status), *_REPLIES),
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    _write(
        SUBMISSIONS_PATH,
        submit,
        "submitVersion",
        "Submit an asset version",
        "Stages the archive and starts the lifecycle, with the caller as submitter; "
        "machine authorship follows from the caller being a machine.",
        SubmitBody,
        status=201,
    ),
    _write(
        REVISIONS_PATH,
        revise,
        "reviseVersion",
        "Send new content for a version",
        "Only the submitter or an author may.",
        ReviseBody,
    ),
    _write(
        VOTES_PATH,
        vote,
        "castVote",
        "Approve, reject or request changes",
        "Never by the submitter or an author, in any spelling of their email.",
        VoteBody,
    ),
    _write(
        ATTESTATIONS_PATH,
        attest,
        "attestVersion",
        "Attest a version due for re-certification",
        "Only the owner team.",
        AttestBody,
    ),
    _write(
        DEPRECATIONS_PATH,
        deprecate,
        "deprecateVersion",
        "Deprecate a published version",
        "Only the owner team or the platform team.",
        DeprecateBody,
    ),
    Endpoint(
        "GET",
        LIFECYCLE_STATUS_PATH,
        LIFECYCLE_STATUS_PATH,
        lifecycle_status,
        "lifecycleStatus",
        "A lifecycle's state",
        "What `agentreg submit --wait` follows, for clients without Temporal access.",
        tags=_TAGS,
        params=(REF_PARAM,),
        replies=(
            Reply(200, "The lifecycle's state.", Content(StatusReply)),
            error_reply(404, "The version was never submitted."),
        ),
    ),
)
