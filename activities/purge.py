"""Purging a bundle the eval bar blocked for a secret, when its lifecycle gives up on it.

Its own module: the lifecycle worker holds the database, and this is the one activity
that deletes stored bytes. What it may delete is decided against the database by the
injected :class:`activities.bundle_purge.BundlePurge`, never on the workflow's word
alone; injected so that workflows import this module without the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from activities.models import PurgeInput

if TYPE_CHECKING:
    from activities.bundle_purge import BundlePurge


class PurgeActivities:
    """The purge, idempotent: a retry finds the bytes gone and the audit event written."""

    def __init__(self, purge: BundlePurge) -> None:
        self._purge = purge

    @activity.defn(name="purge_secret_bundle")
    def purge_secret_bundle(self, request: PurgeInput) -> bool:
        """Delete the version's bundle if a secret blocked it; True when deleted now."""
        return self._purge.purge(request.ref)
