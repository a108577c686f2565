"""Errors the registry store raises; each message is fit to show a submitter as it is."""

from __future__ import annotations

from agent_registry.assets.refs import AssetKind, AssetRef


class RegistryError(Exception):
    """Base of everything the registry store refuses; the CLI turns it into a plain message."""


class NotFoundError(RegistryError):
    """The asked-for asset version, blob or asset is not in the registry."""


class VersionConflictError(RegistryError):
    """The same ``kind/name@version`` already stands for other content.

    Published versions are immutable, so the only way forward for new content is a new
    version number; the message says so and shows both hashes so the two can be told apart.

    Attributes:
        ref: The asset version that already exists.
        stored_hash: Content hash the registry holds for it.
        submitted_hash: Content hash that was refused.
        stage: Lifecycle stage of the stored version.
    """

    def __init__(self, *, ref: AssetRef, stored_hash: str, submitted_hash: str, stage: str) -> None:
        self.ref = ref
        self.stored_hash = stored_hash
        self.submitted_hash = submitted_hash
        self.stage = stage
        super().__init__(
            f"{ref} already exists (stage {stage}) with content {stored_hash[:12]}, "
            f"so content {submitted_hash[:12]} cannot take its place: a version's content "
            "never changes once published. Bump the version and submit again."
        )


class OwnershipError(RegistryError):
    """Another team owns the asset name; names are claimed by the first team to submit.

    Attributes:
        kind: The asset kind.
        name: The asset name.
        owner_team: The team that owns the name.
        requested_by: The team that was refused.
    """

    def __init__(self, *, kind: AssetKind, name: str, owner_team: str, requested_by: str) -> None:
        self.kind = kind
        self.name = name
        self.owner_team = owner_team
        self.requested_by = requested_by
        super().__init__(
            f"{kind.value}/{name} is owned by team '{owner_team}', so team '{requested_by}' "
            f"cannot submit versions of it; choose another name or ask '{owner_team}' to "
            "submit the change."
        )


class StageError(RegistryError):
    """A stage change the store will not record because it would bypass a safeguard."""
