"""The registry's tables (sqlmodel) and their read shapes, side by side.

Each table has a ``…Base`` with the columns callers see and the table model that adds
the keys; a ``…Public`` read shape exists where a reader needs one. Enum-valued columns
(kind, stage, risk tier, decision, severity) are stored as their plain string values so
that adding a stage or a tier never needs a database enum migration.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from agent_registry.assets.refs import InvalidRefError, semver_key
from agent_registry.vocabulary.findings import Finding, Severity

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names are fixed by convention so later migrations (and SQLite batch mode,
which rebuilds tables) can name the constraints they drop."""

# Conventions are applied as constraints attach to tables, so this must precede the models.
SQLModel.metadata.naming_convention = NAMING_CONVENTION


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC, as every timestamp column stores it."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always hands back aware UTC datetimes.

    PostgreSQL keeps the offset, SQLite does not: without this, the same query returns
    aware values on one database and naive ones on the other. Naive input is refused
    because its meaning (local time? UTC?) cannot be known here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store every timestamp in UTC; refuse naive ones."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: registry timestamps must be aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read back as aware UTC whatever the database kept."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def version_sort_key(version: str) -> str:
    """A string whose plain ``ORDER BY`` orders versions as semver does.

    Built from :func:`agent_registry.assets.refs.semver_key`. Only digits are used, so
    the order is the same under every collation (PostgreSQL's locale collations ignore
    punctuation and case, which would break a key made of the version text). Numbers are
    written as a zero-padded two-digit length and then the digits, which orders numbers
    of any size without a fixed width. A release sorts after its pre-releases; inside a
    pre-release, numeric identifiers sort before alphanumeric ones and alphanumeric ones
    sort by ASCII code, each character as three digits, ended by ``000``.

    Args:
        version: An exact semantic version.

    Returns:
        The sort key; build metadata is ignored, as semver precedence ignores it.

    Raises:
        InvalidRefError: If ``version`` is not a semantic version.
    """
    major, minor, patch, release, pre = semver_key(version)
    parts = [_number_key(major), _number_key(minor), _number_key(patch)]
    if release:
        parts.append("2")
        return "".join(parts)
    parts.append("1")
    for _, identifier in pre:
        if isinstance(identifier, int):
            parts.append("1" + _number_key(identifier))
        else:
            parts.append("2" + "".join(f"{ord(char):03d}" for char in identifier) + "000")
    return "".join(parts)


def _number_key(number: int) -> str:
    digits = str(number)
    if len(digits) > 99:
        raise InvalidRefError(f"version number {digits[:12]}… is too long to be stored")
    return f"{len(digits):02d}{digits}"


# --- assets ---------------------------------------------------------------------------


class AssetBase(SQLModel):
    """An asset name claimed by a team; its versions hang off it."""

    kind: str = Field(description="An AssetKind value.")
    name: str
    owner_team: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Asset(AssetBase, table=True):
    """One row per ``kind/name``; the first team to submit a name owns it."""

    __tablename__ = "asset"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: int | None = Field(default=None, primary_key=True)


class AssetVersionBase(SQLModel):
    """One version of an asset: its content, its stage, what review found, and its life after.

    The re-certification and deprecation columns are copies of what the lifecycle
    workflow decided, kept here so ``agentreg show`` and search can answer without
    asking Temporal, and so a retired version still says why and what replaced it.
    """

    version: str
    version_sort: str = Field(description="version_sort_key(version), for ORDER BY.")
    stage: str = Field(index=True, description="A lifecycle.Stage value.")
    content_hash: str = Field(index=True, description="sha256 hex of the canonical bundle.")
    manifest_json: str = Field(sa_type=Text, description="The manifest as submitted, JSON.")
    description: str = Field(sa_type=Text)
    risk_tier: str | None = Field(default=None, description="A lifecycle.RiskTier value.")
    tier_reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    submitter: str
    authors: list[str] = Field(default_factory=list, sa_type=JSON)
    changelog: str = Field(default="", sa_type=Text)
    machine_authored: bool = False
    workflow_id: str
    policy_version: str | None = None
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    approvers: list[str] = Field(default_factory=list, sa_type=JSON)
    recertify_by: datetime | None = Field(
        default=None, sa_type=UtcDateTime, description="When re-certification is next due."
    )
    recertified_at: datetime | None = Field(
        default=None, sa_type=UtcDateTime, description="When it last passed re-certification."
    )
    deprecated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    deprecated_by: str | None = None
    deprecation_reason: str | None = Field(default=None, sa_type=Text)
    replacement: str | None = Field(
        default=None, description="The version to use instead, kind/name@version."
    )
    sunset_at: datetime | None = Field(
        default=None, sa_type=UtcDateTime, description="When a deprecated version retires."
    )
    retired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    attestation: str | None = Field(
        default=None,
        sa_type=Text,
        description="The signed publication statement (DSSE envelope JSON), set at publication.",
    )

    def manifest(self) -> dict[str, object]:
        """The manifest as submitted, parsed back from its JSON text."""
        value = json.loads(self.manifest_json)
        if not isinstance(value, dict):
            raise TypeError(f"stored manifest of version {self.version} is not a JSON object")
        return value


