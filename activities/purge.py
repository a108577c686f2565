"""Purging a bundle the eval bar blocked for a secret, when its lifecycle gives up on it.

Its own module: the lifecycle worker holds the database, and this is the one activity
that deletes stored bytes, so what it may delete is decided here against the database
(the version still in EvalFailed, its latest eval blocked by a ``secrets.*`` check, no
other version needing the bytes), never on the workflow's word alone.
"""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from activities.models import PurgeInput
from agent_registry.registry.db import session_scope
from agent_registry.registry.store.purge import purge_blocked_bundle


class PurgeActivities:
    """The purge, idempotent: a retry finds the bytes gone and the audit event written."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn(name="purge_secret_bundle")
    def purge_secret_bundle(self, request: PurgeInput) -> bool:
        """Delete the version's bundle if a secret blocked it; True when deleted now."""
        with session_scope(self._engine) as session:
            return purge_blocked_bundle(session, ref=request.ref)
