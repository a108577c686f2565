"""A bundle blocked for a secret is purged once its revision window passed; the audit keeps why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import select

from agent_registry.assets.refs import AssetRef
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.registry.store.purge import PURGE_ACTION, purge_secret_bundles
from agent_registry.registry.tables import AuditEvent, Blob
from tests import seeding

LEAKY = AssetRef.parse("skill/leaky@1.0.0")
SLOPPY = AssetRef.parse("skill/sloppy@1.0.0")


def test_a_bundle_blocked_for_a_secret_is_purged_and_the_audit_keeps_why(
    sqlite_engine: Engine,
) -> None:
    with session_scope(sqlite_engine) as session:
        seeding.blocked(
            session, LEAKY, check_id="secrets.aws-access-key", archive=b"bytes with AKIA key"
        )
        seeding.blocked(
            session, SLOPPY, check_id="spec.description-missing", archive=b"bytes without a secret"
        )
        hashes = {ref: store.get_version(session, ref=ref).content_hash for ref in (LEAKY, SLOPPY)}

    # Within the revision window nothing is purged: a false-positive mark re-reads it.
    with session_scope(sqlite_engine) as session:
        early = datetime.now(UTC) - timedelta(days=7)
        assert purge_secret_bundles(session, failed_before=early) == []

    later = datetime.now(UTC) + timedelta(seconds=1)
    with session_scope(sqlite_engine) as session:
        assert purge_secret_bundles(session, failed_before=later) == [str(LEAKY)]
    with session_scope(sqlite_engine) as session:
        assert session.get(Blob, hashes[LEAKY]) is None
        assert session.get(Blob, hashes[SLOPPY]) is not None
        event = session.exec(select(AuditEvent).where(AuditEvent.action == PURGE_ACTION)).one()
        assert event.detail["content_hash"] == hashes[LEAKY]
        assert "secrets.aws-access-key" in str(event.detail["why"])
        # Running again changes nothing.
        assert purge_secret_bundles(session, failed_before=later) == []
