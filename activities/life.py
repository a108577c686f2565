"""A published version's life: its policy plan, re-certification, deprecation, retirement.

The database writes are :class:`activities.life_records.LifeRecords`, injected, so that
workflows can import this module (to call the activities by method reference) without
loading the database layer.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from activities.models import DeprecationInput, LifePlanInput, RecertificationInput, RetireInput
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.contract import SUPERSEDE_SIGNAL, LifePlan, SupersededSignal
from agent_registry.policy.loader import load_policy

if TYPE_CHECKING:
    from activities.life_records import LifeRecords

logger = logging.getLogger(__name__)

PLATFORM_GROUP = "platform"


class LifeActivities:
    """Policy reads and registry writes for published versions."""

    def __init__(self, records: LifeRecords, *, policy_path: Path | None) -> None:
        self._records = records
        self._policy_path = policy_path

    @activity.defn(name="life_plan")
    def life_plan(self, request: LifePlanInput) -> LifePlan:
        """Read the policy now, so a changed policy applies from the next cycle on."""
        policy = load_policy(self._policy_path)
        team = policy.groups.get(request.owner_team)
        return LifePlan(
            policy_version=policy.version,
            recertify_every=policy.tiers[request.risk_tier].recertify_every,
            grace=policy.recertification.grace,
            sunset_after=policy.deprecation.sunset_after,
            attesters=list(team) if team else [request.submitter, *request.authors],
            deprecators=list(policy.groups.get(PLATFORM_GROUP, [])),
        )

    @activity.defn(name="record_recertification")
    def record_recertification(self, request: RecertificationInput) -> None:
        """Set the next due date (and, after a passed cycle, the stage back to Published)."""
        self._records.record_recertification(request)

    @activity.defn(name="deprecate_version")
    def deprecate_version(self, request: DeprecationInput) -> None:
        """Record the deprecation, its reason, replacement and sunset date."""
        self._records.deprecate(request)

    @activity.defn(name="retire_version")
    def retire_version(self, request: RetireInput) -> None:
        """Record the retirement; the row and its audit trail stay."""
        self._records.retire(request)

    @activity.defn(name="supersede_predecessors")
    async def supersede_predecessors(self, ref: AssetRef) -> list[str]:
        """Tell the lifecycles of older published versions that ``ref`` replaces them.

        Returns:
            The references of the versions told.
        """
        # The read blocks on the database; off the event loop, so that a slow or
        # unreachable database does not stall the whole worker (polls, workflow tasks,
        # every other activity) while this activity waits.
        older = await asyncio.to_thread(self._records.published_predecessors, ref)
        client = activity.client()
        told: list[str] = []
        for predecessor in older:
            handle = client.get_workflow_handle(predecessor.workflow_id)
            try:
                await handle.signal(SUPERSEDE_SIGNAL, SupersededSignal(replacement=str(ref)))
            except RPCError as error:
                # A lifecycle that ended (or never ran here) has nothing to deprecate.
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
                logger.info("%s has no running lifecycle to supersede", predecessor)
                continue
            told.append(str(predecessor))
        return told
