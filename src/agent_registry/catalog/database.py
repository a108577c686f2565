"""The catalog read straight from the registry database.

:class:`DatabaseCatalog` implements :class:`~agent_registry.catalog.models.CatalogSource`
for whoever holds database credentials: the JSON API, and the CLI on a registry host.
Search ranks entries kept in memory between queries
(:mod:`~agent_registry.catalog.search_entries`, ranking in
:mod:`~agent_registry.catalog.search`); ``show`` and ``bundle`` read their rows; the
events go to :mod:`~agent_registry.registry.store.usage`; the report's arithmetic is
:mod:`~agent_registry.catalog.report`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_problems import BundleError, InvalidBundleError
from agent_registry.assets.refs import AssetKind, AssetRef, parse_unversioned
from agent_registry.catalog import report as org_report
from agent_registry.catalog.models import (
    CatalogNotFoundError,
    DeprecationInfo,
    EvalInfo,
    InstallEvent,
    OrgReport,
    Page,
    ScopeTool,
    SearchHit,
    SearchQuery,
    UsageEvent,
    VersionDetail,
    VersionSummary,
)
from agent_registry.catalog.report_facts import (
    LiveFacts,
    chunks,
    manifests_and_hashes,
    read_version_facts,
)
from agent_registry.catalog.report_state import report_generation
from agent_registry.catalog.scopes import DeclaredScopes
from agent_registry.catalog.search import parse_query
from agent_registry.catalog.search_entries import Listed, search_entries
from agent_registry.lifecycle.stages import Stage
from agent_registry.policy.loader import load_policy
from agent_registry.policy.model import Policy
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.registry.errors import NotFoundError
from agent_registry.registry.store.holders import Holder, holder_of_version, holders_of_content
from agent_registry.registry.tables import (
    Asset,
    AssetVersion,
    AuditEvent,
    EvalFindingRow,
    EvalRun,
)
from agent_registry.vocabulary.behaviour_figures import BehaviourRecord

_HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_WITHDRAWN_NAMED = 5
"""How many versions a not-found message lists before it counts the rest."""


class CorruptBundleError(RuntimeError):
    """Stored bundle bytes that no longer hash to their content hash.

    Serving them would hand out content nobody reviewed, so the catalog refuses; the
    blob must be restored from a backup or the version re-submitted.
    """


class DatabaseCatalog:
    """The catalog answered from the registry database (see the module docstring).

    Args:
        engine: The registry engine.
        policy: The policy whose review SLA the report applies; the packaged default
            when None (loaded on the first report).
        clock: The report's "now"; ``datetime.now(UTC)`` when None. Tests pass a fixed
            one so that ages, due dates and the daily window are deterministic.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        policy: Policy | None = None,
        clock: Callable[[], datetime] | None = None,
        limits: BundleLimits | None = None,
    ) -> None:
        self._engine = engine
        self._limits = limits or BundleLimits()
        self._policy = policy
        self._clock = clock or _utc_now
        self._scopes = DeclaredScopes()
        self._live = LiveFacts(engine, self._scopes)

    # --- search -----------------------------------------------------------------------

    def search(self, query: SearchQuery) -> Page[SearchHit]:
        """The latest matching version of each asset, best match first.

        Without ``query.stage`` each asset shows its latest version in the catalog, or,
        when it has none left, its latest deprecated one; with a stage, its latest
        version in that stage.

        Args:
            query: Text, filters and page.

        Returns:
            One page of hits, with the total number of matches.

        Raises:
            ValueError: If ``query.stage`` is not a lifecycle stage.
        """
        stage = _parse_stage(query.stage)
        with session_scope(self._engine) as session:
            index = search_entries(self._engine).index(session, stage)
        kind = query.kind
        team = query.team

        def wanted(item: Listed) -> bool:
            return (kind is None or item.kind is kind) and (team is None or item.owner_team == team)

        ranked = index.search(
            parse_query(query.text),
            offset=query.offset,
            limit=query.limit,
            where=wanted if kind is not None or team is not None else None,
            where_key=(kind, team),
        )
        end = query.offset + query.limit
        return Page[SearchHit](
            items=[item.hit(score) for score, item in ranked.hits],
            total=ranked.total,
            limit=query.limit,
            offset=query.offset,
            next_offset=end if end < ranked.total else None,
        )

    # --- show -------------------------------------------------------------------------

    def show(self, ref: str) -> VersionDetail:
        """One version with everything known about it.

        Args:
            ref: ``kind/name@version``; or ``kind/name`` for its latest version in the
                catalog, else its latest deprecated one (still installable until sunset).

        Returns:
            The version's details, its other versions included.

        Raises:
            CatalogNotFoundError: No such version, or ``kind/name`` has none to show; the
                message names the ref and the versions that do exist.
            InvalidRefError: If ``ref`` is neither form.
        """
        with session_scope(self._engine) as session:
            version = _resolve(session, ref)
            asset = store.get_asset_for(session, version=version)
            siblings = _versions_of_asset(session, asset_id=_id(asset.id))
            evaluation = store.latest_eval(session, version_id=_id(version.id))
            scope = (
                self._scopes.tools(session, version.content_hash)
                if asset.kind == AssetKind.MCP_SERVER.value
                else []
            )
            return _detail(
                asset,
                version,
                scope=scope,
                evaluation=evaluation,
                others=[other for other in siblings if other.id != version.id],
            )

    # --- bundles ----------------------------------------------------------------------

    def bundle(self, content_hash: str) -> bytes:
        """The canonical archive stored under ``content_hash``, checked against it.

        Args:
            content_hash: The sha256 hex of the archive.

        Returns:
            The archive bytes.

        Raises:
            CatalogNotFoundError: No bundle has that hash.
            CorruptBundleError: The stored bytes do not hash to ``content_hash``.
        """
        wanted = content_hash.strip().lower()
        if not _HASH_PATTERN.match(wanted):
            raise CatalogNotFoundError(
                f"no bundle with content hash {content_hash!r}: a content hash is the "
                "sha256 of the bundle, 64 hex digits"
            )
        with session_scope(self._engine) as session:
            try:
                data = store.get_blob(session, content_hash=wanted)
            except NotFoundError:
                raise CatalogNotFoundError(f"no bundle with content hash {wanted}") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != wanted:
            raise CorruptBundleError(
                f"the bundle stored under {wanted} hashes to {actual}: its bytes changed "
                "in storage, so it is not served"
            )
        return data

    # --- events -----------------------------------------------------------------------

    def stage_bundle(self, archive: bytes) -> str:
        """Store a submitted archive by its sha256, once it reads as a bundle within limits.

        Raises:
            InvalidBundleError: The archive is not a readable bundle within the limits.
        """
        try:
            bundle_from_archive(archive, limits=self._limits)
        except BundleError as error:
            raise InvalidBundleError(str(error)) from None
        with session_scope(self._engine) as session:
            return store.put_blob(session, data=archive)

    def record_install(self, event: InstallEvent) -> None:
        """Count an install; a re-sent event (same ``event_id``) is counted once.

        Raises:
            InvalidRefError: If ``event.ref`` is not ``kind/name@version``.
            ValueError: If ``event.at`` is naive.
        """
        with session_scope(self._engine) as session:
            store.record_install(session, event=event)

    def record_usage(self, events: list[UsageEvent]) -> int:
        """Count uses; events whose ``event_id`` was recorded already are skipped.

        Returns:
            How many events were newly recorded.

        Raises:
            ValueError: If an event's ``at`` is naive (nothing of the batch is recorded).
        """
        if not events:
            return 0
        with session_scope(self._engine) as session:
            return store.record_usage(session, events=events)

    # --- access -----------------------------------------------------------------------

    def holders_of_content(self, content_hash: str) -> list[Holder]:
        """Every version whose content is ``content_hash``, for access control."""
        with session_scope(self._engine) as session:
            return holders_of_content(session, content_hash=content_hash.strip().lower())

    def holder_of_version(self, ref: AssetRef) -> Holder | None:
        """The version ``ref`` as access control sees it, or None."""
        with session_scope(self._engine) as session:
            return holder_of_version(session, ref=ref)

    # --- report -----------------------------------------------------------------------

    def report_generation(self) -> str:
        """A token that changes whenever :meth:`report`'s inputs do.

        The dashboard reuses a report while it holds
        (:mod:`agent_registry.catalog.report_state`).
        """
        with session_scope(self._engine) as session:
            return report_generation(session)

    def report(self) -> OrgReport:
        """The org dashboard's numbers as of the clock's "now"."""
        now = self._clock()
        policy = self._loaded_policy()
        with session_scope(self._engine) as session:
            versions = read_version_facts(session)
            current = org_report.current_versions(versions)
            published = [v for v in current if v.live]
            rows = manifests_and_hashes(session, [v.version_id for v in published])
            servers = [v for v in published if v.kind == AssetKind.MCP_SERVER.value]
            scopes = self._scopes.tools_of(
                session, (rows[v.version_id][1] for v in servers if v.version_id in rows)
            )
            reach = {
                v.version_id: org_report.reach(
                    v.kind,
                    rows[v.version_id][0],
                    scopes.get(rows[v.version_id][1], []),
                )
                for v in published
                if v.version_id in rows
            }
            in_review = [v for v in versions if v.stage == Stage.IN_REVIEW.value]
            inputs = org_report.ReportInputs(
                now=now,
                review_sla=policy.review.sla,
                versions=versions,
                reach=reach,
                review_started=_review_started(session, in_review),
                behaviour=store.behaviour_lines(
                    session, version_ids=[v.version_id for v in in_review]
                ),
                uses=store.asset_uses(session),
                days=store.daily_counts(session, since=org_report.window_start(now)),
                current=current,
            )
        return org_report.build_report(inputs)

    def live_report(self) -> OrgReport:
        """:meth:`report`, from facts kept in memory and updated from what changed since.

        What the dashboard's shared report computes after a registry write: the same
        report, without reading every version again (:mod:`.report_facts`).
        """
        return self._live.report(now=self._clock(), review_sla=self._loaded_policy().review.sla)

    def _loaded_policy(self) -> Policy:
        if self._policy is None:
            self._policy = load_policy(None)
        return self._policy


