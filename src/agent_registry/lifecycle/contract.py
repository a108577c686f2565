"""The contract between the lifecycle workflow and its callers (CLI, Slack app).

Callers start and update the workflow by its registered names with these models, so
``src/agent_registry`` never imports ``workflows/`` or ``activities/``. One input model
per call, so fields can be added compatibly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    model_validator,
)

from agent_registry.assets.manifests import FalsePositiveMark, RegistryMetadata
from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import Decision, RiskTier, Stage
from agent_registry.vocabulary.behaviour_figures import BehaviourRecord
from agent_registry.vocabulary.findings import Finding
from agent_registry.vocabulary.principal import Principal

LIFECYCLE_WORKFLOW = "AssetLifecycle"
"""Registered name of the per-version lifecycle workflow."""

STATUS_QUERY = "status"
APPROVE_UPDATE = "approve"
REJECT_UPDATE = "reject"
REQUEST_CHANGES_UPDATE = "request_changes"
REVISE_UPDATE = "revise"
ATTEST_UPDATE = "attest"
DEPRECATE_UPDATE = "deprecate"
SUPERSEDE_SIGNAL = "superseded"

DECISION_UPDATES: dict[Decision, str] = {
    Decision.APPROVE: APPROVE_UPDATE,
    Decision.REJECT: REJECT_UPDATE,
    Decision.REQUEST_CHANGES: REQUEST_CHANGES_UPDATE,
}

_BYTES_AS_BASE64 = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64")


class Submission(BaseModel):
    """Workflow input: one asset version, as submitted.

    ``agentreg submit`` stages the archive in the registry before it starts the
    lifecycle and sends only its hash (``staged_hash``), so the bundle's bytes, and any
    secret the eval bar is about to block in them, never enter the workflow's history.
    Lifecycles started before staging existed carry the archive itself, which the first
    activity stores by content hash; from then on every workflow carries the hash.

    Attributes:
        ref: The asset version.
        metadata: Resolved registry metadata (team, version, changelog, authors, attribution).
        submitter: Who submitted it; never allowed to approve it.
        archive: The canonical archive of the bundle; empty when it was staged, and
            when resuming.
        staged_hash: The sha256 of the archive staged in the registry, when it was.
        resume: The state to continue from, when the lifecycle continues as new: at
            the end of a re-certification cycle, or in review after a bounded number
            of revisions.
        resume_phase: Where a resumed lifecycle goes on: the published life, or the
            evaluation of the revision it stored last (``review``).
        processed_updates: Update ids already applied, carried across continue-as-new
            (Temporal deduplicates update ids within one run only).
    """

    model_config = _BYTES_AS_BASE64

    ref: AssetRef
    metadata: RegistryMetadata
    submitter: str
    archive: bytes = b""
    staged_hash: str | None = None
    resume: AssetStatus | None = None
    resume_phase: Literal["life", "review"] = "life"
    processed_updates: list[str] = Field(default_factory=list)


class LegacyCaller(BaseModel):
    """Who an update said it came from before the server resolved principals.

    Histories recorded before identities carry ``reviewer``/``attester``/``actor``/
    ``author`` strings with a caller-supplied ``source`` and ``verified_groups``. They
    are read into this, never into a field: replaying them must act as it did, and a new
    update that still sends them is refused by the validators (:func:`caller_refusal`).
    """

    identity: str = ""
    source: str = "cli"
    verified_groups: list[str] = Field(default_factory=list)


_LEGACY_KEYS = ("source", "verified_groups")


class _FromServer(BaseModel):
    """An update input that names its caller by the principal the server resolved.

    Attributes:
        principal: Who sent it, as the registry server authenticated them (OIDC token,
            Slack's signed request, or local mode's unverified ``--as``). None only in
            updates recorded before identities (see :class:`LegacyCaller`).
    """

    _identity_key: ClassVar[str] = ""
    principal: Principal | None = None
    _legacy: LegacyCaller | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _split_legacy(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        legacy: LegacyCaller | None = None
        if isinstance(data, dict) and (
            cls._identity_key in data or any(key in data for key in _LEGACY_KEYS)
        ):
            data = dict(data)
            legacy = LegacyCaller(
                identity=str(data.pop(cls._identity_key, "") or ""),
                source=str(data.pop("source", "cli") or "cli"),
                verified_groups=list(data.pop("verified_groups", []) or []),
            )
        model = handler(data)
        if legacy is not None:
            model._legacy = legacy
        return model

    @property
    def legacy(self) -> LegacyCaller | None:
        """The caller as an update recorded before identities named it, if it did."""
        return self._legacy

    @property
    def who(self) -> str:
        """The caller's canonical email (or, replaying an old update, what it said)."""
        if self.principal is not None:
            return self.principal.email
        return self._legacy.identity.strip() if self._legacy is not None else ""

    @property
    def source(self) -> str:
        """How the caller was identified: ``oidc``, ``slack``, ``local-unverified``."""
        if self.principal is not None:
            return self.principal.verified_by.value
        return self._legacy.source if self._legacy is not None else ""

    @property
    def groups(self) -> list[str]:
        """The groups the server found the caller in."""
        if self.principal is not None:
            return list(self.principal.groups)
        return list(self._legacy.verified_groups) if self._legacy is not None else []


