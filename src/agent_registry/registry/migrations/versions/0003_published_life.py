"""A published version's life: re-certification dates, deprecation and retirement.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("recertify_by", sa.DateTime(timezone=True)),
    ("recertified_at", sa.DateTime(timezone=True)),
    ("deprecated_at", sa.DateTime(timezone=True)),
    ("deprecated_by", sa.String()),
    ("deprecation_reason", sa.Text()),
    ("replacement", sa.String()),
    ("sunset_at", sa.DateTime(timezone=True)),
    ("retired_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    # Batch mode: SQLite cannot drop columns in place (the downgrade), so both directions
    # go through it; on PostgreSQL it is plain ALTER TABLE.
    with op.batch_alter_table("asset_version") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("asset_version") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
