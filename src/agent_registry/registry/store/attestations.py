"""The signed statement a published version carries.

Written in the publishing transaction (see ``activities.registry``), so a version is
never published without it where the registry has a signing key, and once only: a
retried publication finds the statement and signs nothing twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from securesystemslib.signer import Signer
from sqlmodel import Session

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.refs import AssetRef
from agent_registry.registry.errors import StageError
from agent_registry.registry.store.blobs import get_blob
from agent_registry.registry.store.rows import locked_version, require_version
from agent_registry.registry.tables import AssetVersion
from agent_registry.signing.publication import Publication, sign_publication


@dataclass(frozen=True)
class BundleDigests:
    """Each file's sha256 in a stored bundle, and the bundle's content hash."""

    content_hash: str
    files: dict[str, str]
    single_file: bool


def bundle_digests(archive: bytes, *, content_hash: str, limits: BundleLimits) -> BundleDigests:
    """The digests the statement lists, from the stored archive ``content_hash`` names.

    Worked out before the publishing transaction where the caller can: the archive is
    stored by its hash and never changes, and on SQLite every writer waits while that
    transaction is open.
    """
    bundle = bundle_from_archive(archive, limits=limits)
    return BundleDigests(
        content_hash=content_hash,
        files={f.path: hashlib.sha256(f.data).hexdigest() for f in bundle.files},
        single_file=bundle.single_file,
    )


def attest_publication(
    session: Session,
    *,
    ref: AssetRef,
    signer: Signer,
    limits: BundleLimits,
    digests: BundleDigests | None = None,
) -> AssetVersion:
    """Sign the publication of ``ref`` (ref, content hash, approvers, policy, time, files).

    The statement also lists each file's sha256: what ``agentreg verify`` and the guard
    compare installed copies with. They come from ``digests`` when those are of the
    version's content, else from the stored bundle, read back here.

    Raises:
        NotFoundError: No such version.
        StageError: The version was never published.
    """
    version = require_version(locked_version(session, ref=ref), ref)
    if version.attestation is not None:
        return version
    if version.published_at is None:
        raise StageError(f"{ref} was never published, so there is no publication to sign")
    if digests is None or digests.content_hash != version.content_hash:
        digests = bundle_digests(
            get_blob(session, content_hash=version.content_hash),
            content_hash=version.content_hash,
            limits=limits,
        )
    version.attestation = sign_publication(
        Publication(
            ref=str(ref),
            content_hash=version.content_hash,
            approvers=list(version.approvers),
            policy_version=version.policy_version,
            published_at=version.published_at,
            files=digests.files,
            single_file=digests.single_file,
        ),
        signer,
    )
    session.add(version)
    session.flush()
    return version
