"""The scheduled import's I/O: read the upstream registry, read the registry, submit.

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
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from agent_registry.assets.refs import is_semver
from agent_registry.catalog.mcp_servers import held_server
from agent_registry.cli.mcp_submit import submit_folder
from agent_registry.config import Settings
from agent_registry.mcp_registry.contract import (
    PLAN_ACTIVITY,
    SUBMIT_ACTIVITY,
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


class McpImportActivities:
    """The scheduled import's activities.

    Args:
        client: Starts the lifecycles of what is submitted.
        settings: Where bundles are staged and which task queue lifecycles run on.
        engine: The registry database, read for what it already holds.
    """

    def __init__(self, client: Client, settings: Settings, engine: Engine) -> None:
        self._client = client
        self._settings = settings
        self._engine = engine

    @activity.defn(name=PLAN_ACTIVITY)
    async def plan_import(self, request: McpImportInput) -> ImportPlan:
        """The upstream versions newer than anything the registry holds of each server.

        A server the registry holds no version of is left out with a note: its scope
        has never been confirmed, so it is imported once by hand first.

        Raises:
            ApplicationError: The upstream failed (retried; the message says how).
        """
        plan = ImportPlan()
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

    @activity.defn(name=SUBMIT_ACTIVITY)
    async def submit_pick(self, request: SubmitPickInput) -> ImportOutcome:
        """Fetch the pick again, carry the confirmed scope, and submit it once.

        Raises:
            ApplicationError: The upstream failed (retried), or the carried scope is
                gone (not retried).
        """
        pick = request.pick
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
            submitted = await submit_folder(
                self._client,
                self._settings,
                draft.folder,
                submitter=request.submitter,
                team=request.team,
            )
        return ImportOutcome(
            name=pick.name,
            version=pick.version,
            status="submitted" if submitted.started else "already-submitted",
            message=submitted.workflow_id,
        )
