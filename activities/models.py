"""Every activity's input and output models, in one module that imports nothing heavy.

Workflows import these (and the activity classes, to call them by method reference)
inside the workflow sandbox, where every module loaded is loaded for each replay and
where database drivers, Slack clients or parsers have no business. So this module is
a leaf: pydantic, the standard library and the registry's own wire vocabulary only
(refs, findings, stages, the lifecycle contract), never the activities' I/O.

The field names, types and defaults are the payloads recorded in workflow histories:
add fields with defaults, never rename or retype one, or recorded lifecycles stop
replaying.

The scheduled MCP import's models are the registry server's wire contract too (it
starts the import's schedule), so they live in :mod:`agent_registry.mcp_registry.contract`
and are re-exported here, as are the lifecycle contract's models activities return.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent_registry.assets.manifests import FalsePositiveMark, RegistryMetadata
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.contract import (
    AssetStatus,
    EvalSummary,
    LifePlan,
    ReviewPlan,
    SlackMessageRef,
    Vote,
)
from agent_registry.lifecycle.notices import NoticeEvent
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.mcp_probe.fingerprint import ToolFingerprint
from agent_registry.mcp_registry.contract import (
    ImportOutcome,
    ImportPlan,
    McpImportInput,
    SubmitPickInput,
    UpstreamPick,
)
from agent_registry.slack.snapshot import ReviewSnapshot, review_snapshot
from agent_registry.vocabulary.behaviour_figures import BehaviourFigures
from agent_registry.vocabulary.findings import Finding

__all__ = [
    "Audience",
    "BehaviourInput",
    "BehaviourOutput",
    "DecisionInput",
    "DeprecationInput",
    "EvalOutcome",
    "EvaluateInput",
    "ImportOutcome",
    "ImportPlan",
    "LifePlan",
    "LifePlanInput",
    "McpImportInput",
    "Notice",
    "ProbeInput",
    "ProbeOutput",
    "PublishInput",
    "PublishedFigures",
    "PurgeInput",
    "RecertificationInput",
    "RetireInput",
    "ReviewMessageUpdate",
    "ReviewRequestInput",
    "ReviewSnapshot",
    "SlackMessageRef",
    "StageInput",
    "StoreBundleInput",
    "StoredBundle",
    "SubmitPickInput",
    "UpstreamPick",
]


# Registry writes (activities.registry)


class StageInput(BaseModel):
    """Record a stage change with an audit event."""

    ref: AssetRef
    stage: Stage
    actor: str
    event_key: str
    note: str = ""
    policy_version: str | None = None


class StoreBundleInput(BaseModel):
    """Store one (first or revised) bundle of a version.

    Attributes:
        ref: The asset version.
        metadata: Registry metadata of the submission.
        submitter: Who submitted the version.
        actor: Who sent this bundle (the submitter, or an author revising).
        archive: The bundle archive, from lifecycles started before bundles were staged;
            after this call only its hash travels.
        staged_hash: The hash of the archive the CLI staged in the registry (the archive
            is then empty).
        workflow_id: The lifecycle workflow, so a revision is told from a conflict.
        event_key: Idempotency key of this call.
        then_stage: The stage the stored bundle moves the version to (``Evaluating``),
            written in the same transaction; None in lifecycles from before the steps
            were merged, which record it with a call of their own.
    """

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    ref: AssetRef
    metadata: RegistryMetadata
    submitter: str
    actor: str
    archive: bytes = b""
    staged_hash: str | None = None
    workflow_id: str
    event_key: str
    then_stage: StageInput | None = None


class StoredBundle(BaseModel):
    """What the workflow keeps of a stored bundle: its hash and a description."""

    content_hash: str
    description: str


class DecisionInput(BaseModel):
    """Record one reviewer's vote."""

    ref: AssetRef
    decision_key: str
    vote: Vote


class PublishInput(BaseModel):
    """Publish a version: only the approved content hash may be published."""

    ref: AssetRef
    content_hash: str
    approvers: list[str]
    event_key: str


