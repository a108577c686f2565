"""The registry database side of :mod:`activities.purge`: deleting a blocked bundle.

What may be deleted is decided here against the database (the version still in
EvalFailed, its latest eval blocked by a ``secrets.*`` check, no other version needing
the bytes), never on the workflow's word alone. Kept apart from the activity definition,
which workflows import inside their sandbox, because it loads the database layer.
"""

from __future__ import annotations

from sqlalchemy import Engine

from agent_registry.assets.refs import AssetRef
from agent_registry.registry.db import session_scope
from agent_registry.registry.store.purge import purge_blocked_bundle


class BundlePurge:
    """Deletes a version's bundle when a secret blocked it, in one transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def purge(self, ref: AssetRef) -> bool:
        """Delete ``ref``'s bundle if a secret blocked it; True when deleted now."""
        with session_scope(self._engine) as session:
            return purge_blocked_bundle(session, ref=ref)