def caller_refusal(update: _FromServer) -> str | None:
    """Why an update's caller is not acceptable in a new update, or None.

    Only the registry server (and the workers) can reach the namespace in a production
    deployment; it puts the principal it resolved in every update. An update without
    one, or with the old caller-supplied fields, was not sent by the server.
    """
    if update.legacy is not None:
        return (
            "caller-supplied identity fields (reviewer, source, verified_groups) are not "
            "accepted; send the decision through the registry server"
        )
    if update.principal is None:
        return "the update names no principal; send the decision through the registry server"
    return None


class ReviewInput(_FromServer):
    """A reviewer's vote.

    Attributes:
        reason: Why; required to reject or request changes.
    """

    _identity_key: ClassVar[str] = "reviewer"
    reason: str | None = None

    @property
    def reviewer(self) -> str:
        """The reviewer's canonical email."""
        return self.who


class RevisionInput(_FromServer):
    """New content for the same version while it is EvalFailed or ChangesRequested.

    Attributes:
        principal: Who sent the revision (the submitter or one of the authors).
        archive: The canonical archive of the revised bundle; empty when it was staged.
        staged_hash: The sha256 of the revised archive staged in the registry, when it was.
        changelog: Replaces the changelog line when given.
        false_positives: Replace the submission's false-positive marks when given (the
            revision's sidecar is read again, so a submitter can add or drop a mark).
    """

    model_config = _BYTES_AS_BASE64
    _identity_key: ClassVar[str] = "author"

    archive: bytes = b""
    staged_hash: str | None = None
    changelog: str | None = None
    false_positives: list[FalsePositiveMark] | None = None

    @property
    def author(self) -> str:
        """The sender's canonical email."""
        return self.who


class AttestInput(_FromServer):
    """The owner team's attestation that a published version is still fit for use."""

    _identity_key: ClassVar[str] = "attester"

    @property
    def attester(self) -> str:
        """The attester's canonical email."""
        return self.who


class DeprecateInput(_FromServer):
    """A request to deprecate a published version.

    Attributes:
        reason: Why; shown to everyone who uses the version.
        replacement: The version to use instead, ``kind/name@version``.
        sunset: When the version retires; the policy's default period when None.
        system: Set only by the workflow itself (a newer version superseded this one);
            never accepted in an update.
    """

    _identity_key: ClassVar[str] = "actor"
    reason: str
    replacement: str | None = None
    sunset: datetime | None = None
    system: str | None = None

    @property
    def actor(self) -> str:
        """Who asks: the caller's canonical email, or the registry itself."""
        return self.system or self.who


class SupersededSignal(BaseModel):
    """Sent by the lifecycle of a newer published version to the one it replaces."""

    replacement: str


class Deprecation(BaseModel):
    """Why and until when a version is deprecated, and what replaces it."""

    reason: str
    by: str
    at: datetime
    sunset_at: datetime
    replacement: str | None = None


class LifePlan(BaseModel):
    """What the policy in force asks of a published version, read at every cycle.

    Attributes:
        policy_version: The policy the durations come from.
        recertify_every: Interval between re-certifications for the version's tier.
        grace: How long the owner team has to attest once re-certification is due.
        sunset_after: Default time from deprecation to retirement.
        attesters: Who may attest: the owner team's group, else submitter and authors.
        deprecators: Who may deprecate besides the owner team: the platform group.
    """

    policy_version: str
    recertify_every: timedelta
    grace: timedelta
    sunset_after: timedelta
    attesters: list[str] = Field(default_factory=list)
    deprecators: list[str] = Field(default_factory=list)


class ReviewPlan(BaseModel):
    """What policy requires of this version's review, decided in an activity.

    The workflow cannot read the policy file (no I/O), so the evaluation activity reads
    the policy in force and hands its decisions over in this shape.

    Attributes:
        policy_version: The policy version the decisions come from.
        approvals_required: Distinct approvals needed.
        require_groups: Groups that must each supply at least one approver.
        group_members: Members of every group named here and of ``reviewers``.
        sla: How long before the review thread is reminded.
        escalate_after: How long before the platform channel is told.
        revision_window: How long EvalFailed / ChangesRequested wait for a revision.
        cli_reviews: Whether decisions sent from the command line count (votes, and
            later attestations and deprecations); off in a production configuration,
            where the people who decide are identified by Slack.
    """

    policy_version: str
    approvals_required: int
    require_groups: list[str] = Field(default_factory=list)
    group_members: dict[str, list[str]] = Field(default_factory=dict)
    sla: timedelta
    escalate_after: timedelta
    revision_window: timedelta
    cli_reviews: bool = True


