"""Installs and uses of catalog assets, recorded once per client event id.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    # No foreign key to asset_version: an event for a ref the registry does not hold is
    # still counted, and version_id is filled in when the ref resolves.
    op.create_table(
        "install_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(), nullable=True),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_install_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_install_event_event_id")),
    )
    op.create_index("ix_install_event_asset", "install_event", ["kind", "name"])
    op.create_index(op.f("ix_install_event_version_id"), "install_event", ["version_id"])
    op.create_index(op.f("ix_install_event_at"), "install_event", ["at"])

    op.create_table(
        "usage_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("tool", sa.String(), nullable=True),
        sa.Column("team", sa.String(), nullable=True),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("session", sa.String(), nullable=True),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("recorded_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_usage_event_event_id")),
    )
    op.create_index("ix_usage_event_asset", "usage_event", ["kind", "name"])
    op.create_index(op.f("ix_usage_event_version_id"), "usage_event", ["version_id"])
    op.create_index(op.f("ix_usage_event_at"), "usage_event", ["at"])


def downgrade() -> None:
    op.drop_table("usage_event")
    op.drop_table("install_event")
