"""Keep the behavioural eval's figures with the eval run that measured them.

A new version's figures are compared with those of the published version it replaces,
so they are stored per run, as the JSON of
:class:`~agent_registry.vocabulary.behaviour_figures.BehaviourRecord`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("eval_run") as batch:
        batch.add_column(sa.Column("behaviour_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("eval_run") as batch:
        batch.drop_column("behaviour_json")
