"""A cheap token of everything the org report reads, to tell when it must be recomputed.

The report reads every version, every asset, the install and usage events and the audit
events that say when reviews began; at 10,000 versions that takes a few hundred
milliseconds. This token takes five indexed aggregates: it changes whenever a row is
added to any of them or a version moves (every store write that moves a version sets its
``updated_at``). It may change when the report would not; that only costs a recompute.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from agent_registry.registry.tables import (
    Asset,
    AssetVersion,
    AuditEvent,
    InstallEventRow,
    UsageEventRow,
)


def report_generation(session: Session) -> str:
    """An opaque token of the report's inputs; compare it for equality only."""
    versions = session.exec(
        select(
            func.count(col(AssetVersion.id)),
            func.max(col(AssetVersion.id)),
            func.max(col(AssetVersion.updated_at)),
        )
    ).one()
    assets = session.exec(select(func.count(col(Asset.id)), func.max(col(Asset.id)))).one()
    installs = session.exec(select(func.max(col(InstallEventRow.id)))).one()
    uses = session.exec(select(func.max(col(UsageEventRow.id)))).one()
    audit = session.exec(select(func.max(col(AuditEvent.id)))).one()
    return repr((tuple(versions), tuple(assets), installs, uses, audit))
