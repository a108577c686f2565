"""A published version's life: its policy plan, re-certification, deprecation, retirement."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import Engine
from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from activities.models import DeprecationInput, LifePlanInput, RecertificationInput, RetireInput
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.contract import SUPERSEDE_SIGNAL, LifePlan, SupersededSignal
from agent_registry.policy.loader import load_policy
from agent_registry.registry import store
from agent_registry.registry.db import session_scope

logger = logging.getLogger(__name__)

PLATFORM_GROUP = "platform"


class LifeActivities:
    """Policy reads and registry writes for published versions."""

    def __init__(self, engine: Engine, *, policy_path: Path | None) -> None:
        self._engine = engine
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
        with session_scope(self._engine) as session:
            if request.passed_cycle:
                store.record_recertification(
                    session,
                    ref=request.ref,
                    recertify_by=request.recertify_by,
                    actor="registry",
                    event_key=request.event_key,
                    policy_version=request.policy_version,
                )
            else:
                store.schedule_recertification(
                    session,
                    ref=request.ref,
                    recertify_by=request.recertify_by,
                    event_key=request.event_key,
                )

    @activity.defn(name="deprecate_version")
    def deprecate_version(self, request: DeprecationInput) -> None:
        """Record the deprecation, its reason, replacement and sunset date."""
        with session_scope(self._engine) as session:
            store.deprecate_version(
                session,
                ref=request.ref,
                reason=request.reason,
                by=request.by,
                replacement=request.replacement,
                sunset_at=request.sunset_at,
                event_key=request.event_key,
            )

    @activity.defn(name="retire_version")
    def retire_version(self, request: RetireInput) -> None:
        """Record the retirement; the row and its audit trail stay."""
        with session_scope(self._engine) as session:
            store.retire_version(session, ref=request.ref, event_key=request.event_key)

    @activity.defn(name="supersede_predecessors")
    async def supersede_predecessors(self, ref: AssetRef) -> list[str]:
        """Tell the lifecycles of older published versions that ``ref`` replaces them.

        Returns:
            The references of the versions told.
        """
        # The read blocks on the database; off the event loop, so that a slow or
        # unreachable database does not stall the whole worker (polls, workflow tasks,
        # every other activity) while this activity waits.
        older = await asyncio.to_thread(self._published_predecessors, ref)
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

    def _published_predecessors(self, ref: AssetRef) -> list[AssetRef]:
        with session_scope(self._engine) as session:
            return [
                AssetRef(kind=ref.kind, name=ref.name, version=row.version)
                for row in store.published_predecessors(
                    session, kind=ref.kind, name=ref.name, version=ref.version
                )
            ]