# --- search -------------------------------------------------------------------------


def _parse_stage(text: str | None) -> Stage | None:
    """A stage from its name in any case; None for the default selection."""
    if text is None or not text.strip():
        return None
    wanted = text.strip().casefold()
    for stage in Stage:
        if stage.value.casefold() == wanted:
            return stage
    known = ", ".join(stage.value for stage in Stage)
    raise ValueError(f"unknown stage {text!r}; stages are {known}")


# --- show -----------------------------------------------------------------------------


def _resolve(session: Session, text: str) -> AssetVersion:
    """The version a ``show`` ref names (see :meth:`DatabaseCatalog.show`)."""
    if "@" in text:
        ref = AssetRef.parse(text)
        version = store.find_version(session, ref=ref)
        if version is None:
            raise CatalogNotFoundError(
                f"{ref} is not in the registry" + _existing(session, ref.kind, ref.name)
            )
        return version
    kind, name = parse_unversioned(text)
    latest = store.latest_published(session, kind=kind, name=name)
    if latest is not None:
        return latest
    deprecated = [
        version
        for version in store.withdrawn_versions(session, kind=kind, name=name)
        if version.stage == Stage.DEPRECATED.value
    ]
    if deprecated:
        return deprecated[0]
    existing = _existing(session, kind, name)
    if not existing:
        raise CatalogNotFoundError(f"{kind.value}/{name} is not in the registry")
    raise CatalogNotFoundError(f"{kind.value}/{name} has no published version" + existing)


