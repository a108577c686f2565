"""What a probe-worker activity checks before it runs anything: the policy and the bundle.

Probe workers have no registry access, so the bundle travels in the activity input and
is trusted only once it rebuilds within the limits and hashes to the stored bundle the
workflow named. The live probe and the behavioural evals check it the same way, here,
so that neither can drift into running an archive the registry never stored.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.exceptions import ApplicationError

from agent_registry.assets.archive import bundle_from_archive, content_hash
from agent_registry.assets.bundle import Bundle, BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.refs import AssetRef
from agent_registry.policy.loader import PolicyError, load_policy
from agent_registry.policy.model import Policy


def worker_policy(path: Path | None) -> Policy:
    """The policy file as it reads now (a worker reads it at every run).

    Raises:
        ApplicationError: Non-retryable ``InvalidPolicy``: a retry reads the same file.
    """
    try:
        return load_policy(path)
    except PolicyError as error:
        raise ApplicationError(str(error), type="InvalidPolicy", non_retryable=True) from None


def stored_bundle(
    archive: bytes, *, ref: AssetRef, expected_hash: str, limits: BundleLimits
) -> Bundle:
    """The bundle in ``archive``, once it is known to be ``ref``'s stored bundle.

    Raises:
        ApplicationError: Non-retryable ``InvalidBundle`` when the archive does not
            rebuild within ``limits`` or is not bundle ``expected_hash``.
    """
    try:
        bundle = bundle_from_archive(archive, limits=limits)
    except BundleError as error:
        raise ApplicationError(str(error), type="InvalidBundle", non_retryable=True) from None
    if content_hash(bundle) != expected_hash:
        raise ApplicationError(
            f"the archive of {ref} is not bundle {expected_hash}",
            type="InvalidBundle",
            non_retryable=True,
        )
    return bundle
