"""The org report's numbers, computed from plain facts about versions and events.

Pure aggregation: :mod:`agent_registry.catalog.database` reads the facts (one light row
per version, the manifests and declared scopes of published assets, when reviews began,
the event counts) and :func:`build_report` turns them into an
:class:`~agent_registry.catalog.models.OrgReport`. Keeping the arithmetic apart from the
queries lets it be read, and tested, without a database.

Inventory counts each asset once, at its *current* version: the highest version in the
catalog (published or re-certifying), else the highest deprecated one, else the highest
of any stage (an asset never published yet). Counting the plain highest version would
move a published asset to "InReview" every time its owners submit an update.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from agent_registry.assets.manifests import PermissionMode
from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import (
    AssetReuse,
    CountByKey,
    DailyCount,
    DueItem,
    EvalFailureItem,
    OrgReport,
    PendingReview,
    ScopeRow,
    ScopeTool,
)
from agent_registry.lifecycle.stages import Stage

# Re-certifications due within RECERTIFICATION_HORIZON are listed (overdue ones too),
# and eval failures of lifecycles started within EVAL_FAILURE_WINDOW: the Temporal views'
# own bounds, so a section and its filtered list in the Temporal UI hold the same versions.
from agent_registry.lifecycle.visibility import EVAL_FAILURE_WINDOW, RECERTIFICATION_HORIZON
from agent_registry.registry.store.usage import AssetUse, DayCount

DAILY_WINDOW_DAYS = 30
"""How many days, today included, the daily installs and uses cover."""

UNRATED = "unrated"
"""The risk tier key of versions no eval has rated yet."""

INHERITS_ALL_TOOLS = "all tools (inherited)"
"""The reach of a subagent that names no tools: it gets every tool of the main thread."""

_LIVE = frozenset({Stage.PUBLISHED.value, Stage.RECERTIFYING.value})
_DEPRECATED = Stage.DEPRECATED.value
_IN_REVIEW = Stage.IN_REVIEW.value
_EVAL_FAILED = Stage.EVAL_FAILED.value
_STAGE_RANK = {stage: 2 for stage in _LIVE} | {_DEPRECATED: 1}
"""How current a version of each stage is: in the catalog, deprecated, anything else."""
_WIDENING_MODES = frozenset({PermissionMode.BYPASS_PERMISSIONS.value})
"""Permission modes that let a subagent act without asking, listed in its reach."""


class VersionFacts(NamedTuple):
    """One version as the report needs it: no manifest, no description.

    A named tuple rather than a dataclass: the report reads one per version, and at a
    hundred thousand versions building them is a visible part of its time.

    Attributes:
        version_id: The version row's id.
        asset_id: Its asset's id.
        kind: The asset kind.
        name: The asset name.
        owner_team: The team owning the asset.
        version: The version.
        version_sort: Its semver sort key (compares as semver does).
        stage: Its lifecycle stage.
        risk_tier: The tier its last eval gave it.
        updated_at: When the row last changed.
        recertify_by: When re-certification is due.
        deprecated_at: When it was deprecated.
        sunset_at: When a deprecated version retires.
        replacement: What to use instead, ``kind/name@version``.
        submitted_at: When its lifecycle started (the registry row was created).
    """

    version_id: int
    asset_id: int
    kind: str
    name: str
    owner_team: str
    version: str
    version_sort: str
    stage: str
    risk_tier: str | None
    updated_at: datetime
    recertify_by: datetime | None = None
    deprecated_at: datetime | None = None
    sunset_at: datetime | None = None
    replacement: str | None = None
    submitted_at: datetime | None = None

    @property
    def ref(self) -> str:
        """``kind/name@version``."""
        return f"{self.kind}/{self.name}@{self.version}"

    @property
    def asset_ref(self) -> str:
        """``kind/name``."""
        return f"{self.kind}/{self.name}"

    @property
    def live(self) -> bool:
        """Whether the version is in the catalog (published or re-certifying)."""
        return self.stage in _LIVE


@dataclass(frozen=True)
class ReportInputs:
    """Everything :func:`build_report` needs, gathered by the caller.

    Attributes:
        now: The report's "now" (aware).
        review_sla: How long a review may wait (the policy's ``review.sla``).
        versions: Every version.
        reach: What each published asset can touch, by the version id of its current
            version (see :func:`reach`).
        review_started: When each version in review entered review, by version id;
            a missing one falls back to the version's ``updated_at``.
        uses: Installs and uses per asset.
        days: Installs and uses per day, at least over the daily window.
        current: :func:`current_versions` of ``versions``, when the caller has it
            already; computed when None.
        in_review: The versions in review, when the caller has them apart already.
        behaviour: The behavioural figures of versions in review, as one line each, by
            version id; a version without figures is missing.
        changed: For a caller passing the same :class:`ItemMemo` build after build: the
            versions whose facts (or reach) changed since the memo's last build, as they
            are now; a list computed then is reused when no changed version belongs to
            it and no date in it crossed "now". None when unknown: nothing is reused.
            ``current`` must then be the very same object when no asset changed.
    """

    now: datetime
    review_sla: timedelta
    versions: Sequence[VersionFacts]
    reach: Mapping[int, list[str]]
    review_started: Mapping[int, datetime]
    uses: Sequence[AssetUse]
    days: Sequence[DayCount]
    current: Sequence[VersionFacts] | None = None
    in_review: Sequence[VersionFacts] | None = None
    changed: Sequence[VersionFacts] | None = None
    behaviour: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Kept:
    """A list of the last build, with what it was computed from.

    Attributes:
        items: The list.
        members: The version ids that belonged to it (whatever "now" said).
        dates: Their dates whose crossing "now" moves changes the list, sorted.
        edges: Where that build's thresholds fell among ``dates``.
    """

    items: list[Any]
    members: frozenset[int]
    dates: list[datetime]
    edges: tuple[int, ...]


class ItemMemo:
    """Report items kept from one report to the next, per version, while its facts hold.

    Building about 11,000 validated items was a third of a report's time at 10,000
    versions (``bench/notes/dashboard_scale.md``). A registry write changes a handful
    of versions, so a caller that builds reports again and again (the dashboard's
    shared report) passes one memo: an item is built again only when its version's
    facts, or what it says about "now" (overdue or not), differ from when it was built.
    Items are shared between reports and must not be mutated. Entries of versions that
    no longer qualify are dropped at each build, so the memo never outgrows the catalog.
    """

    def __init__(self) -> None:
        self.scope: dict[int, tuple[VersionFacts, tuple[str, ...], ScopeRow]] = {}
        self.due: dict[int, tuple[VersionFacts, bool, DueItem]] = {}
        self.deprecations: dict[int, tuple[VersionFacts, bool, DueItem]] = {}
        self.failures: dict[int, tuple[VersionFacts, EvalFailureItem]] = {}
        self.lists: dict[str, _Kept] = {}
        self.current: Sequence[VersionFacts] | None = None
        self.by_current: tuple[list[Any], ...] = ()
        self.of_current: tuple[dict[tuple[str, str], str], list[tuple[tuple[str, str], str]]] = (
            {},
            [],
        )

    def kept(
        self,
        name: str,
        changed: Sequence[VersionFacts] | None,
        member: Callable[[VersionFacts], bool],
        thresholds: Sequence[datetime],
    ) -> list[Any] | None:
        """The list ``name`` of the last build, if nothing it depends on changed."""
        held = self.lists.get(name)
        if held is None or changed is None:
            return None
        if any(v.version_id in held.members or member(v) for v in changed):
            return None
        if _edges(held.dates, thresholds) != held.edges:
            return None
        return held.items

    def keep(
        self,
        name: str,
        items: list[Any],
        versions: Iterable[VersionFacts],
        member: Callable[[VersionFacts], bool],
        date: Callable[[VersionFacts], datetime],
        thresholds: Sequence[datetime],
    ) -> list[Any]:
        """Keep ``items`` as the list ``name``, computed from the members of ``versions``."""
        members = [v for v in versions if member(v)]
        dates = sorted(date(v) for v in members)
        self.lists[name] = _Kept(
            items=items,
            members=frozenset(v.version_id for v in members),
            dates=dates,
            edges=_edges(dates, thresholds),
        )
        return items


def _edges(dates: Sequence[datetime], thresholds: Sequence[datetime]) -> tuple[int, ...]:
    """How many of ``dates`` lie before each threshold (and at the last one, after)."""
    *before, last = thresholds
    return (*(bisect_left(dates, t) for t in before), bisect_right(dates, last))


def current_versions(versions: Iterable[VersionFacts]) -> list[VersionFacts]:
    """Each asset's current version (see the module docstring), ordered by kind and name."""
    best: dict[int, tuple[tuple[int, str, int], VersionFacts]] = {}
    for version in versions:
        key = (_STAGE_RANK.get(version.stage, 0), version.version_sort, version.version_id)
        held = best.get(version.asset_id)
        if held is None or key > held[0]:
            best[version.asset_id] = (key, version)
    return sorted((version for _, version in best.values()), key=lambda v: (v.kind, v.name))


def window_start(now: datetime) -> datetime:
    """The first instant the daily counts cover: midnight UTC, 29 days before today."""
    first = now.astimezone(UTC).date() - timedelta(days=DAILY_WINDOW_DAYS - 1)
    return datetime.combine(first, time.min, tzinfo=UTC)


def reach(kind: str, manifest: Mapping[str, object], tools: Sequence[ScopeTool]) -> list[str]:
    """What an asset can touch, in the words the dashboard's scope table shows.

    Args:
        kind: The asset kind.
        manifest: The manifest as stored (aliased keys: ``allowed-tools``,
            ``permissionMode``).
        tools: An MCP server's declared tools (``scope.yaml``); ignored for other kinds.

    Returns:
        For an MCP server ``"tool: effect, effect"`` per tool; for a skill its
        ``allowed-tools``; for a subagent its ``tools`` (or that it inherits all of
        them), and a permission mode that skips asking.
    """
    if kind == AssetKind.MCP_SERVER.value:
        return [f"{tool.name}: {', '.join(tool.effects) or 'no effect declared'}" for tool in tools]
    if kind == AssetKind.SKILL.value:
        return _names(manifest.get("allowed-tools"))
    if kind == AssetKind.SUBAGENT.value:
        declared = manifest.get("tools")
        lines = _names(declared) if declared is not None else [INHERITS_ALL_TOOLS]
        mode = manifest.get("permissionMode")
        if mode in _WIDENING_MODES:
            lines.append(f"permissionMode: {mode}")
        return lines
    return []


def build_report(inputs: ReportInputs, memo: ItemMemo | None = None) -> OrgReport:
    """The org report from the gathered facts.

    Args:
        inputs: The facts; see :class:`ReportInputs`.
        memo: Items of earlier reports to reuse where their facts are unchanged; a
            fresh one (nothing reused) when None. The report is the same either way.

    Returns:
        The report, every list in the order the dashboard shows it.
    """
    now = inputs.now
    memo = ItemMemo() if memo is None else memo
    current = inputs.current if inputs.current is not None else current_versions(inputs.versions)
    used = {(use.kind, use.name) for use in inputs.uses if use.installs or use.uses}
    if inputs.changed is not None and not inputs.changed and current is memo.current:
        by_kind, by_stage, by_team, by_tier, scope = memo.by_current
        teams, published_refs = memo.of_current
    else:
        teams = {(v.kind, v.name): v.owner_team for v in current}
        published = [v for v in current if v.live]
        published_refs = [((v.kind, v.name), v.asset_ref) for v in published]
        by_kind = _counts(v.kind for v in current)
        by_stage = _counts(v.stage for v in current)
        by_team = _counts(v.owner_team for v in current)
        by_tier = _counts(v.risk_tier or UNRATED for v in current)
        scope = _scope(published, inputs.reach, memo)
        memo.current, memo.by_current = current, (by_kind, by_stage, by_team, by_tier, scope)
        memo.of_current = (teams, published_refs)
    return OrgReport(
        generated_at=now,
        by_kind=by_kind,
        by_stage=by_stage,
        by_team=by_team,
        by_tier=by_tier,
        scope=scope,
        pending_reviews=_pending_reviews(inputs),
        recertifications_due=_kept_recertifications(inputs, memo),
        deprecations=_kept_deprecations(inputs, memo),
        eval_failures=_kept_eval_failures(inputs, memo),
        reuse=_reuse(inputs.uses, teams=teams),
        unused=[ref for key, ref in published_refs if key not in used],
        daily=_daily(inputs.days, now=now),
    )


def _recertifying(version: VersionFacts) -> bool:
    return version.live and version.recertify_by is not None


def _recertify_by(version: VersionFacts) -> datetime:
    return version.recertify_by or version.updated_at


def _kept_recertifications(inputs: ReportInputs, memo: ItemMemo) -> list[DueItem]:
    # Overdue is "before now"; listed is "at or before the horizon".
    edges = (inputs.now, inputs.now + RECERTIFICATION_HORIZON)
    kept = memo.kept("due", inputs.changed, _recertifying, edges)
    if kept is not None:
        return kept
    due = _recertifications_due(inputs.versions, now=inputs.now, memo=memo)
    return memo.keep("due", due, inputs.versions, _recertifying, _recertify_by, edges)


def _deprecated(version: VersionFacts) -> bool:
    return version.stage == _DEPRECATED


def _sunset(version: VersionFacts) -> datetime:
    return version.sunset_at or version.deprecated_at or version.updated_at


def _kept_deprecations(inputs: ReportInputs, memo: ItemMemo) -> list[DueItem]:
    # Overdue is "before now"; the last threshold is only there to end the tuple.
    edges = (inputs.now, inputs.now)
    kept = memo.kept("deprecations", inputs.changed, _deprecated, edges)
    if kept is not None:
        return kept
    items = _deprecations(inputs.versions, now=inputs.now, memo=memo)
    return memo.keep("deprecations", items, inputs.versions, _deprecated, _sunset, edges)


def _failed(version: VersionFacts) -> bool:
    return version.stage == _EVAL_FAILED


def _started(version: VersionFacts) -> datetime:
    return version.submitted_at or version.updated_at


def _kept_eval_failures(inputs: ReportInputs, memo: ItemMemo) -> list[EvalFailureItem]:
    # Listed is "started at or after the window's start": the count before it.
    since = inputs.now - EVAL_FAILURE_WINDOW
    edges = (since, since)
    kept = memo.kept("failures", inputs.changed, _failed, edges)
    if kept is not None:
        return kept
    items = _eval_failures(inputs.versions, now=inputs.now, memo=memo)
    return memo.keep("failures", items, inputs.versions, _failed, _started, edges)


def _counts(keys: Iterable[str]) -> list[CountByKey]:
    """Counts per key, largest first, ties by key."""
    counted = Counter(keys)
    return [
        CountByKey(key=key, count=count)
        for key, count in sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    ]


def _names(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    return []


def _scope(
    published: Iterable[VersionFacts], reach: Mapping[int, list[str]], memo: ItemMemo
) -> list[ScopeRow]:
    kept: dict[int, tuple[VersionFacts, tuple[str, ...], ScopeRow]] = {}
    rows: list[ScopeRow] = []
    for version in published:
        lines = tuple(reach.get(version.version_id, ()))
        held = memo.scope.get(version.version_id)
        if held is not None and held[0] == version and held[1] == lines:
            row = held[2]
        else:
            row = ScopeRow(
                ref=version.ref,
                kind=AssetKind(version.kind),
                owner_team=version.owner_team,
                risk_tier=version.risk_tier,
                reach=list(lines),
            )
        kept[version.version_id] = (version, lines, row)
        rows.append(row)
    memo.scope = kept
    return rows


def _pending_reviews(inputs: ReportInputs) -> list[PendingReview]:
    reviews: list[PendingReview] = []
    in_review = inputs.versions if inputs.in_review is None else inputs.in_review
    for version in in_review:
        if version.stage != _IN_REVIEW:
            continue
        since = inputs.review_started.get(version.version_id, version.updated_at)
        waited = inputs.now - since
        reviews.append(
            PendingReview(
                ref=version.ref,
                owner_team=version.owner_team,
                risk_tier=version.risk_tier,
                waiting_since=since,
                age_hours=max(waited.total_seconds(), 0.0) / 3600,
                sla_breached=waited > inputs.review_sla,
                behaviour=inputs.behaviour.get(version.version_id),
            )
        )
    return sorted(reviews, key=lambda review: (review.waiting_since, review.ref))


def _recertifications_due(
    versions: Iterable[VersionFacts], *, now: datetime, memo: ItemMemo
) -> list[DueItem]:
    horizon = now + RECERTIFICATION_HORIZON
    kept: dict[int, tuple[VersionFacts, bool, DueItem]] = {}
    due: list[DueItem] = []
    for version in versions:
        by = version.recertify_by
        if not version.live or by is None or by > horizon:
            continue
        overdue = by < now
        held = memo.due.get(version.version_id)
        if held is not None and held[0] == version and held[1] == overdue:
            item = held[2]
        else:
            item = DueItem(ref=version.ref, owner_team=version.owner_team, due=by, overdue=overdue)
        kept[version.version_id] = (version, overdue, item)
        due.append(item)
    memo.due = kept
    return sorted(due, key=lambda item: (item.due, item.ref))


def _deprecations(
    versions: Iterable[VersionFacts], *, now: datetime, memo: ItemMemo
) -> list[DueItem]:
    kept: dict[int, tuple[VersionFacts, bool, DueItem]] = {}
    items: list[DueItem] = []
    for version in versions:
        if version.stage != _DEPRECATED:
            continue
        # A deprecation recorded without a sunset (a bare stage change) still shows,
        # dated when it happened.
        due = version.sunset_at or version.deprecated_at or version.updated_at
        overdue = due < now
        held = memo.deprecations.get(version.version_id)
        if held is not None and held[0] == version and held[1] == overdue:
            item = held[2]
        else:
            item = DueItem(
                ref=version.ref,
                owner_team=version.owner_team,
                due=due,
                overdue=overdue,
                replacement=version.replacement,
            )
        kept[version.version_id] = (version, overdue, item)
        items.append(item)
    memo.deprecations = kept
    return sorted(items, key=lambda item: (item.due, item.ref))


def _eval_failures(
    versions: Iterable[VersionFacts], *, now: datetime, memo: ItemMemo
) -> list[EvalFailureItem]:
    """Versions in ``EvalFailed`` whose lifecycle started within the window, newest first.

    Judged by the lifecycle's start, as the Temporal view is (``StartTime``): visibility
    keeps no time of the last stage change.
    """
    since = now - EVAL_FAILURE_WINDOW
    kept: dict[int, tuple[VersionFacts, EvalFailureItem]] = {}
    items: list[EvalFailureItem] = []
    for version in versions:
        started = version.submitted_at or version.updated_at
        if version.stage != _EVAL_FAILED or started < since:
            continue
        held = memo.failures.get(version.version_id)
        if held is not None and held[0] == version:
            item = held[1]
        else:
            item = EvalFailureItem(
                ref=version.ref,
                owner_team=version.owner_team,
                risk_tier=version.risk_tier,
                submitted_at=started,
                failed_at=version.updated_at,
            )
        kept[version.version_id] = (version, item)
        items.append(item)
    memo.failures = kept
    return sorted(items, key=lambda item: (item.submitted_at, item.ref), reverse=True)


def _reuse(uses: Iterable[AssetUse], *, teams: Mapping[tuple[str, str], str]) -> list[AssetReuse]:
    """Reuse of registered assets; events naming assets the registry lacks are left out."""
    rows = [
        AssetReuse(
            ref=f"{use.kind}/{use.name}",
            owner_team=teams[(use.kind, use.name)],
            installs=use.installs,
            uses=use.uses,
            teams=use.teams,
            last_used_at=use.last_used_at,
        )
        for use in uses
        if (use.kind, use.name) in teams
    ]
    return sorted(rows, key=lambda row: (-row.uses, -row.installs, row.ref))


def _daily(days: Iterable[DayCount], *, now: datetime) -> list[DailyCount]:
    counts = {day.day: day for day in days}
    first = window_start(now).date()
    window: list[DailyCount] = []
    for offset in range(DAILY_WINDOW_DAYS):
        day: date = first + timedelta(days=offset)
        found = counts.get(day)
        window.append(
            DailyCount(
                day=day.isoformat(),
                installs=found.installs if found else 0,
                uses=found.uses if found else 0,
            )
        )
    return window
