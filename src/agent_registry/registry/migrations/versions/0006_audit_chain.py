"""Chain the audit log by hash: seq, prev_hash and event_hash, and the chain head.

Existing events are chained in id order (the order they were appended in), so a
registry upgraded with history verifies from its first event on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from agent_registry.registry.audit_chain import (
    GENESIS_HASH,
    HEAD_ID,
    ChainedEvent,
    event_digest,
)
from agent_registry.registry.tables import UtcDateTime

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(), nullable=True))
        batch.add_column(sa.Column("event_hash", sa.String(), nullable=True))
        batch.create_unique_constraint(op.f("uq_audit_event_seq"), ["seq"])
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_hash", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    _backfill()


def _backfill() -> None:
    """Chain every existing event in id order and record the head.

    The columns are read through the same types the models use (aware UTC times, JSON
    detail), so the hashes written here are the ones the verifier recomputes.
    """
    events = sa.table(
        "audit_event",
        sa.column("id", sa.Integer()),
        sa.column("event_key", sa.String()),
        sa.column("at", UtcDateTime()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("name", sa.String()),
        sa.column("version", sa.String()),
        sa.column("content_hash", sa.String()),
        sa.column("policy_version", sa.String()),
        sa.column("detail", sa.JSON()),
        sa.column("seq", sa.Integer()),
        sa.column("prev_hash", sa.String()),
        sa.column("event_hash", sa.String()),
    )
    head = sa.table(
        "audit_chain_head",
        sa.column("id", sa.Integer()),
        sa.column("seq", sa.Integer()),
        sa.column("event_hash", sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    seq = 0
    prev_hash = GENESIS_HASH
    for row in rows:
        seq += 1
        event = ChainedEvent(
            id=row["id"],
            seq=seq,
            event_key=row["event_key"],
            kind=row["kind"],
            name=row["name"],
            version=row["version"],
            actor=row["actor"],
            at=row["at"],
            action=row["action"],
            content_hash=row["content_hash"],
            policy_version=row["policy_version"],
            detail=dict(row["detail"] or {}),
        )
        digest = event_digest(event, seq=seq, prev_hash=prev_hash)
        bind.execute(
            sa.update(events)
            .where(events.c.id == row["id"])
            .values(seq=seq, prev_hash=prev_hash, event_hash=digest)
        )
        prev_hash = digest
    bind.execute(sa.insert(head).values(id=HEAD_ID, seq=seq, event_hash=prev_hash))


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_constraint(op.f("uq_audit_event_seq"), type_="unique")
        batch.drop_column("event_hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