def _existing(session: Session, kind: AssetKind, name: str) -> str:
    """``"; its versions: 2.0.0 (InReview), …"`` for a not-found message, or ``""``."""
    versions = session.exec(
        select(AssetVersion.version, AssetVersion.stage)
        .join(Asset, col(AssetVersion.asset_id) == col(Asset.id))
        .where(Asset.kind == kind.value, Asset.name == name)
        .order_by(col(AssetVersion.version_sort).desc(), col(AssetVersion.id).desc())
    ).all()
    if not versions:
        return ""
    named = ", ".join(f"{version} ({stage})" for version, stage in versions[:_WITHDRAWN_NAMED])
    if len(versions) > _WITHDRAWN_NAMED:
        named += f" and {len(versions) - _WITHDRAWN_NAMED} more"
    return f"; its versions: {named}"


def _versions_of_asset(session: Session, *, asset_id: int) -> list[AssetVersion]:
    """Every version of an asset, highest first."""
    return list(
        session.exec(
            select(AssetVersion)
            .where(AssetVersion.asset_id == asset_id)
            .order_by(col(AssetVersion.version_sort).desc(), col(AssetVersion.id).desc())
        ).all()
    )


def _summary_fields(asset: Asset, version: AssetVersion) -> dict[str, Any]:
    kind = AssetKind(asset.kind)
    return {
        "ref": f"{kind.value}/{asset.name}@{version.version}",
        "kind": kind,
        "name": asset.name,
        "version": version.version,
        "stage": version.stage,
        "owner_team": asset.owner_team,
        "description": version.description,
        "risk_tier": version.risk_tier,
        "content_hash": version.content_hash,
        "published_at": version.published_at,
        "recertify_by": version.recertify_by,
        "sunset_at": version.sunset_at,
        "replacement": version.replacement,
    }


