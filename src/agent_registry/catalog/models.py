"""The catalog's read models: the JSON the API serves and the CLI and dashboard read.

Every model is plain data (pydantic), built from the registry by
:mod:`agent_registry.catalog.database` or fetched from the API by
:mod:`agent_registry.catalog.http`; both implement :class:`CatalogSource`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

from agent_registry.assets.refs import AssetKind
from agent_registry.vocabulary.behaviour_figures import BehaviourRecord
from agent_registry.vocabulary.findings import Finding

T = TypeVar("T")

MAX_PAGE_SIZE = 200
"""The most items one page of a listing holds."""


class ScopeTool(BaseModel):
    """One tool an MCP server may expose, as its owner declared it (``scope.yaml``)."""

    name: str
    effects: list[str]
    description: str | None = None


class DeprecationInfo(BaseModel):
    """Why a version is deprecated, what to use instead and when it retires."""

    reason: str
    deprecated_at: datetime | None = None
    deprecated_by: str | None = None
    replacement: str | None = Field(default=None, description="kind/name@version to use instead")
    sunset_at: datetime | None = None


class EvalInfo(BaseModel):
    """The last eval run of a version."""

    policy_version: str
    passed: bool
    blocking: int
    warnings: int
    findings: list[Finding] = Field(default_factory=list)
    evaluated_at: datetime | None = None
    behaviour: BehaviourRecord | None = Field(
        default=None, description="The behavioural eval's figures, when its cases ran."
    )


class VersionSummary(BaseModel):
    """One version as a listing shows it."""

    ref: str = Field(description="kind/name@version")
    kind: AssetKind
    name: str
    version: str
    stage: str
    owner_team: str
    description: str
    risk_tier: str | None = None
    content_hash: str
    published_at: datetime | None = None
    recertify_by: datetime | None = None
    sunset_at: datetime | None = None
    replacement: str | None = None


class VersionDetail(VersionSummary):
    """One version with everything ``agentreg show`` prints."""

    submitter: str
    authors: list[str] = Field(default_factory=list)
    changelog: str = ""
    machine_authored: bool = False
    approvers: list[str] = Field(default_factory=list)
    tier_reasons: list[str] = Field(default_factory=list)
    policy_version: str | None = None
    submitted_at: datetime
    recertified_at: datetime | None = None
    retired_at: datetime | None = None
    deprecation: DeprecationInfo | None = None
    scope: list[ScopeTool] = Field(
        default_factory=list, description="MCP servers: declared tools and their effects"
    )
    manifest: dict[str, object] = Field(default_factory=dict)
    eval: EvalInfo | None = None
    workflow_id: str
    other_versions: list[VersionSummary] = Field(default_factory=list)
    attestation: str | None = Field(
        default=None,
        description="The signed publication statement: a DSSE envelope holding an in-toto "
        "statement of ref, content hash, approvers, policy version and time",
    )


class SearchHit(VersionSummary):
    """A search result: a version and how well it matches the query."""

    score: float = Field(description="Relevance to the query, 0 to 1; 1 without a query")


class Page(BaseModel, Generic[T]):
    """One page of a listing.

    Attributes:
        items: This page's items.
        total: How many items match in all.
        limit: The page size asked for.
        offset: How many items come before this page.
        next_offset: The ``offset`` of the next page, or None on the last.
    """

    items: list[T]
    total: int
    limit: int
    offset: int
    next_offset: int | None = None


class SearchQuery(BaseModel):
    """What ``agentreg search`` and ``GET /api/v1/search`` ask for.

    Without a ``stage``, search covers what may be installed: published, re-certifying
    and deprecated versions (latest of each asset); retired ones are history.
    """

    text: str = ""
    kind: AssetKind | None = None
    team: str | None = None
    stage: str | None = None
    limit: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0)


class InstallEvent(BaseModel):
    """Someone installed a version into a project."""

    ref: str = Field(description="kind/name@version installed")
    team: str | None = None
    user: str
    target: Literal["claude-code"] = "claude-code"
    at: datetime
    event_id: str | None = Field(
        default=None, max_length=64, description="Idempotency key: one install per id"
    )


class UsageEvent(BaseModel):
    """A registry asset was used in an agent session (from the usage hook).

    Attributes:
        kind: What was used.
        name: Its name (for an MCP server, the registry name).
        version: The version in use, when the hook could tell.
        tool: For an MCP server, the tool called.
        team: The user's team, from their configuration.
        user: Who used it.
        session: The agent session id, so repeated uses in one session can be told apart.
        at: When.
        event_id: A unique id the hook gives each use, so a batch sent again after a
            lost answer is not counted twice; None from callers that send once.
    """

    kind: AssetKind
    name: str
    version: str | None = None
    tool: str | None = None
    team: str | None = None
    user: str
    session: str | None = None
    at: datetime
    event_id: str | None = Field(
        default=None, max_length=64, description="Idempotency key: one use per id"
    )


class CountByKey(BaseModel):
    """A count under a label, for the dashboard's tables and charts."""

    key: str
    count: int