class AssetVersion(AssetVersionBase, table=True):
    """A row per ``kind/name@version``; immutable in content once published."""

    __tablename__ = "asset_version"
    __table_args__ = (
        UniqueConstraint("asset_id", "version"),
        # Covers ``updated_since`` (migration 0008): the changed ids without their rows.
        Index("ix_asset_version_updated_at_id", "updated_at", "id", "asset_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    asset_id: int = Field(foreign_key="asset.id", index=True)


# --- content --------------------------------------------------------------------------


class Blob(SQLModel, table=True):
    """A bundle archive, content-addressed, so workflows pass the hash and never the bytes."""

    __tablename__ = "blob"

    content_hash: str = Field(primary_key=True, description="sha256 hex of data.")
    size: int
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# --- evals ----------------------------------------------------------------------------


class EvalRunBase(SQLModel):
    """One run of the eval bar over one version, under one policy version."""

    run_key: str = Field(unique=True, description="Caller's idempotency key.")
    policy_version: str
    passed: bool
    blocking_count: int
    warning_count: int
    risk_tier: str = Field(description="A lifecycle.RiskTier value.")
    content_hash: str | None = Field(
        default=None, index=True, description="The bundle evaluated; None on older runs."
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class EvalRun(EvalRunBase, table=True):
    """An eval run; its findings are :class:`EvalFindingRow` rows."""

    __tablename__ = "eval_run"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="asset_version.id", index=True)
    # Not on EvalRunBase, so no public read carries it: reviewers only (migration 0009).
    probe_stderr: str | None = Field(
        default=None,
        sa_type=Text,
        description="The probed server's stderr, masked and capped; None when none ran.",
    )
    behaviour_json: str | None = Field(
        default=None,
        sa_type=Text,
        description="The behavioural eval's BehaviourRecord as JSON (migration 0010).",
    )


class EvalRunPublic(EvalRunBase):
    """An eval run as reads return it."""

    id: int
    version_id: int


class EvalFindingBase(SQLModel):
    """One finding of an eval run, with the severity policy gave it."""

    check_id: str
    severity: str = Field(description="A vocabulary.findings.Severity value.")
    file: str | None = None
    line: int | None = None
    field: str | None = None
    message: str = Field(sa_type=Text)
    fix: str | None = Field(default=None, sa_type=Text)

    def to_finding(self) -> Finding:
        """The finding in the shape the checks and the reports use."""
        return Finding(
            check_id=self.check_id,
            severity=Severity(self.severity),
            message=self.message,
            file=self.file,
            line=self.line,
            field=self.field,
            fix=self.fix,
        )


class EvalFindingRow(EvalFindingBase, table=True):
    """A stored finding."""

    __tablename__ = "eval_finding"

    id: int | None = Field(default=None, primary_key=True)
    eval_run_id: int = Field(foreign_key="eval_run.id", index=True)


class ToolFingerprintRow(SQLModel, table=True):
    """What one MCP tool looked like when an eval run's live probe listed it.

    The first run over a bundle is the baseline: a later run over the same bundle (a
    re-certification) that sees a different description or input schema has caught a
    server changing behind an approved version.
    """

    __tablename__ = "tool_fingerprint"
    __table_args__ = (UniqueConstraint("eval_run_id", "tool_name"),)

    id: int | None = Field(default=None, primary_key=True)
    eval_run_id: int = Field(foreign_key="eval_run.id", index=True)
    tool_name: str
    digest: str = Field(description="sha256 of name, description and input schema.")
    description_digest: str
    schema_digest: str


# --- review ---------------------------------------------------------------------------


class ReviewDecisionBase(SQLModel):
    """What one reviewer decided about one version, and where they said it."""

    decision_key: str = Field(unique=True, description="The update id that carried it.")
    reviewer: str
    decision: str = Field(description="A lifecycle.Decision value.")
    reason: str | None = Field(default=None, sa_type=Text)
    source: str = Field(description='Where it came from: "cli", "slack", …')
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ReviewDecision(ReviewDecisionBase, table=True):
    """A stored review decision."""

    __tablename__ = "review_decision"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="asset_version.id", index=True)


# --- audit ----------------------------------------------------------------------------


class AuditEventBase(SQLModel):
    """One thing that happened to an asset version, and who did it.

    The ref, hash and policy version are copied in rather than joined, so the log reads
    on its own and stays true even if the rows it describes change later.
    """

    event_key: str = Field(unique=True, description="Idempotency key: one event per key.")
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    actor: str
    action: str = Field(description='e.g. "submitted", "stage:InReview", "published".')
    kind: str
    name: str
    version: str
    content_hash: str | None = None
    policy_version: str | None = None
    detail: dict[str, object] = Field(default_factory=dict, sa_type=JSON)
    seq: int | None = Field(
        default=None,
        unique=True,
        description="Place in the hash chain, 1, 2, 3, …; None only on rows written around it.",
    )
    prev_hash: str | None = Field(
        default=None, description="event_hash of the event before (64 zeros for the first)."
    )
    event_hash: str | None = Field(
        default=None, description="sha256 hex of this event's canonical JSON (audit_chain)."
    )


class AuditEvent(AuditEventBase, table=True):
    """The append-only audit log; the store never updates or deletes a row.

    Rows are chained by hash (see :mod:`agent_registry.registry.audit_chain`), so an
    update or delete made around the store shows up in ``agentreg audit verify``.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_ref", "kind", "name", "version"),)

    id: int | None = Field(default=None, primary_key=True)


class AuditChainHead(SQLModel, table=True):
    """The last link of the audit chain: one row, locked by every append.

    Appends take this row ``FOR UPDATE`` so that workers on several hosts extend the
    chain one at a time and it never forks; and since the head is written in the same
    transaction as the event, a verifier can tell that events were cut off the end.
    """

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True, description="Always 1: a single row.")
    seq: int = Field(description="seq of the last chained event; 0 for an empty chain.")
    event_hash: str = Field(description="event_hash of the last chained event.")


class SlackMessage(SQLModel, table=True):
    """A message the registry posted to Slack, under the key of the call that posted it.

    A retried post finds its earlier message here and updates it instead of posting a
    second one; the review request's ``channel``/``ts`` are what later updates address.
    """

    __tablename__ = "slack_message"

    key: str = Field(primary_key=True, description="Idempotency key of the posting call.")
    channel: str = Field(description="Channel id Slack answered with.")
    ts: str = Field(description="Message timestamp: Slack's id for the message.")
    purpose: str = Field(description="What the message is (review-request, notice, …).")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


# --- catalog use ----------------------------------------------------------------------


class InstallEventRow(SQLModel, table=True):
    """One install of a version into a project, as the install command reported it.

    Append-only. Kind, name and version are copied from the reported ref rather than
    joined, so an install of a version the registry does not hold (a typo, a version
    recorded before a restore) is still counted; ``version_id`` links the row to its
    version when the ref resolved at recording time, with no foreign key so that the
    counts never stand in the way of a version row.
    """

    __tablename__ = "install_event"
    __table_args__ = (Index("ix_install_event_asset", "kind", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str | None = Field(
        default=None, unique=True, description="The client's idempotency key, when it sent one."
    )
    kind: str
    name: str
    version: str
    version_id: int | None = Field(default=None, index=True)
    team: str | None = None
    user_name: str
    target: str
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class UsageEventRow(SQLModel, table=True):
    """One use of a registry asset in an agent session, as the usage hook reported it.

    Append-only, like :class:`InstallEventRow`. The hook re-sends a batch whose answer
    it missed, so rows carrying the same ``event_id`` are recorded once.
    """

    __tablename__ = "usage_event"
    __table_args__ = (Index("ix_usage_event_asset", "kind", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str | None = Field(
        default=None, unique=True, description="The client's idempotency key, when it sent one."
    )
    kind: str
    name: str
    version: str | None = None
    version_id: int | None = Field(default=None, index=True)
    tool: str | None = None
    team: str | None = None
    user_name: str
    session: str | None = None
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
