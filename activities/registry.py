"""Registry writes: store the bundle, record stages, decisions and publication.

The activities check what they are given and map failures for the workflow; the
database work is :class:`activities.registry_writes.RegistryWrites`, injected, so that
workflows can import this module (to call the activities by method reference) without
loading the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import (
    DecisionInput,
    PublicationInput,
    PublishInput,
    StageInput,
    StoreBundleInput,
    StoredBundle,
)
from agent_registry.assets.archive import bundle_from_archive, canonical_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.loader import parse_asset
from agent_registry.registry.errors import NotFoundError, RegistryError

if TYPE_CHECKING:
    from activities.registry_writes import RegistryWrites


def _business_failure(error: Exception, *, error_type: str) -> ApplicationError:
    """A failure retrying cannot fix: the workflow decides what happens next."""
    return ApplicationError(str(error), type=error_type, non_retryable=True)


class RegistryActivities:
    """Registry database writes, each idempotent by a key the workflow derives."""

    def __init__(self, writes: RegistryWrites, *, limits: BundleLimits) -> None:
        self._writes = writes
        self._limits = limits

    def _archive(self, request: StoreBundleInput) -> bytes:
        """The archive sent with the request, or the one staged under its hash."""
        if request.archive or request.staged_hash is None:
            return request.archive
        try:
            return self._writes.staged_archive(request.staged_hash)
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
            content_hash = self._writes.store_version(
                request,
                archive=archive,
                manifest=parsed.manifest.model_dump(mode="json", by_alias=True),
                description=parsed.manifest.description,
            )
        except RegistryError as error:
            raise _business_failure(error, error_type=type(error).__name__) from None
        return StoredBundle(content_hash=content_hash, description=parsed.manifest.description)

    @activity.defn(name="record_stage")
    def record_stage(self, request: StageInput) -> None:
        """Set the version's stage and append the audit event (once per event key)."""
        self._writes.set_stage(request)

    @activity.defn(name="record_decision")
    def record_decision(self, request: DecisionInput) -> None:
        """Record a reviewer's vote (once per decision key)."""
        self._writes.record_decision(request)

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
            self._writes.publish(request)
        except RegistryError as error:
            raise _business_failure(error, error_type=type(error).__name__) from None

    @activity.defn(name="publish_and_schedule")
    def publish_and_schedule(self, request: PublicationInput) -> int:
        """Publish, sign and schedule the first re-certification: one transaction.

        The three were three activities; one transaction is one durable step, run as a
        local activity by lifecycles started since the steps were merged.

        Returns:
            How many older published versions this one supersedes (the workflow tells
            their lifecycles only when there are some).

        Raises:
            ApplicationError: Non-retryable, when the stored content differs.
        """
        try:
            return self._writes.publish_and_schedule(request)
        except RegistryError as error:
            raise _business_failure(error, error_type=type(error).__name__) from None
