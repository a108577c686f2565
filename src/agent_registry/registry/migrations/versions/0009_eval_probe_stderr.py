"""Keep what a probed MCP server wrote to stderr with its eval run, for reviewers.

The probe masks it with the secret scanner's rules and caps it; it is shown in the
review request only, never to the submitter, so it has a column of its own instead of
travelling in a finding.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("eval_run") as batch:
        batch.add_column(sa.Column("probe_stderr", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eval_run") as batch:
        batch.drop_column("probe_stderr")
