"""Stage a bundle in the registry before its lifecycle hears of it (claim check).

A lifecycle's start input and its updates are kept in the Temporal history, readable by
anyone with read access to the namespace until retention ends. A submitted bundle is
exactly what the eval bar has not yet checked, secrets included, so ``submit`` and
``revise`` put the bytes in the registry first, through the same door the catalog
reads use (the registry's API with ``AGENT_REGISTRY_API_URL``, else its database), and
send the workflow only their sha256.
"""

from __future__ import annotations

from functools import partial
from typing import TypeVar

from temporalio.client import Client

from agent_registry.config import Settings
from agent_registry.distribution.source import open_catalog
from agent_registry.evals.submission_text import refuse_secrets
from agent_registry.lifecycle.client import LifecycleClient, LifecycleHandle
from agent_registry.lifecycle.contract import RevisionInput, Submission

_Carrier = TypeVar("_Carrier", Submission, RevisionInput)
"""What carries a bundle to the registry: a submission or a revision."""


def stage_archive(settings: Settings, archive: bytes) -> str:
    """Stage ``archive`` in the registry these settings name; returns its sha256.

    Raises:
        NoRegistryError: The settings name no registry to stage in.
        InvalidBundleError: The registry refused the archive.
        CatalogApiError: The registry's API could not be reached or refused.
    """
    return open_catalog(settings).stage_bundle(archive)


def staged_submission(settings: Settings, submission: Submission) -> Submission:
    """``submission`` with its archive staged and replaced by the archive's hash.

    Raises:
        SecretInSubmissionError: The changelog or the description holds a credential;
            nothing is staged (see :mod:`agent_registry.evals.submission_text`).
    """
    refuse_secrets(
        submission.ref.kind,
        changelog=submission.metadata.changelog,
        archive=submission.archive,
        limits=settings.bundle_limits,
    )
    return _with_staged_archive(settings, submission)


def staged_revision(settings: Settings, revision: RevisionInput) -> RevisionInput:
    """``revision`` with its archive staged and replaced by the archive's hash.

    Raises:
        SecretInSubmissionError: The new changelog or description holds a credential.
    """
    refuse_secrets(
        None,
        changelog=revision.changelog or "",
        archive=revision.archive,
        limits=settings.bundle_limits,
    )
    return _with_staged_archive(settings, revision)


def _with_staged_archive(settings: Settings, carrier: _Carrier) -> _Carrier:
    """``carrier`` with its archive, if any, staged and replaced by the archive's hash."""
    if not carrier.archive:
        return carrier
    staged_hash = stage_archive(settings, carrier.archive)
    return carrier.model_copy(update={"archive": b"", "staged_hash": staged_hash})


async def start_lifecycle(
    client: Client, settings: Settings, *, submission: Submission
) -> LifecycleHandle:
    """Start a version's lifecycle on ``settings``' queue, staging its bundle first.

    The one way the CLI, the server and the MCP import start a lifecycle: through
    :class:`~agent_registry.lifecycle.client.LifecycleClient`, with this registry's
    staging, so the workflow's history holds the bundle's hash, never its bytes.
    """
    return await LifecycleClient(client).start(
        submission,
        task_queue=settings.task_queue,
        stage=partial(staged_submission, settings),
    )
