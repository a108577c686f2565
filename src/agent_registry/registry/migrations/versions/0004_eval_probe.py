"""Eval runs name the bundle they evaluated; MCP tool fingerprints from the live probe.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode for SQLite's sake (see 0003); older runs keep a NULL content hash.
    with op.batch_alter_table("eval_run") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(), nullable=True))
        batch.create_index("ix_eval_run_content_hash", ["content_hash"])
    op.create_table(
        "tool_fingerprint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("eval_run_id", sa.Integer(), sa.ForeignKey("eval_run.id"), nullable=False),
        sa.Column("tool_name", sa.String(), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("description_digest", sa.String(), nullable=False),
        sa.Column("schema_digest", sa.String(), nullable=False),
        sa.UniqueConstraint("eval_run_id", "tool_name"),
    )
    op.create_index("ix_tool_fingerprint_eval_run_id", "tool_fingerprint", ["eval_run_id"])


def downgrade() -> None:
    op.drop_index("ix_tool_fingerprint_eval_run_id", table_name="tool_fingerprint")
    op.drop_table("tool_fingerprint")
    with op.batch_alter_table("eval_run") as batch:
        batch.drop_index("ix_eval_run_content_hash")
        batch.drop_column("content_hash")
