"""Submit an MCP server folder as an ordinary submission: the one call imports make.

``agentreg import mcp --submit`` comes through here, and sends each version to the
registry server's submission route exactly as ``agentreg submit`` does: the server
names the submitter from the caller's credential, decides machine authorship from it,
stages the bundle and starts the lifecycle (eval bar, live probe, human review). The
person importing needs no Temporal credentials. The scheduled import submits in the
worker, as the principal the server verified when the watch was set up
(:mod:`activities.mcp_import`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent_registry.api.write_schemas import SUBMISSIONS_PATH
from agent_registry.assets.refs import AssetRef
from agent_registry.cli.registry_writes import (
    ServerAnswerError,
    acted_as,
    archive_text,
    send_write,
)
from agent_registry.cli.submit import prepare_submission
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import Submission


@dataclass(frozen=True)
class Submitted:
    """What became of one folder: started now, or submitted before (nothing started).

    Attributes:
        ref: The version.
        started: Whether this call started its lifecycle.
        workflow_id: The lifecycle's workflow id.
        acted_as: As whom the server acted (empty when nothing was started).
    """

    ref: AssetRef
    started: bool
    workflow_id: str
    acted_as: str = ""


def prepare_folder(
    settings: Settings, folder: Path, *, submitter: str, team: str | None
) -> Submission:
    """Read and check one folder as ``agentreg submit`` does; nothing is sent.

    Raises:
        CliError, MetadataError, AssetLoadError, BundleError: As ``agentreg submit``.
    """
    return prepare_submission(settings, folder, submitter=submitter, team=team)


def send_prepared(settings: Settings, submission: Submission, *, as_user: str | None) -> Submitted:
    """Send one prepared submission to the server; one submitted before is reported.

    Raises:
        CliError: The server refused (401/403 with its one line), could not be reached,
            or found the body invalid.
    """
    ref = submission.ref
    metadata = submission.metadata.model_copy(
        update={"authors": [a for a in submission.metadata.authors if a.strip()]}
    )
    body = {
        "ref": str(ref),
        "metadata": metadata.model_dump(mode="json"),
        "archive": archive_text(submission.archive),
    }
    try:
        reply = send_write(settings, SUBMISSIONS_PATH, body, as_user=as_user)
    except ServerAnswerError as error:
        if error.status == 409:  # the route's answer to a version submitted before
            return Submitted(ref=ref, started=False, workflow_id=ref.workflow_id)
        raise
    return Submitted(ref=ref, started=True, workflow_id=reply.workflow_id, acted_as=acted_as(reply))
