"""Submit an MCP server folder as an ordinary submission: the one call imports make.

``agentreg import mcp --submit`` and the scheduled import both come through here, so
an import meets the same path as ``agentreg submit`` (staging, the eval bar, the live
probe, human review), and moving submissions behind the registry server changes this
one function.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError

from agent_registry.assets.refs import AssetRef
from agent_registry.cli.lifecycle_client import start_lifecycle
from agent_registry.cli.submit import prepare_submission
from agent_registry.config import Settings
from agent_registry.contract import Submission


@dataclass(frozen=True)
class Submitted:
    """What became of one folder: started now, or submitted before (nothing started)."""

    ref: AssetRef
    started: bool
    workflow_id: str


def prepare_folder(
    settings: Settings, folder: Path, *, submitter: str, team: str | None
) -> Submission:
    """Read and check one folder as ``agentreg submit`` does; nothing is started.

    Raises:
        CliError, MetadataError, AssetLoadError, BundleError: As ``agentreg submit``.
    """
    return prepare_submission(settings, folder, submitter=submitter, team=team)


async def start_prepared(client: Client, settings: Settings, submission: Submission) -> Submitted:
    """Start the lifecycle of a prepared submission; one submitted before is reported."""
    ref = submission.ref
    try:
        handle = await start_lifecycle(client, settings, submission=submission)
    except WorkflowAlreadyStartedError:
        return Submitted(ref=ref, started=False, workflow_id=ref.workflow_id)
    return Submitted(ref=ref, started=True, workflow_id=handle.id)


async def submit_folder(
    client: Client, settings: Settings, folder: Path, *, submitter: str, team: str | None
) -> Submitted:
    """:func:`prepare_folder`, then :func:`start_prepared`."""
    submission = await asyncio.to_thread(
        prepare_folder, settings, folder, submitter=submitter, team=team
    )
    return await start_prepared(client, settings, submission)