class AssetReuse(BaseModel):
    """How much one asset is installed and used, and by how many teams."""

    ref: str = Field(description="kind/name (all versions)")
    owner_team: str
    installs: int
    uses: int
    teams: int = Field(description="Distinct teams that installed or used it")
    last_used_at: datetime | None = None
    daily: list[DailyCount] = Field(
        default_factory=list,
        description="Its installs and uses per day over the report's window (oldest first); "
        "empty when the source does not break them down",
    )


class PendingReview(BaseModel):
    """A version waiting for review, and for how long."""

    ref: str
    owner_team: str
    risk_tier: str | None = None
    waiting_since: datetime
    age_hours: float
    sla_breached: bool
    behaviour: str | None = Field(
        default=None, description="The behavioural eval's figures in one line, when they ran"
    )


class DueItem(BaseModel):
    """A version with a date that matters: re-certification due, or sunset."""

    ref: str
    owner_team: str
    due: datetime
    overdue: bool
    replacement: str | None = None


class EvalFailureItem(BaseModel):
    """A version whose eval failed, waiting for a revision."""

    ref: str
    owner_team: str
    risk_tier: str | None = None
    submitted_at: datetime = Field(description="When its lifecycle started")
    failed_at: datetime = Field(description="When it last changed: the failed eval")


class ScopeRow(BaseModel):
    """What one published asset can touch."""

    ref: str
    kind: AssetKind
    owner_team: str
    risk_tier: str | None = None
    reach: list[str] = Field(description="Effects or tools, e.g. 'Bash', 'tickets: write'")


class DailyCount(BaseModel):
    """Installs and uses on one day."""

    day: str = Field(description="YYYY-MM-DD")
    installs: int
    uses: int


class OrgReport(BaseModel):
    """Everything the org dashboard and ``agentreg report`` show.

    Attributes:
        generated_at: When the report was computed.
        by_kind, by_stage, by_team, by_tier: Inventory counts (latest version per asset).
        scope: What each published asset can touch.
        pending_reviews: Versions in review, oldest first.
        recertifications_due: Published versions due within 30 days or overdue.
        deprecations: Deprecated versions with their sunsets and replacements.
        eval_failures: Versions in ``EvalFailed`` whose lifecycle started in the last
            7 days, newest first (empty from a server that predates the list).
        reuse: Installs, uses and teams per asset, most used first.
        unused: Published assets nobody installed or used.
        daily: Installs and uses per day over the last 30 days.
    """

    generated_at: datetime
    by_kind: list[CountByKey]
    by_stage: list[CountByKey]
    by_team: list[CountByKey]
    by_tier: list[CountByKey]
    scope: list[ScopeRow]
    pending_reviews: list[PendingReview]
    recertifications_due: list[DueItem]
    deprecations: list[DueItem]
    eval_failures: list[EvalFailureItem] = Field(default_factory=list)
    reuse: list[AssetReuse]
    unused: list[str]
    daily: list[DailyCount]


class CatalogSource(Protocol):
    """Where the catalog commands read from: the registry database or its JSON API."""

    def search(self, query: SearchQuery) -> Page[SearchHit]:
        """Versions matching ``query``, best first."""
        ...

    def show(self, ref: str) -> VersionDetail:
        """One version; ``kind/name`` without a version means the latest published.

        Raises:
            CatalogNotFoundError: No such asset or version.
        """
        ...

    def bundle(self, content_hash: str) -> bytes:
        """The canonical archive with this content hash.

        Raises:
            CatalogNotFoundError: No such bundle.
        """
        ...

    def stage_bundle(self, archive: bytes) -> str:
        """Keep a submitted bundle archive under its sha256 until a lifecycle claims it.

        Staged bytes change no asset state: only a lifecycle's first activity registers
        a version, and it reads the bundle from here by hash.

        Returns:
            The archive's sha256, the claim check the lifecycle is started with.

        Raises:
            InvalidBundleError: The archive is not a bundle within the registry's limits.
        """
        ...

    def record_install(self, event: InstallEvent) -> None:
        """Count an install."""
        ...

    def record_usage(self, events: list[UsageEvent]) -> int:
        """Count uses; returns how many were recorded."""
        ...

    def report(self) -> OrgReport:
        """The org dashboard's numbers, now."""
        ...


class CatalogNotFoundError(LookupError):
    """A ref or bundle the catalog does not have; the message names it."""
