"""The write API's paths and bodies, shared by the server's routes and the CLI.

Every write names its caller only through the request's credential: no body here has
a field for who is asking, where the request came from or which groups the caller is
in. The server resolves the principal (:func:`agent_registry.identity.http.require_principal`)
and puts it into the lifecycle's update itself.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field

from agent_registry.assets.manifests import FalsePositiveMark, RegistryMetadata
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.wire.paths import API_PREFIX

SUBMISSIONS_PATH = f"{API_PREFIX}/submissions"
REVISIONS_PATH = f"{API_PREFIX}/revisions"
VOTES_PATH = f"{API_PREFIX}/votes"
ATTESTATIONS_PATH = f"{API_PREFIX}/attestations"
DEPRECATIONS_PATH = f"{API_PREFIX}/deprecations"
LIFECYCLE_STATUS_PATH = f"{API_PREFIX}/lifecycle-status"

_STRICT = ConfigDict(extra="forbid")


class SubmitBody(BaseModel):
    """A new asset version: its ref, its registry metadata and its canonical archive.

    ``metadata.machine_authored`` is ignored: the server sets it from the caller's
    principal (a client-credentials token is a machine), never from a declaration.
    """

    model_config = _STRICT
    ref: str
    metadata: RegistryMetadata
    archive: Base64Bytes


class ReviseBody(BaseModel):
    """New content for a version that failed its eval or had changes requested."""

    model_config = _STRICT
    ref: str
    archive: Base64Bytes
    changelog: str | None = None
    false_positives: list[FalsePositiveMark] | None = None


class VoteBody(BaseModel):
    """A reviewer's decision on a version in review."""

    model_config = _STRICT
    ref: str
    decision: Decision
    reason: str | None = None


class AttestBody(BaseModel):
    """The owner team's attestation of a version due for re-certification."""

    model_config = _STRICT
    ref: str


class DeprecateBody(BaseModel):
    """A request to deprecate a published version."""

    model_config = _STRICT
    ref: str
    reason: str
    replacement: str | None = None
    sunset: datetime | None = None


class WriteReply(BaseModel):
    """What the lifecycle answered, and as whom the server acted.

    Attributes:
        ref: The version written to.
        stage: Its stage after the write was accepted.
        message: The lifecycle's one-line answer.
        principal: The caller's canonical email, as the server resolved it.
        identity: ``verified``, or ``unverified`` in local mode (``--as`` on trust).
        workflow_id: The lifecycle's workflow id (submissions).
        ui_link: The lifecycle in the Temporal Web UI (submissions).
    """

    ref: str
    stage: Stage
    message: str
    principal: str
    identity: str
    workflow_id: str = ""
    ui_link: str = ""


class StatusReply(BaseModel):
    """A lifecycle's state, for clients that hold no Temporal credentials."""

    status: AssetStatus
    running: bool = Field(description="Whether the lifecycle still takes input.")
