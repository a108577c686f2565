"""A lifecycle blocked for a secret purges its bundle when the revision window closes.

The attack (issue 15): a bundle the eval bar rejected for a credential stayed in the
store until an operator remembered ``agentreg db purge-secrets``, so the credential was
kept (and, before access control, served). Now the lifecycle purges it itself, through
an idempotent activity, and the audit keeps the hash and the finding ids, never the
secret.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from agent_registry.assets.refs import AssetRef
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from agent_registry.registry.store.purge import PURGE_ACTION, purge_blocked_bundle
from agent_registry.registry.tables import AuditEvent, Blob, EvalFindingRow
from tests import seeding
from tests.support import copy_example, make_settings, running_worker, submit_path

SECRET = "AKIAZ7Q3P4LMN2X5RT8W"
"""The access key id the leaky example holds."""


def _purge_events(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == PURGE_ACTION)).all())


@pytest.mark.asyncio(loop_scope="session")
async def test_a_lifecycle_blocked_for_a_secret_purges_its_bundle_when_the_window_closes(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    async with running_worker(ts_env.client, settings, sqlite_engine):
        handle = await submit_path(
            ts_env.client, settings, copy_example("failing/leaky-deploy-helper", tmp_path)
        )
        # Awaiting the result lets the server skip the 30-day revision window.
        final = await handle.result()
    assert final.stage is Stage.EVAL_FAILED
    content_hash = final.content_hash
    assert content_hash is not None
    with session_scope(sqlite_engine) as session:
        assert session.get(Blob, content_hash) is None
        (event,) = _purge_events(session)
        secret_ids = sorted(
            row.id
            for row in session.exec(select(EvalFindingRow)).all()
            if row.check_id.startswith("secrets.") and row.id is not None
        )
        detail = event.detail
    assert detail["content_hash"] == content_hash
    assert detail["finding_ids"] == secret_ids and secret_ids
    assert all(str(check).startswith("secrets.") for check in detail["checks"])
    assert SECRET not in json.dumps(detail)
    # Nothing in the lifecycle's history carries the secret either.
    history = await ts_env.client.get_workflow_handle(handle.id).fetch_history()
    assert SECRET not in history.to_json()


def test_the_purge_activity_is_idempotent_and_purges_only_a_secret_block(
    sqlite_engine: Engine,
) -> None:
    leaky = AssetRef.parse("skill/leaky@1.0.0")
    sloppy = AssetRef.parse("skill/sloppy@1.0.0")
    with session_scope(sqlite_engine) as session:
        seeding.blocked(
            session,
            leaky,
            check_id="secrets.aws-access-key",
            archive=b"bytes with a key",
            message=f"found {SECRET}",
        )
        seeding.blocked(
            session,
            sloppy,
            check_id="spec.description-missing",
            archive=b"bytes without one",
            message=f"found {SECRET}",
        )
    with session_scope(sqlite_engine) as session:
        assert purge_blocked_bundle(session, ref=leaky) is True
        assert purge_blocked_bundle(session, ref=sloppy) is False
    with session_scope(sqlite_engine) as session:
        # A retry of the activity: nothing more deleted, no second audit event.
        assert purge_blocked_bundle(session, ref=leaky) is False
        (event,) = _purge_events(session)
        assert SECRET not in json.dumps(event.detail)  # the finding's message stays out
        sloppy_hash = store.get_version(session, ref=sloppy).content_hash
        assert session.get(Blob, sloppy_hash) is not None
        assert purge_blocked_bundle(session, ref=AssetRef.parse("skill/absent@1.0.0")) is False
