"""The registry database side of :mod:`activities.registry`: one transaction per write.

Kept apart from the activity definitions, which workflows import inside their sandbox:
this module loads the database layer (SQLAlchemy, sqlmodel) and the signing library,
and only the worker, which builds :class:`RegistryWrites`, needs them.
"""

from __future__ import annotations

from securesystemslib.signer import Signer
from sqlalchemy import Engine
from sqlmodel import Session

from activities.models import (
    DecisionInput,
    PublicationInput,
    PublishInput,
    StageInput,
    StoreBundleInput,
)
from agent_registry.assets.bundle import BundleLimits
from agent_registry.registry import store
from agent_registry.registry.db import read_scope, session_scope
from agent_registry.registry.errors import NotFoundError
from agent_registry.registry.store.attestations import (
    BundleDigests,
    attest_publication,
    bundle_digests,
)


class RegistryWrites:
    """Registry database writes, each idempotent by the key in its request.

    Args:
        engine: The registry database.
        limits: Bundle limits, for re-reading a bundle when signing its publication.
        signer: Signs each publication; None where no signing key is configured.
    """

    def __init__(
        self, engine: Engine, *, limits: BundleLimits, signer: Signer | None = None
    ) -> None:
        self._engine = engine
        self._limits = limits
        self._signer = signer

    def staged_archive(self, content_hash: str) -> bytes:
        """The archive the CLI staged under ``content_hash``.

        Raises:
            NotFoundError: Nothing is staged under that hash.
        """
        with read_scope(self._engine) as session:
            return store.get_blob(session, content_hash=content_hash)

    def store_version(
        self,
        request: StoreBundleInput,
        *,
        archive: bytes,
        manifest: dict[str, object],
        description: str,
    ) -> str:
        """Store the canonical ``archive`` and register the version; returns its hash.

        Raises:
            RegistryError: The version is already published with other content.
        """
        with session_scope(self._engine) as session:
            content_hash = store.put_blob(session, data=archive)
            store.register_version(
                session,
                ref=request.ref,
                owner_team=request.metadata.owner_team,
                submitter=request.submitter,
                authors=request.metadata.authors,
                changelog=request.metadata.changelog,
                machine_authored=request.metadata.machine_authored,
                content_hash=content_hash,
                manifest=manifest,
                description=description,
                workflow_id=request.workflow_id,
                event_key=request.event_key,
            )
            if request.then_stage is not None:
                write_stage(session, request.then_stage)
        return content_hash

    def set_stage(self, request: StageInput) -> None:
        """Set the version's stage and append the audit event (once per event key)."""
        with session_scope(self._engine) as session:
            write_stage(session, request)

    def record_decision(self, request: DecisionInput) -> None:
        """Record a reviewer's vote (once per decision key)."""
        with session_scope(self._engine) as session:
            store.record_decision(
                session,
                ref=request.ref,
                decision_key=request.decision_key,
                reviewer=request.vote.reviewer,
                decision=request.vote.decision,
                reason=request.vote.reason,
                source=request.vote.source,
            )

    def publish(self, request: PublishInput) -> None:
        """Publish and sign in one transaction: never published without its statement.

        Raises:
            RegistryError: The stored content differs from the approved hash.
        """
        digests = self._digests(request)
        with session_scope(self._engine) as session:
            self._publish(session, request, digests)

    def publish_and_schedule(self, request: PublicationInput) -> int:
        """Publish, sign and schedule the first re-certification in one transaction.

        Returns:
            How many older versions of the asset are published, which this one supersedes.

        Raises:
            RegistryError: The stored content differs from the approved hash.
        """
        ref = request.publish.ref
        digests = self._digests(request.publish)
        with session_scope(self._engine) as session:
            self._publish(session, request.publish, digests)
            store.schedule_recertification(
                session,
                ref=ref,
                recertify_by=request.recertify_by,
                event_key=request.recertification_key,
            )
            older = store.published_predecessors(
                session, kind=ref.kind, name=ref.name, version=ref.version
            )
            return len(older)

    def _digests(self, request: PublishInput) -> BundleDigests | None:
        """The approved bundle's file digests for the statement, read before the write."""
        if self._signer is None:
            return None
        with read_scope(self._engine) as session:
            try:
                archive = store.get_blob(session, content_hash=request.content_hash)
            except NotFoundError:
                return None  # the publication refuses the hash, in its transaction
        return bundle_digests(archive, content_hash=request.content_hash, limits=self._limits)

    def _publish(
        self, session: Session, request: PublishInput, digests: BundleDigests | None
    ) -> None:
        store.publish_version(
            session,
            ref=request.ref,
            content_hash=request.content_hash,
            approvers=request.approvers,
            event_key=request.event_key,
        )
        if self._signer is not None:
            attest_publication(
                session,
                ref=request.ref,
                signer=self._signer,
                limits=self._limits,
                digests=digests,
            )


def write_stage(session: Session, request: StageInput) -> None:
    """Set a version's stage and append its audit event, in the caller's transaction."""
    store.set_stage(
        session,
        ref=request.ref,
        stage=request.stage,
        actor=request.actor,
        event_key=request.event_key,
        detail={"note": request.note} if request.note else None,
        policy_version=request.policy_version,
    )