class PublicationInput(BaseModel):
    """Publish a version and schedule its first re-certification, in one transaction.

    Attributes:
        publish: What to publish.
        recertify_by: When the first re-certification is due (the workflow's clock).
        recertification_key: Idempotency key of the schedule.
    """

    publish: PublishInput
    recertify_by: datetime
    recertification_key: str


# The live MCP probe, on probe workers (activities.probe)


class ProbeInput(BaseModel):
    """Probe the MCP server in ``archive`` (the stored bundle ``content_hash`` of ``ref``).

    Attributes:
        ref: The asset version, for logs and messages.
        content_hash: The stored bundle's hash, checked against ``archive``.
        archive: The bundle archive itself: probe workers have no registry access.
        baseline: Tool fingerprints approved for the same content earlier, if any.
    """

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    ref: AssetRef
    content_hash: str
    archive: bytes
    baseline: list[ToolFingerprint] | None = None


class ProbeOutput(BaseModel):
    """What the probe found, for the eval activity to judge with the static findings.

    ``stderr_excerpt`` is what the server wrote to stderr, masked by the secret
    scanner's rules and capped by the probe; the eval activity stores it with the run
    for reviewers only, never in a finding (findings reach the submitter).
    """

    findings: list[Finding] = Field(default_factory=list)
    fingerprints: list[ToolFingerprint] = Field(default_factory=list)
    stderr_excerpt: str = ""


# Behavioural evals, on probe workers (activities.behaviour)


class PublishedFigures(BaseModel):
    """The published version a new one replaces, and what its evaluation measured."""

    version: str
    figures: BehaviourFigures


class BehaviourInput(BaseModel):
    """Evaluate the asset in ``archive`` (the stored bundle ``content_hash`` of ``ref``).

    Attributes:
        ref: The asset version.
        content_hash: The stored bundle's hash, checked against ``archive``.
        archive: The bundle archive: probe workers have no registry access.
        description: The asset's description, for the plugin it is wrapped in.
        tier: Its risk tier (the policy may require cases of some tiers).
        published: The version it replaces and that version's figures, if any.
    """

    model_config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")

    ref: AssetRef
    content_hash: str
    archive: bytes
    description: str
    tier: RiskTier
    published: PublishedFigures | None = None


class BehaviourOutput(BaseModel):
    """The findings for the eval report, and the figures to record with the version."""

    findings: list[Finding] = Field(default_factory=list)
    figures: BehaviourFigures | None = None


# The eval bar (activities.evaluation)


class EvaluateInput(BaseModel):
    """Evaluate the stored bundle ``content_hash`` of ``ref``; ``run_key`` makes it once.

    ``false_positives`` are the submission's marks; None (a lifecycle started before
    marks existed) leaves the marks the bundle itself carries in SKILL.md metadata.

    ``probe`` says where the live MCP probe runs: ``inline`` here (lifecycles started
    before probe workers), ``defer`` to ask for it (see the module docstring), ``given``
    when ``probe_output`` holds its result or ``probe_failure`` why there is none.

    ``behaviour`` does the same for the behavioural evals, which also run on probe
    workers: ``off`` (lifecycles started before they were wired), ``defer`` to ask for
    them when the asset ships cases, ``given`` with ``behaviour_output`` or
    ``behaviour_failure``.

    ``then_stage_key``, when set, makes the judging run also move the version to
    ``InReview`` (passed) or ``EvalFailed`` (blocked) in the transaction that records
    the run, under ``<then_stage_key>/<stage>``; lifecycles from before the steps were
    merged, and re-certifications, leave it unset.
    """

    ref: AssetRef
    content_hash: str
    run_key: str
    false_positives: list[FalsePositiveMark] | None = None
    probe: Literal["inline", "defer", "given"] = "inline"
    probe_output: ProbeOutput | None = None
    probe_failure: str | None = None
    behaviour: Literal["off", "defer", "given"] = "off"
    behaviour_output: BehaviourOutput | None = None
    behaviour_failure: str | None = None
    then_stage_key: str | None = None


