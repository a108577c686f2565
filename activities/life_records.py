"""The registry database side of :mod:`activities.life`: a published version's records.

Kept apart from the activity definitions, which workflows import inside their sandbox:
this module loads the database layer, and only the worker, which builds
:class:`LifeRecords`, needs it.
"""

from __future__ import annotations

from sqlalchemy import Engine

from activities.models import DeprecationInput, RecertificationInput, RetireInput
from agent_registry.assets.refs import AssetRef
from agent_registry.registry import store
from agent_registry.registry.db import read_scope, session_scope


class LifeRecords:
    """Registry writes for published versions, each idempotent by its event key."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

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

    def deprecate(self, request: DeprecationInput) -> None:
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

    def retire(self, request: RetireInput) -> None:
        """Record the retirement; the row and its audit trail stay."""
        with session_scope(self._engine) as session:
            store.retire_version(session, ref=request.ref, event_key=request.event_key)

    def published_predecessors(self, ref: AssetRef) -> list[AssetRef]:
        """The published versions older than ``ref`` of the same asset."""
        with read_scope(self._engine) as session:
            return [
                AssetRef(kind=ref.kind, name=ref.name, version=row.version)
                for row in store.published_predecessors(
                    session, kind=ref.kind, name=ref.name, version=ref.version
                )
            ]
