"""The scheduled import's I/O: read the upstream registry, read the registry, submit.

The work behind :mod:`activities.mcp_import`, kept apart from it because workflows
import that module inside their sandbox and this one loads the HTTP client, the
database layer and the submission path; only the worker, which builds
:class:`McpImporter`, needs them.

A pick is submitted as the registry server submits (``POST /api/v1/submissions``):
the submitter is the principal the server verified when the watch was set up, and
whether a machine wrote it follows from that principal's kind, never from the draft.
The worker holds namespace credentials, the people who set up watches do not, so the
principal in the schedule's input is the server's word.

Both activities read only an upstream the platform team named
(``AGENT_REGISTRY_MCP_UPSTREAMS``), checked again here before any request whatever the
schedule's input says: the worker sits inside the network, and a schedule may predate
the list or have been edited in Temporal directly.

Both activities are idempotent. Planning only reads. Submitting a pick starts its
version's lifecycle under the deterministic workflow id ``asset/<kind>/<name>/<version>``,
so a retried or repeated submission finds the lifecycle already started and reports
``already-submitted`` instead of starting a second one: every new upstream version is
submitted once, however often the schedule runs.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from agent_registry.api.errors import ApiError
from agent_registry.api.writes import server_metadata
from agent_registry.assets.refs import is_semver
from agent_registry.catalog.mcp_servers import held_server
from agent_registry.cli.mcp_submit import prepare_folder
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import Submission
from agent_registry.mcp_registry.allowed_upstreams import UpstreamNotAllowedError, check_upstream
from agent_registry.mcp_registry.contract import (
    ImportOutcome,
    ImportPlan,
    McpImportInput,
    SubmitPickInput,
    UpstreamPick,
)
from agent_registry.mcp_registry.drafts import write_draft
from agent_registry.mcp_registry.scope_proposal import carried
from agent_registry.mcp_registry.upstream import UpstreamError, UpstreamRegistry
from agent_registry.registry.tables import version_sort_key
from agent_registry.staging import start_lifecycle
from agent_registry.vocabulary.principal import Principal


class McpImporter:
    """Plans and submits the scheduled import's picks.

    Args:
        client: Starts the lifecycles of what is submitted.
        settings: Where bundles are staged and which task queue lifecycles run on.
        engine: The registry database, read for what it already holds.
    """

    def __init__(self, client: Client, settings: Settings, engine: Engine) -> None:
        self._client = client
        self._settings = settings
        self._engine = engine

    async def plan(self, request: McpImportInput) -> ImportPlan:
        """The upstream versions newer than anything the registry holds of each server.

        A server the registry holds no version of is left out with a note: its scope
        has never been confirmed, so it is imported once by hand first.

        Raises:
            ApplicationError: The upstream failed (retried; the message says how).
        """
        plan = ImportPlan()
        self._require_allowed(request.upstream)
        try:
            async with UpstreamRegistry(request.upstream) as upstream:
                for name in request.names:
                    held = await asyncio.to_thread(held_server, self._engine, name)
                    if held is None:
                        plan.notes.append(
                            f"{name}: not in the registry yet; import it once with "
                            "`agentreg import mcp --name` to confirm its scope"
                        )
                        continue
                    for entry in await upstream.versions(name):
                        if not is_semver(entry.version):
                            plan.notes.append(
                                f"{name} {entry.version}: not a semantic version; skipped"
                            )
                        elif version_sort_key(entry.version) > held.highest_sort:
                            plan.picks.append(
                                UpstreamPick(
                                    name=name, version=entry.version, scope_from=held.scope_ref
                                )
                            )
        except UpstreamError as error:
            raise ApplicationError(str(error), type="UpstreamError") from None
        plan.picks.sort(key=lambda pick: (pick.name, version_sort_key(pick.version)))
        return plan

    async def submit(self, request: SubmitPickInput) -> ImportOutcome:
        """Fetch the pick again, carry the confirmed scope, and submit it once.

        Raises:
            ApplicationError: The upstream failed (retried); or, not retried: the watch
                has no verified principal, the carried scope is gone, or the draft's
                metadata is refused as the submission route would refuse it.
        """
        pick = request.pick
        principal = request.principal
        if principal is None:
            raise ApplicationError(
                f"{pick.name} {pick.version}: this watch was set up before watches went "
                "through the registry server and names its submitter only by a claim; "
                "set it up again with agentreg import mcp --watch",
                type="Unverified",
                non_retryable=True,
            )
        self._require_allowed(request.upstream)
        try:
            async with UpstreamRegistry(request.upstream) as upstream:
                entry = await upstream.version(pick.name, pick.version)
        except UpstreamError as error:
            raise ApplicationError(str(error), type="UpstreamError") from None
        held = await asyncio.to_thread(held_server, self._engine, pick.name)
        if held is None:
            raise ApplicationError(
                f"{pick.name}: the registry no longer holds a scope to carry",
                type="NoScope",
                non_retryable=True,
            )
        with tempfile.TemporaryDirectory(prefix="agentreg-import-") as root:
            draft = write_draft(
                Path(root),
                name=entry.name,
                version=entry.version,
                server=entry.server,
                scope_text=carried(held.scope_text, source_ref=held.scope_ref),
                team=request.team,
                changelog=f"Imported from {request.upstream} by the scheduled import.",
            )
            submission = await asyncio.to_thread(
                prepare_folder, self._settings, draft.folder, submitter="", team=request.team
            )
        started = await self._start(_attributed(submission, principal))
        return ImportOutcome(
            name=pick.name,
            version=pick.version,
            status="submitted" if started else "already-submitted",
            message=submission.ref.workflow_id,
        )

    def _require_allowed(self, upstream: str) -> None:
        """Refuse, before any request, an upstream the platform team did not name.

        The watch route checks this too; checking again here covers a schedule set up
        before the list existed or edited in Temporal directly, and a list narrowed since.

        Raises:
            ApplicationError: Not retried; the message names the allowed upstreams.
        """
        try:
            check_upstream(upstream, self._settings.mcp_upstreams)
        except UpstreamNotAllowedError as error:
            raise ApplicationError(
                str(error), type="UpstreamNotAllowed", non_retryable=True
            ) from None

    async def _start(self, submission: Submission) -> bool:
        """Start the lifecycle; False when the version was submitted before."""
        try:
            await start_lifecycle(self._client, self._settings, submission=submission)
        except WorkflowAlreadyStartedError:
            return False
        return True


def _attributed(submission: Submission, principal: Principal) -> Submission:
    """The submission as the server's submission route records it for ``principal``.

    Raises:
        ApplicationError: Not retried; the metadata names an author that is not an email.
    """
    metadata = submission.metadata.model_copy(
        update={"authors": [a for a in submission.metadata.authors if a.strip()]}
    )
    try:
        metadata = server_metadata(metadata, principal)
    except ApiError as error:
        raise ApplicationError(error.error, type="Refused", non_retryable=True) from None
    return submission.model_copy(update={"metadata": metadata, "submitter": principal.email})
