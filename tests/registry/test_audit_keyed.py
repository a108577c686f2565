"""A database writer cannot rewrite the audit log unnoticed once the chain is keyed.

The attack: someone with write access to ``audit_event`` changes who approved a version
and then recomputes every later hash (and the head), so the unkeyed chain verifies
intact. With the audit key (a file the database never holds) the digests are HMACs the
writer cannot recompute, and ``agentreg audit verify`` names the first row that
disagrees.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from agent_registry.cli.main import build_app
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.audit_chain import (
    GENESIS_HASH,
    ChainedEvent,
    Problem,
    Verification,
    canonical_json,
    event_digest,
    keyed_engine,
    load_audit_key,
    load_chain,
    rekey_chain,
    verify_database,
)
from agent_registry.registry.db import session_scope
from agent_registry.registry.tables import AuditChainHead, AuditEvent
from tests.registry.test_audit_chain import REF, _lifecycle

KEY = b"k" * 16 + b"e" * 16 + b"y" * 8
EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
HEADS = AuditChainHead.__table__  # type: ignore[attr-defined]


def _chain(engine: Engine) -> list[ChainedEvent]:
    with session_scope(engine) as session:
        return load_chain(session)


def _verify(engine: Engine, key: bytes | None) -> Verification:
    with session_scope(engine) as session:
        return verify_database(session, key=key)


class DigestFn:
    """How the attacker recomputes a row's hash."""

    def __init__(self, key: bytes | None, *, keyed_format: bool = False) -> None:
        self.key = key
        self.keyed_format = keyed_format

    def __call__(self, event: ChainedEvent, seq: int, prev: str) -> str:
        if self.key is None:
            return event_digest(event, seq=seq, prev_hash=prev)
        data = canonical_json(
            seq=seq,
            event_key=event.event_key,
            kind=event.kind,
            name=event.name,
            version=event.version,
            actor=event.actor,
            at=event.at,
            action=event.action,
            content_hash=event.content_hash,
            policy_version=event.policy_version,
            detail=event.detail,
            prev_hash=prev,
            keyed=self.keyed_format,
        )
        return hmac.new(self.key, data, hashlib.sha256).hexdigest()


def _rewrite(engine: Engine, *, index: int, actor: str, digest: DigestFn) -> list[ChainedEvent]:
    """Change row ``index``'s actor and recompute every hash and the head, as an attacker."""
    chain = _chain(engine)
    prev = GENESIS_HASH
    with engine.begin() as connection:
        for position, stored in enumerate(chain):
            event = stored
            if position == index:
                event = ChainedEvent(**{**stored.__dict__, "actor": actor})
            assert event.seq is not None
            new = digest(event, event.seq, prev)
            connection.execute(
                update(EVENTS)
                .where(EVENTS.c.id == event.id)
                .values(actor=event.actor, prev_hash=prev, event_hash=new)
            )
            prev = new
        connection.execute(update(HEADS).values(event_hash=prev))
    return chain


def test_a_keyed_lifecycle_verifies_only_with_its_key(engine: Engine) -> None:
    _lifecycle(keyed_engine(engine, KEY))
    keyed = _verify(engine, KEY)
    assert keyed.intact and keyed.count == 10
    assert not _verify(engine, None).intact
    assert not _verify(engine, b"another key of at least 32 bytes!!").intact


def test_a_full_rewrite_re_hashed_without_the_key_is_caught_at_the_rewritten_row(
    engine: Engine,
) -> None:
    _lifecycle(keyed_engine(engine, KEY))
    chain = _rewrite(engine, index=4, actor="mallory@example.com", digest=DigestFn(None))
    # The unkeyed check is fooled: this is the attack the issue describes.
    assert _verify(engine, None).intact
    result = _verify(engine, KEY)
    broken = result.broken
    assert broken is not None and broken.problem is Problem.UNKEYED
    # Every row was re-hashed, so the first one disagrees: nothing before it is trusted.
    assert broken.event_id == chain[0].id
    assert result.count == 0


def test_a_rewrite_with_a_guessed_key_is_caught(engine: Engine) -> None:
    _lifecycle(keyed_engine(engine, KEY))
    chain = _rewrite(
        engine,
        index=4,
        actor="mallory@example.com",
        digest=DigestFn(b"g" * 32, keyed_format=True),
    )
    broken = _verify(engine, KEY).broken
    assert broken is not None and broken.problem is Problem.ALTERED
    assert broken.event_id == chain[0].id


def test_an_edit_without_re_hashing_names_that_row(engine: Engine) -> None:
    _lifecycle(keyed_engine(engine, KEY))
    chain = _chain(engine)
    with engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == chain[5].id).values(actor="x"))
    result = _verify(engine, KEY)
    assert result.broken is not None and result.broken.event_id == chain[5].id
    assert result.count == 5


def test_rekey_keys_an_intact_chain_and_refuses_a_tampered_one(engine: Engine) -> None:
    _lifecycle(engine)
    with session_scope(engine) as session:
        assert rekey_chain(session, key=KEY).intact
    assert _verify(engine, KEY).intact
    # Appends after re-keying stay keyed.
    with session_scope(keyed_engine(engine, KEY)) as session:
        store.set_stage(
            session,
            ref=REF,
            stage=Stage.RETIRED,
            actor="agent-registry",
            event_key="k/after-rekey",
        )
    assert _verify(engine, KEY).count == 11


def test_rekey_refuses_a_tampered_chain_and_changes_nothing(engine: Engine) -> None:
    _lifecycle(engine)
    chain = _chain(engine)
    with engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == chain[3].id).values(actor="x"))
    before = _chain(engine)
    with session_scope(engine) as session:
        result = rekey_chain(session, key=KEY)
    assert not result.intact and result.broken is not None
    assert result.broken.event_id == chain[3].id
    assert _chain(engine) == before


def test_cli_verify_with_the_key_names_the_first_row_that_disagrees(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "audit.key"
    key_file.write_bytes(KEY + b"\n")
    assert load_audit_key(key_file) == KEY
    _lifecycle(keyed_engine(engine, KEY))
    monkeypatch.setenv("AGENT_REGISTRY_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_REGISTRY_AUDIT_KEY", str(key_file))
    runner = CliRunner()
    ok = runner.invoke(build_app(), ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "chain intact: 10 events" in ok.output
    chain = _rewrite(engine, index=4, actor="mallory@example.com", digest=DigestFn(None))
    failed = runner.invoke(build_app(), ["audit", "verify"])
    assert failed.exit_code == 1
    assert f"event id {chain[0].id}" in failed.output
    assert "disagrees with the audit key" in failed.output


def test_a_short_audit_key_is_refused_naming_the_file(tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"tiny")
    with pytest.raises(ValueError, match=re.escape(str(short))):
        load_audit_key(short)
