"""Registry writes: store the bundle, record stages, decisions and publication."""

from __future__ import annotations

from securesystemslib.signer import Signer
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import (
    DecisionInput,
    PublishInput,
    StageInput,
    StoreBundleInput,
    StoredBundle,
)
from agent_registry.assets.archive import bundle_from_archive, canonical_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.loader import parse_asset
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.registry.errors import NotFoundError, RegistryError
from agent_registry.registry.store.attestations import attest_publication


def _business_failure(error: Exception, *, error_type: str) -> ApplicationError:
    """A failure retrying cannot fix: the workflow decides what happens next."""
    return ApplicationError(str(error), type=error_type, non_retryable=True)


class RegistryActivities:
    """Registry database writes, each idempotent by a key the workflow derives."""

    def __init__(
        self, engine: Engine, *, limits: BundleLimits, signer: Signer | None = None
    ) -> None:
        self._engine = engine
        self._limits = limits
        self._signer = signer

    def _archive(self, request: StoreBundleInput) -> bytes:
        """The archive sent with the request, or the one staged under its hash."""
        if request.archive or request.staged_hash is None:
            return request.archive
        try:
            with session_scope(self._engine) as session:
                return store.get_blob(session, content_hash=request.staged_hash)
        except NotFoundError:
            raise ApplicationError(
                f"{request.ref}: the bundle staged as {request.staged_hash[:12]} is not in "
                "the registry; agentreg submit must use the worker's registry "
                "(AGENT_REGISTRY_DATABASE_URL, or AGENT_REGISTRY_API_URL to its server)",
                type="StagedBundleMissing",
                non_retryable=True,
            ) from None

    @activity.defn(name="store_bundle")
    def store_bundle(self, request: StoreBundleInput) -> StoredBundle:
        """Check the archive, store it content-addressed and register the version.

        The archive is re-read and re-archived canonically here, so what is stored and
        hashed never depends on how the caller built it.

        Raises:
            ApplicationError: Non-retryable, when the archive is unsafe or invalid, the
                manifest does not match the reference, or the version is already
                published with other content.
        """
        try:
            bundle = bundle_from_archive(self._archive(request), limits=self._limits)
        except BundleError as error:
            raise _business_failure(error, error_type="InvalidBundle") from None
        parsed = parse_asset(bundle, request.ref.kind)
        if parsed.manifest is None:
            problems = "; ".join(f"{p.location}: {p.message}" for p in parsed.problems[:5])
            raise ApplicationError(
                f"{request.ref}: the manifest is invalid: {problems}",
                type="InvalidManifest",
                non_retryable=True,
            )
        if parsed.manifest.name != request.ref.name:
            raise ApplicationError(
                f"{request.ref}: the manifest names '{parsed.manifest.name}', "
                f"not '{request.ref.name}'",
                type="InvalidManifest",
                non_retryable=True,
            )
        archive = canonical_archive(bundle)
        try:
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
                    manifest=parsed.manifest.model_dump(mode="json", by_alias=True),
                    description=parsed.manifest.description,
                    workflow_id=request.workflow_id,
                    event_key=request.event_key,
                )
        except RegistryError as error:
            raise _business_failure(error, error_type=type(error).__name__) from None
        return StoredBundle(content_hash=content_hash, description=parsed.manifest.description)

    @activity.defn(name="record_stage")
    def record_stage(self, request: StageInput) -> None:
        """Set the version's stage and append the audit event (once per event key)."""
        with session_scope(self._engine) as session:
            store.set_stage(
                session,
                ref=request.ref,
                stage=request.stage,
                actor=request.actor,
                event_key=request.event_key,
                detail={"note": request.note} if request.note else None,
                policy_version=request.policy_version,
            )

    @activity.defn(name="record_decision")
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

    @activity.defn(name="publish_version")
    def publish_version(self, request: PublishInput) -> None:
        """Publish the approved content and sign it; a retry never makes a second row or event.

        The signed statement is written in the same transaction as the publication, so a
        version is never published without it (where a signing key is configured), and a
        retry finds it there and signs nothing twice.

        Raises:
            ApplicationError: Non-retryable, when the stored content differs.
        """
        try:
            with session_scope(self._engine) as session:
                store.publish_version(
                    session,
                    ref=request.ref,
                    content_hash=request.content_hash,
                    approvers=request.approvers,
                    event_key=request.event_key,
                )
                if self._signer is not None:
                    attest_publication(
                        session, ref=request.ref, signer=self._signer, limits=self._limits
                    )
        except RegistryError as error:
            raise _business_failure(error, error_type=type(error).__name__) from None
