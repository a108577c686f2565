"""Initial registry schema: assets, versions, blobs, eval runs, review decisions, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "asset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("owner_team", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_asset_kind_name")),
    )
    op.create_table(
        "asset_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("version_sort", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("manifest_json", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("risk_tier", sa.String(), nullable=True),
        sa.Column("tier_reasons", sa.JSON(), nullable=False),
        sa.Column("submitter", sa.String(), nullable=False),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("changelog", sa.Text(), nullable=False),
        sa.Column("machine_authored", sa.Boolean(), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=False),
        sa.Column("policy_version", sa.String(), nullable=True),
        sa.Column("submitted_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("published_at", _utc(), nullable=True),
        sa.Column("approvers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_asset_version_asset_id_asset")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_version")),
        sa.UniqueConstraint("asset_id", "version", name=op.f("uq_asset_version_asset_id_version")),
    )
    op.create_index(op.f("ix_asset_version_asset_id"), "asset_version", ["asset_id"])
    op.create_index(op.f("ix_asset_version_stage"), "asset_version", ["stage"])
    op.create_index(op.f("ix_asset_version_content_hash"), "asset_version", ["content_hash"])

    op.create_table(
        "blob",
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_blob")),
    )

    op.create_table(
        "eval_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("run_key", sa.String(), nullable=False),
        sa.Column("policy_version", sa.String(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("blocking_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("risk_tier", sa.String(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["asset_version.id"],
            name=op.f("fk_eval_run_version_id_asset_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_run")),
        sa.UniqueConstraint("run_key", name=op.f("uq_eval_run_run_key")),
    )
    op.create_index(op.f("ix_eval_run_version_id"), "eval_run", ["version_id"])

    op.create_table(
        "eval_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("eval_run_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("file", sa.String(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fix", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["eval_run_id"],
            ["eval_run.id"],
            name=op.f("fk_eval_finding_eval_run_id_eval_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_finding")),
    )
    op.create_index(op.f("ix_eval_finding_eval_run_id"), "eval_finding", ["eval_run_id"])

    op.create_table(
        "review_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("decision_key", sa.String(), nullable=False),
        sa.Column("reviewer", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("decided_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["asset_version.id"],
            name=op.f("fk_review_decision_version_id_asset_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decision")),
        sa.UniqueConstraint("decision_key", name=op.f("uq_review_decision_decision_key")),
    )
    op.create_index(op.f("ix_review_decision_version_id"), "review_decision", ["version_id"])

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=True),
        sa.Column("policy_version", sa.String(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("event_key", name=op.f("uq_audit_event_event_key")),
    )
    op.create_index("ix_audit_event_ref", "audit_event", ["kind", "name", "version"])


def downgrade() -> None:
    op.drop_table("audit_event")
    op.drop_table("review_decision")
    op.drop_table("eval_finding")
    op.drop_table("eval_run")
    op.drop_table("blob")
    op.drop_table("asset_version")
    op.drop_table("asset")