class SimilarAsset(BaseModel):
    """A published asset that resembles a submission: a candidate to reuse instead.

    Attributes:
        ref: The published version, ``kind/name@version``.
        owner_team: The team to talk to before building a second one.
        score: Lexical similarity of name and description, 0 to 1.
        description: The published asset's description, so a reader can judge.
    """

    ref: str
    owner_team: str
    score: float
    description: str = ""

    def label(self) -> str:
        """One line for a report, e.g. ``skill/pdf-report@1.2.0 (team data, 81% alike)``."""
        return f"{self.ref} (team {self.owner_team}, {round(self.score * 100)}% alike)"


class EvalSummary(BaseModel):
    """The outcome of one eval run, small enough for workflow history.

    Attributes:
        run_key: The run's idempotency key in the registry.
        policy_version: The policy the eval ran under.
        passed: No blocking finding.
        blocking: Number of blocking findings.
        warnings: Number of warnings.
        top_findings: The most important findings (blocking first), at most a handful.
        risk_tier: The derived risk tier.
        tier_reasons: Why the tier is what it is.
        similar: Published assets this one resembles (reuse before rebuild).
        behaviour: The behavioural eval's figures, when its cases ran.
    """

    run_key: str
    policy_version: str
    passed: bool
    blocking: int
    warnings: int
    top_findings: list[Finding] = Field(default_factory=list)
    risk_tier: RiskTier
    tier_reasons: list[str] = Field(default_factory=list)
    similar: list[SimilarAsset] = Field(default_factory=list)
    behaviour: BehaviourRecord | None = None


class Vote(BaseModel):
    """A decision a reviewer made, as the workflow recorded it.

    Attributes:
        reviewer: The reviewer's canonical email.
        source: How the server identified them (``oidc``, ``slack``,
            ``local-unverified``; ``cli`` in votes recorded before identities).
        verified_groups: The groups the server found them in.
    """

    reviewer: str
    decision: Decision
    reason: str | None = None
    source: str = "cli"
    verified_groups: list[str] = Field(default_factory=list)
    at: datetime


class StageChange(BaseModel):
    """One step of the lifecycle, for the status timeline."""

    stage: Stage
    at: datetime
    note: str = ""


class SlackMessageRef(BaseModel):
    """Where a posted Slack message lives, so it can be updated and threaded under."""

    channel: str
    ts: str


class AssetStatus(BaseModel):
    """Everything the ``status`` query returns about one asset version.

    Attributes:
        ref: The asset version.
        stage: Where it stands.
        owner_team: The owning team.
        submitter: Who submitted it.
        authors: Who wrote it.
        machine_authored: Attribution flag.
        content_hash: sha256 of the canonical bundle archive, once stored.
        revision: How many revisions were sent after the first submission.
        eval: The latest eval run.
        plan: What the review needs, once evaluated.
        votes: Every vote cast in the current review round.
        review_deadline: When the reviewers are reminded.
        waiting_for: What the lifecycle waits for now, in words.
        history: Every stage change.
        outcome_reason: Why the lifecycle ended where it did (rejection reason, …).
        review_message: The review request in Slack, when one was posted.
        recertify_by: When the next re-certification is due (published versions).
        recertifications: Re-certification cycles passed so far.
        attested_by: Who attested in the current re-certification.
        deprecation: Why, by whom, until when, and what replaces it, once deprecated.
        life: The policy's durations and roles for the published life, once published.
    """

    ref: AssetRef
    stage: Stage
    owner_team: str
    submitter: str
    authors: list[str] = Field(default_factory=list)
    machine_authored: bool = False
    content_hash: str | None = None
    revision: int = 0
    eval: EvalSummary | None = None
    plan: ReviewPlan | None = None
    votes: list[Vote] = Field(default_factory=list)
    review_deadline: datetime | None = None
    waiting_for: str = ""
    history: list[StageChange] = Field(default_factory=list)
    outcome_reason: str | None = None
    review_message: SlackMessageRef | None = None
    recertify_by: datetime | None = None
    recertifications: int = 0
    attested_by: str | None = None
    deprecation: Deprecation | None = None
    life: LifePlan | None = None

    @property
    def approvers(self) -> list[str]:
        """Reviewers who approved in the current round."""
        return [v.reviewer for v in self.votes if v.decision is Decision.APPROVE]


class VoteResult(BaseModel):
    """What a reviewer is told after a vote was accepted."""

    stage: Stage
    message: str


Submission.model_rebuild()
