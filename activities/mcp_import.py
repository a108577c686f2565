"""The scheduled import's activities: plan what is new upstream, submit each pick once.

Both are idempotent: planning only reads, and a pick's submission starts its version's
lifecycle under the deterministic workflow id ``asset/<kind>/<name>/<version>``, so a
retry or a repeated run reports ``already-submitted`` instead of starting a second one.
The work is :class:`activities.mcp_importer.McpImporter`, injected, so that workflows
import this module (to call the activities by method reference) without loading the
HTTP client, the database layer or the submission path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.models import ImportOutcome, ImportPlan, McpImportInput, SubmitPickInput
from agent_registry.mcp_registry.contract import PLAN_ACTIVITY, SUBMIT_ACTIVITY

if TYPE_CHECKING:
    from activities.mcp_importer import McpImporter


class McpImportActivities:
    """The scheduled import's activities."""

    def __init__(self, importer: McpImporter) -> None:
        self._importer = importer

    @activity.defn(name=PLAN_ACTIVITY)
    async def plan_import(self, request: McpImportInput) -> ImportPlan:
        """The upstream versions newer than anything the registry holds of each server.

        Raises:
            ApplicationError: The upstream failed (retried), or it is not one the
                platform team named (not retried).
        """
        return await self._importer.plan(request)

    @activity.defn(name=SUBMIT_ACTIVITY)
    async def submit_pick(self, request: SubmitPickInput) -> ImportOutcome:
        """Fetch the pick again, carry the confirmed scope, and submit it once.

        Raises:
            ApplicationError: The upstream failed (retried); or, not retried: the watch
                has no verified principal, the carried scope is gone, the upstream is
                not allowed, or the draft's metadata is refused.
        """
        return await self._importer.submit(request)
