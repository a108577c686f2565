"""Idempotent writes stay idempotent when two workers run them at the same moment.

Activity retries race: a worker times out, Temporal retries on another worker, and the
first one finishes anyway. Each thread here uses its own session (its own connection).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, event
from sqlmodel import Session, func, select

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import Decision
from agent_registry.registry import store
from agent_registry.registry.db import session_scope, upgrade_database
from agent_registry.registry.tables import AuditEvent, Blob, ReviewDecision
from tests.registry.factories import content, submit

REF = AssetRef.parse("skill/pdf-report@1.0.0")


def _race(engine: Engine, call: Callable[[Session], object], *, workers: int = 2) -> None:
    """Run ``call`` in ``workers`` threads that start together, each in its own session."""
    barrier = threading.Barrier(workers)

    def run() -> None:
        with session_scope(engine) as session:
            barrier.wait(timeout=10)
            call(session)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run) for _ in range(workers)]:
            future.result(timeout=60)


def _events(engine: Engine, action: str) -> int:
    with session_scope(engine) as session:
        return sum(1 for event in store.audit_for(session, ref=REF) if event.action == action)


def test_concurrent_publish_with_the_same_key_publishes_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        submit(session, REF)

    _race(
        engine,
        lambda session: store.publish_version(
            session,
            ref=REF,
            content_hash=content(str(REF)),
            approvers=["grace"],
            event_key="publish-1",
        ),
    )

    assert _events(engine, "published") == 1


def test_concurrent_publish_with_different_keys_publishes_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        submit(session, REF)
    keys = iter(["publish-a", "publish-b", "publish-c"])
    lock = threading.Lock()

    def publish(session: Session) -> None:
        with lock:
            key = next(keys)
        store.publish_version(
            session, ref=REF, content_hash=content(str(REF)), approvers=["grace"], event_key=key
        )

    _race(engine, publish, workers=3)

    assert _events(engine, "published") == 1


def test_concurrent_first_submission_creates_one_asset_and_version(engine: Engine) -> None:
    _race(engine, lambda session: submit(session, REF, event_key="submit-1"), workers=3)

    with session_scope(engine) as session:
        assert len(store.list_versions(session)) == 1
    assert _events(engine, "submitted") == 1


def test_concurrent_put_blob_stores_one_row(engine: Engine) -> None:
    _race(engine, lambda session: store.put_blob(session, data=b"same bytes"), workers=3)

    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Blob)).one() == 1


def test_decision_that_loses_the_insert_race_returns_the_winner(engine: Engine) -> None:
    """The loser's check runs before the winner commits, so only the unique key stops it.

    On PostgreSQL the second insert waits for the first transaction, then fails on the
    unique key; the store rolls back its SAVEPOINT and returns the committed row. On
    SQLite the second writer waits at BEGIN and then finds the row; same outcome.
    """
    with session_scope(engine) as session:
        submit(session, REF)

    def decide(session: Session) -> ReviewDecision:
        return store.record_decision(
            session,
            ref=REF,
            decision_key="update-1",
            reviewer="grace",
            decision=Decision.APPROVE,
            reason=None,
            source="slack",
        )

    savepoint_rollbacks: list[str] = []
    event.listen(
        engine, "rollback_savepoint", lambda conn, name, context: savepoint_rollbacks.append(name)
    )

    with session_scope(engine) as winner_session:
        winner = decide(winner_session)
        winner_session.flush()
        with ThreadPoolExecutor(max_workers=1) as pool:

            def lose() -> int | None:
                with session_scope(engine) as session:
                    return decide(session).id

            loser = pool.submit(lose)
            time.sleep(0.5)  # let the loser reach its blocked INSERT (or BEGIN)
            winner_session.commit()
            assert loser.result(timeout=60) == winner.id

    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(ReviewDecision)).one() == 1
        decisions = [
            e for e in store.audit_for(session, ref=REF) if e.action.startswith("decision")
        ]
        assert len(decisions) == 1
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == 2
    if engine.dialect.name == "postgresql":
        assert savepoint_rollbacks, "the loser should have hit the unique key"


def test_concurrent_upgrades_both_succeed(empty_db_url: str) -> None:
    barrier = threading.Barrier(2)

    def upgrade() -> None:
        barrier.wait(timeout=10)
        upgrade_database(empty_db_url)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(upgrade) for _ in range(2)]:
            future.result(timeout=60)
