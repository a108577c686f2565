"""The audit log's hash chain holds through a lifecycle and shows every kind of tampering.

Tampering is done the way an attacker with database access would: SQL UPDATE, DELETE
and INSERT straight on ``audit_event``, around the store.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, text, update
from sqlmodel import Session
from typer.testing import CliRunner

from agent_registry.assets.refs import AssetRef
from agent_registry.cli.main import build_app
from agent_registry.lifecycle.stages import Decision, RiskTier, Stage
from agent_registry.registry import store
from agent_registry.registry.audit_chain import (
    GENESIS_HASH,
    ChainedEvent,
    Problem,
    event_digest,
    load_chain,
    verify_chain,
    verify_database,
)
from agent_registry.registry.db import session_scope
from agent_registry.registry.store.idempotency import append_event
from agent_registry.registry.tables import AuditEvent
from tests.registry.factories import publish, submit

REF = AssetRef.parse("skill/pdf-report@1.0.0")
NOW = datetime.now(UTC)
EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]


def _lifecycle(engine: Engine, ref: AssetRef = REF) -> None:
    """Every kind of state change and decision the registry records, one transaction each."""
    steps: list[Callable[[Session], object]] = [
        lambda s: submit(s, ref),
        lambda s: store.set_stage(
            s, ref=ref, stage=Stage.EVALUATING, actor="agent-registry", event_key="k/eval-start"
        ),
        lambda s: store.record_eval(
            s,
            ref=ref,
            run_key="run-1",
            policy_version="policy-7",
            passed=True,
            risk_tier=RiskTier.MEDIUM,
            tier_reasons=["calls tools"],
            findings=[],
        ),
        lambda s: store.set_stage(
            s,
            ref=ref,
            stage=Stage.IN_REVIEW,
            actor="agent-registry",
            event_key="k/review",
            detail={"deadline": "2026-12-01T00:00:00Z", "reviewers": ["grace", "linus"]},
            policy_version="policy-7",
        ),
        lambda s: store.record_decision(
            s,
            ref=ref,
            decision_key="decision-1",
            reviewer="grace@example.com",
            decision=Decision.APPROVE,
            reason="looks right — ünïcode",
            source="slack",
        ),
        lambda s: publish(s, ref),
        lambda s: store.schedule_recertification(
            s, ref=ref, recertify_by=NOW + timedelta(days=90), event_key="k/recert-plan"
        ),
        lambda s: store.record_recertification(
            s,
            ref=ref,
            recertify_by=NOW + timedelta(days=180),
            actor="grace@example.com",
            event_key="k/recert",
            policy_version="policy-8",
        ),
        lambda s: store.deprecate_version(
            s,
            ref=ref,
            reason="superseded",
            by="ada@example.com",
            replacement=None,
            sunset_at=NOW + timedelta(days=30),
            event_key="k/deprecate",
        ),
        lambda s: store.retire_version(s, ref=ref, event_key="k/retire"),
    ]
    for step in steps:
        with session_scope(engine) as session:
            step(session)


def _chain(engine: Engine) -> list[ChainedEvent]:
    with session_scope(engine) as session:
        return load_chain(session)


def _verify(engine: Engine) -> Any:
    with session_scope(engine) as session:
        return verify_database(session)


def test_a_lifecycle_chains_every_event_and_verifies(engine: Engine) -> None:
    _lifecycle(engine)

    chain = _chain(engine)
    result = _verify(engine)

    assert result.intact, result.broken
    assert result.count == len(chain) == 10
    assert result.head_hash == chain[-1].event_hash
    assert [event.seq for event in chain] == list(range(1, 11))
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.event_hash for a, b in itertools.pairwise(chain))
    actions = {event.action for event in chain}
    assert {"submitted", "evaluated", "decision:approve", "published", "retired"} <= actions


def test_a_repeated_call_returns_its_event_and_does_not_extend_the_chain(engine: Engine) -> None:
    _lifecycle(engine)
    before = _chain(engine)

    with session_scope(engine) as session:
        version = store.get_version(session, ref=REF)
        again = append_event(
            session,
            ref=REF,
            version=version,
            event_key="k/retire",
            actor="someone-else",
            action="retired",
            detail={},
        )
        assert again.id == before[-1].id
        assert again.event_hash == before[-1].event_hash
        store.retire_version(session, ref=REF, event_key="k/retire")

    assert _chain(engine) == before
    assert _verify(engine).intact


TAMPERING: list[tuple[str, object]] = [
    ("actor", "mallory@example.com"),
    ("action", "decision:reject"),
    ("at", NOW - timedelta(days=1)),
    ("kind", "agent"),
    ("name", "other"),
    ("version", "9.9.9"),
    ("event_key", "forged-key"),
    ("content_hash", "f" * 64),
    ("policy_version", "policy-0"),
    ("detail", {"reason": "nothing to see"}),
    ("seq", 1000),
    ("prev_hash", "e" * 64),
    ("event_hash", "d" * 64),
]


@pytest.mark.parametrize(("column", "value"), TAMPERING, ids=[c for c, _ in TAMPERING])
def test_altering_any_field_of_a_middle_row_is_reported_at_that_row(
    engine: Engine, column: str, value: object
) -> None:
    _lifecycle(engine)
    middle = _chain(engine)[4]

    with engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == middle.id).values({column: value}))

    broken = _verify(engine).broken
    assert broken is not None
    assert broken.problem is Problem.ALTERED
    assert broken.event_id == middle.id
    assert f"event id {middle.id}" in broken.message


def test_a_plain_sql_update_is_reported(engine: Engine) -> None:
    _lifecycle(engine)
    middle = _chain(engine)[3]

    with engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_event SET actor = 'mallory' WHERE id = :id"), {"id": middle.id}
        )

    result = _verify(engine)
    assert result.broken is not None
    assert result.broken.event_id == middle.id
    assert result.count == 3


def test_a_deleted_middle_row_is_reported_at_the_gap(engine: Engine) -> None:
    _lifecycle(engine)
    chain = _chain(engine)

    with engine.begin() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.id == chain[5].id))

    broken = _verify(engine).broken
    assert broken is not None
    assert broken.problem is Problem.REMOVED
    assert broken.event_id == chain[6].id
    assert "seq 6 removed" in broken.message


def test_deleting_the_first_or_last_rows_is_reported(engine: Engine) -> None:
    _lifecycle(engine)
    chain = _chain(engine)

    with engine.begin() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.id >= chain[8].id))
    broken = _verify(engine).broken
    assert broken is not None
    assert broken.problem is Problem.TRUNCATED
    assert "seq 9..10 removed from the end" in broken.message

    with engine.begin() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.id == chain[0].id))
    broken = _verify(engine).broken
    assert broken is not None
    assert broken.problem is Problem.REMOVED
    assert broken.event_id == chain[1].id


def test_moving_a_row_is_reported(engine: Engine) -> None:
    _lifecycle(engine)
    chain = _chain(engine)

    with engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == chain[2].id).values(id=10_000))

    broken = _verify(engine).broken
    assert broken is not None
    assert broken.event_id == chain[3].id


def test_a_row_inserted_around_the_store_is_reported(engine: Engine) -> None:
    _lifecycle(engine)
    chain = _chain(engine)
    forged = ChainedEvent(
        id=10_000,
        seq=11,
        event_key="forged",
        kind="skill",
        name="pdf-report",
        version="1.0.0",
        actor="mallory",
        at=NOW,
        action="published",
        content_hash=None,
        policy_version=None,
        detail={},
        prev_hash=chain[-1].event_hash,
    )
    digest = event_digest(forged, seq=11, prev_hash=forged.prev_hash or "")

    # Even a correctly hashed row does not move the head, which the store moves with it.
    row = forged.record() | {"at": NOW, "event_hash": digest}
    row.pop("chain_format")
    with engine.begin() as connection:
        connection.execute(insert(EVENTS).values(row))
    broken = _verify(engine).broken
    assert broken is not None
    assert broken.problem is Problem.BROKEN_LINK
    assert "head records seq 10" in broken.message

    # An unchained row is named as such.
    with engine.begin() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.id == 10_000))
        connection.execute(
            insert(EVENTS).values(
                id=10_001,
                event_key="sneaky",
                at=NOW,
                actor="mallory",
                action="published",
                kind="skill",
                name="pdf-report",
                version="1.0.0",
                detail={},
            )
        )
    broken = _verify(engine).broken
    assert broken is not None
    assert broken.problem is Problem.INSERTED
    assert broken.event_id == 10_001


def test_verify_chain_reports_a_row_slipped_into_the_middle() -> None:
    events: list[ChainedEvent] = []
    prev = GENESIS_HASH
    for seq in range(1, 5):
        base = _event(seq, prev)
        prev = event_digest(base, seq=seq, prev_hash=prev)
        events.append(_with_hash(base, prev))
    slipped = _event(3, events[1].event_hash or "", event_id=99)
    slipped = _with_hash(slipped, event_digest(slipped, seq=3, prev_hash=slipped.prev_hash or ""))

    result = verify_chain([*events[:2], slipped, *events[2:]], None)

    assert result.broken is not None
    assert result.broken.problem is Problem.INSERTED
    assert result.broken.event_id == events[2].id
    assert result.count == 3


def test_verify_chain_reports_swapped_rows() -> None:
    events: list[ChainedEvent] = []
    prev = GENESIS_HASH
    for seq in range(1, 5):
        base = _event(seq, prev)
        prev = event_digest(base, seq=seq, prev_hash=prev)
        events.append(_with_hash(base, prev))

    result = verify_chain([events[0], events[2], events[1], events[3]], None)

    assert result.broken is not None
    assert result.broken.event_id == events[2].id


def _event(seq: int, prev_hash: str, *, event_id: int | None = None) -> ChainedEvent:
    return ChainedEvent(
        id=event_id or seq,
        seq=seq,
        event_key=f"key-{seq}-{event_id}",
        kind="skill",
        name="pdf-report",
        version="1.0.0",
        actor="ada",
        at=NOW,
        action="stage:InReview",
        content_hash=None,
        policy_version=None,
        detail={"n": seq},
        prev_hash=prev_hash,
    )


def _with_hash(event: ChainedEvent, digest: str) -> ChainedEvent:
    return ChainedEvent(**{**event.__dict__, "event_hash": digest})


def test_cli_verify_and_export(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lifecycle(engine)
    chain = _chain(engine)
    monkeypatch.setenv("AGENT_REGISTRY_DATABASE_URL", db_url)
    runner = CliRunner()

    verified = runner.invoke(build_app(), ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert f"chain intact: 10 events, head {chain[-1].event_hash}" in verified.output

    output = tmp_path / "audit.jsonl"
    exported = runner.invoke(build_app(), ["audit", "export", "--output", str(output)])
    assert exported.exit_code == 0, exported.output
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert lines == [event.record() for event in chain]
    assert lines[4]["detail"]["reason"] == "looks right — ünïcode"
    assert {"prev_hash", "event_hash", "seq", "at", "actor", "action"} <= set(lines[0])

    since = runner.invoke(build_app(), ["audit", "export", "--since", str(chain[6].id)])
    assert since.exit_code == 0, since.output
    assert [json.loads(line)["id"] for line in since.stdout.splitlines()] == [
        event.id for event in chain[7:]
    ]

    with engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == chain[2].id).values(actor="x"))
    failed = runner.invoke(build_app(), ["audit", "verify"])
    assert failed.exit_code == 1
    assert f"event id {chain[2].id}" in failed.output
    assert "altered" in failed.output


def test_concurrent_appends_keep_one_chain(engine: Engine) -> None:
    workers = 6
    barrier = threading.Barrier(workers)

    def run(index: int) -> None:
        ref = AssetRef.parse(f"skill/racer-{index}@1.0.0")
        with session_scope(engine) as session:
            submit(session, ref)
        barrier.wait(timeout=30)
        for step in range(3):
            with session_scope(engine) as session:
                store.set_stage(
                    session,
                    ref=ref,
                    stage=Stage.EVALUATING if step % 2 == 0 else Stage.IN_REVIEW,
                    actor="agent-registry",
                    event_key=f"racer-{index}/{step}",
                )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run, index) for index in range(workers)]:
            future.result(timeout=120)

    result = _verify(engine)
    chain = _chain(engine)
    assert result.intact, result.broken
    assert result.count == len(chain) == workers * 4
    assert [event.seq for event in chain] == list(range(1, workers * 4 + 1))
    assert len({event.prev_hash for event in chain}) == len(chain)


def test_a_truncated_registry_starts_a_new_chain(session: Session) -> None:
    result = verify_database(session)
    assert result.intact
    assert result.count == 0
    assert result.head_hash == GENESIS_HASH
