"""Keep each version's signed publication statement (a DSSE envelope).

Versions published before signing existed have none; install and the guard then say
so instead of trusting them silently.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("asset_version") as batch:
        batch.add_column(sa.Column("attestation", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("asset_version") as batch:
        batch.drop_column("attestation")
