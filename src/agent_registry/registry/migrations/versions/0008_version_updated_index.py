"""Index asset versions by (updated_at, id, asset_id): narrow, and covering ``updated_since``.

``GET /v0.1/servers?updated_since=`` looks for the few versions changed since a time.
Without this index SQLite walked every version in name order and tested each row's
``updated_at`` (26 ms at 10,000 servers); with it the changed versions' ids and their
servers' ids are read from the index alone, and only those rows are joined and sorted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_asset_version_updated_at_id", "asset_version", ["updated_at", "id", "asset_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_asset_version_updated_at_id", table_name="asset_version")