class EvalOutcome(BaseModel):
    """The eval summary and what the policy asks of the review that follows.

    ``probe_request`` is set only by a ``defer`` evaluation that needs the live probe,
    ``behaviour_request`` by one that needs the behavioural evals (after the probe):
    then nothing was recorded yet, and the summary is the findings so far alone.
    """

    summary: EvalSummary
    plan: ReviewPlan
    probe_request: ProbeInput | None = None
    behaviour_request: BehaviourInput | None = None


# A published version's life (activities.life)


class LifePlanInput(BaseModel):
    """Ask the policy in force what a published version's life looks like."""

    risk_tier: RiskTier
    owner_team: str
    submitter: str
    authors: list[str]


class RecertificationInput(BaseModel):
    """Record when a version is next due, after publication or a passed cycle."""

    ref: AssetRef
    recertify_by: datetime
    event_key: str
    passed_cycle: bool = False
    policy_version: str | None = None


class DeprecationInput(BaseModel):
    """Record a deprecation in the registry."""

    ref: AssetRef
    reason: str
    by: str
    replacement: str | None
    sunset_at: datetime
    event_key: str


class RetireInput(BaseModel):
    """Record a retirement in the registry."""

    ref: AssetRef
    event_key: str


# Purging a bundle blocked for a secret (activities.purge)


class PurgeInput(BaseModel):
    """The version whose lifecycle ended blocked for a secret."""

    ref: AssetRef


# Notices to people (activities.notices)


class _RenderedFromSnapshot(BaseModel):
    """An input whose Slack wording is rendered from a :class:`ReviewSnapshot`."""

    @model_validator(mode="before")
    @classmethod
    def _snapshot_from_status(cls, data: Any) -> Any:
        """Read an input scheduled by an older build, which carried the whole status.

        Those builds sent the lifecycle's full ``status`` view with every notice and
        review message call; an activity they scheduled may still be pending (or
        retrying) when a newer worker picks it up. Its ``status`` is turned into the
        snapshot it would carry today, so it renders the same text.
        """
        if not isinstance(data, dict) or "status" not in data:
            return data
        data = dict(data)
        status = data.pop("status")
        if status is not None and data.get("snapshot") is None:
            data["snapshot"] = review_snapshot(AssetStatus.model_validate(status))
        return data


class Audience(StrEnum):
    """Who a notice is for."""

    SUBMITTER = "submitter"
    REVIEWERS = "reviewers"
    PLATFORM = "platform"


class Notice(_RenderedFromSnapshot):
    """One notice about one asset version.

    Attributes:
        ref: The asset version.
        event: What happened; recorded histories carry the same strings.
        audience: Who it is for.
        recipient: The person, for submitter notices (an email reaches them in Slack).
        text: The message.
        key: Idempotency key of the call; a retry posts nothing new.
        thread: The review request, for notices that belong in its thread.
        snapshot: What the lifecycle shows, from which Slack wording is rendered; inputs
            recorded before it carried the whole ``status`` instead, read into this.
        waited: How long the review has waited, for reminders and escalations.
        deadline: When what the notice asks for is due (the attestation's grace period).
    """

    ref: AssetRef
    event: NoticeEvent
    audience: Audience
    recipient: str | None = None
    text: str
    key: str = ""
    thread: SlackMessageRef | None = None
    snapshot: ReviewSnapshot | None = None
    waited: timedelta | None = None
    deadline: datetime | None = None


# The review request in Slack (activities.review_messages)


class ReviewRequestInput(_RenderedFromSnapshot):
    """Post the review request for ``snapshot`` (once per ``key``).

    Inputs recorded before the snapshot carried the whole ``status``, read into it.
    """

    snapshot: ReviewSnapshot
    key: str


class ReviewMessageUpdate(_RenderedFromSnapshot):
    """Show the review's progress, or its decision when ``decision`` is given.

    For an approval, ``snapshot`` decides whether the message still offers Deprecate or
    says that the version was deprecated or retired. Inputs recorded before the snapshot
    carried the whole ``status``, read into it.
    """

    snapshot: ReviewSnapshot
    message: SlackMessageRef
    decision: Vote | None = None
