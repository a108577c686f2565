"""Registry writes: store the bundle, record stages, decisions and publication."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from securesystemslib.signer import Signer
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from agent_registry.assets.archive import bundle_from_archive, canonical_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.loader import parse_asset
from agent_registry.assets.manifests import RegistryMetadata
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.contract import Vote
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.registry.errors import NotFoundError, RegistryError
from agent_registry.registry.store.attestations import attest_publication


class StoreBundleInput(BaseModel):
    """Store one (first or revised) bundle of a version.

    Attributes:
        ref: The asset version.
        metadata: Registry metadata of the submission.
        submitter: Who submitted the version.
        actor: Who sent this bundle (the submitter, or an author revising).
        archive: The bundle archive, from lifecycles started before bundles were staged;
            after this call only its hash travels.
        staged_hash: The hash of the archive the CLI staged in the registry (the archive
            is then empty).
        workflow_id: The lifecycle workflow, so a revision is told from a conflict.
        event_key: Idempotency key of this call.
    """

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    ref: AssetRef
    metadata: RegistryMetadata
    submitter: str
    actor: str
    archive: bytes = b""
    staged_hash: str | None = None
    workflow_id: str
    event_key: str


class StoredBundle(BaseModel):
    """What the workflow keeps of a stored bundle: its hash and a description."""

    content_hash: str
    description: str


class StageInput(BaseModel):
    """Record a stage change with an audit event."""

    ref: AssetRef
    stage: Stage
    actor: str
    event_key: str
    note: str = ""
    policy_version: str | None = None


class DecisionInput(BaseModel):
    """Record one reviewer's vote."""

    ref: AssetRef
    decision_key: str
    vote: Vote


class PublishInput(BaseModel):
    """Publish a version: only the approved content hash may be published."""

    ref: AssetRef
    content_hash: str
    approvers: list[str]
    event_key: str


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
