"""Fetching a version's bundle and proving it is the content that was reviewed.

The content hash recorded at publication is the sha256 of the canonical archive; a
bundle whose bytes hash to anything else was swapped or damaged on the way, and no part
of it is used.
"""

from __future__ import annotations

import hashlib

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import Bundle, BundleLimits
from agent_registry.catalog.database import CorruptBundleError
from agent_registry.catalog.models import CatalogSource, VersionSummary
from agent_registry.distribution.errors import BundleMismatchError


def verified_bundle(
    catalog: CatalogSource, version: VersionSummary, *, limits: BundleLimits
) -> Bundle:
    """The files of ``version``, after checking their archive against its content hash.

    Args:
        catalog: Where the archive comes from.
        version: The version (its ``content_hash`` is the expected sha256).
        limits: The caps the archive must stay within, as a submitted bundle must.

    Returns:
        The bundle.

    Raises:
        BundleMismatchError: The archive's sha256 is not the content hash (or the
            database catalog found its stored bytes damaged).
        CatalogNotFoundError: The registry has no archive under that hash.
        BundleError: The archive is not a safe bundle.
    """
    try:
        data = catalog.bundle(version.content_hash)
    except CorruptBundleError as damaged:
        raise BundleMismatchError(
            ref=version.ref, expected=version.content_hash, actual=None, detail=str(damaged)
        ) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != version.content_hash.lower():
        raise BundleMismatchError(ref=version.ref, expected=version.content_hash, actual=actual)
    return bundle_from_archive(data, limits=limits)