def _detail(
    asset: Asset,
    version: AssetVersion,
    *,
    scope: list[ScopeTool],
    evaluation: tuple[EvalRun, list[EvalFindingRow]] | None,
    others: Iterable[AssetVersion],
) -> VersionDetail:
    eval_info = None
    if evaluation is not None:
        run, findings = evaluation
        eval_info = EvalInfo(
            policy_version=run.policy_version,
            passed=run.passed,
            blocking=run.blocking_count,
            warnings=run.warning_count,
            findings=[finding.to_finding() for finding in findings],
            evaluated_at=run.created_at,
            behaviour=None
            if run.behaviour_json is None
            else BehaviourRecord.model_validate_json(run.behaviour_json),
        )
    return VersionDetail(
        **_summary_fields(asset, version),
        submitter=version.submitter,
        authors=list(version.authors),
        changelog=version.changelog,
        machine_authored=version.machine_authored,
        approvers=list(version.approvers),
        tier_reasons=list(version.tier_reasons),
        policy_version=version.policy_version,
        submitted_at=version.submitted_at,
        recertified_at=version.recertified_at,
        retired_at=version.retired_at,
        deprecation=_deprecation(version),
        scope=scope,
        manifest=version.manifest(),
        eval=eval_info,
        workflow_id=version.workflow_id,
        other_versions=[VersionSummary(**_summary_fields(asset, other)) for other in others],
        attestation=version.attestation,
    )


def _deprecation(version: AssetVersion) -> DeprecationInfo | None:
    withdrawn = version.stage in (Stage.DEPRECATED.value, Stage.RETIRED.value)
    if version.deprecated_at is None and not withdrawn:
        return None
    return DeprecationInfo(
        reason=version.deprecation_reason or "no reason recorded",
        deprecated_at=version.deprecated_at,
        deprecated_by=version.deprecated_by,
        replacement=version.replacement,
        sunset_at=version.sunset_at,
    )


# --- report ---------------------------------------------------------------------------


def _review_started(
    session: Session, versions: Sequence[org_report.VersionFacts]
) -> dict[int, datetime]:
    """When each version last entered review, from its ``stage:InReview`` audit events."""
    by_ref = {(v.kind, v.name, v.version): v.version_id for v in versions}
    ref = sa.tuple_(col(AuditEvent.kind), col(AuditEvent.name), col(AuditEvent.version))
    started: dict[int, datetime] = {}
    for chunk in chunks(sorted(by_ref)):
        query = (
            select(AuditEvent.kind, AuditEvent.name, AuditEvent.version, func.max(AuditEvent.at))
            .where(AuditEvent.action == f"stage:{Stage.IN_REVIEW.value}", ref.in_(chunk))
            .group_by(col(AuditEvent.kind), col(AuditEvent.name), col(AuditEvent.version))
        )
        for kind, name, version, at in session.exec(query):
            if at is not None:
                started[by_ref[(kind, name, version)]] = at
    return started


def _id(value: int | None) -> int:
    if value is None:
        raise ValueError("row has no id; it was never stored")
    return value


def _utc_now() -> datetime:
    return datetime.now(UTC)
