"""The signed statement a published version carries.

Written in the publishing transaction (see ``activities.registry``), so a version is
never published without it where the registry has a signing key, and once only: a
retried publication finds the statement and signs nothing twice.
"""

from __future__ import annotations

import hashlib

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


def attest_publication(
    session: Session, *, ref: AssetRef, signer: Signer, limits: BundleLimits
) -> AssetVersion:
    """Sign the publication of ``ref`` (ref, content hash, approvers, policy, time, files).

    The stored bundle is read back so the statement also lists each file's sha256:
    what ``agentreg verify`` and the guard compare installed copies with.

    Raises:
        NotFoundError: No such version.
        StageError: The version was never published.
    """
    version = require_version(locked_version(session, ref=ref), ref)
    if version.attestation is not None:
        return version
    if version.published_at is None:
        raise StageError(f"{ref} was never published, so there is no publication to sign")
    bundle = bundle_from_archive(
        get_blob(session, content_hash=version.content_hash), limits=limits
    )
    version.attestation = sign_publication(
        Publication(
            ref=str(ref),
            content_hash=version.content_hash,
            approvers=list(version.approvers),
            policy_version=version.policy_version,
            published_at=version.published_at,
            files={f.path: hashlib.sha256(f.data).hexdigest() for f in bundle.files},
            single_file=bundle.single_file,
        ),
        signer,
    )
    session.add(version)
    session.flush()
    return version
