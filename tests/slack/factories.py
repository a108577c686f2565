"""Builders for the lifecycle states the Slack messages and notices are rendered from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.contract import AssetStatus, EvalSummary, ReviewPlan
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.vocabulary.findings import Finding, Severity

HASH = "3f" * 32
UI = "http://localhost:8233/namespaces/default/workflows/asset%2Fmcp-server"
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
REF = AssetRef(kind=AssetKind.MCP_SERVER, name="io.github.acme/tickets", version="1.3.0")

LEAK = "secrets.aws-access-key"


def make_plan(*, approvals: int = 2, require: list[str] | None = None) -> ReviewPlan:
    """A review plan needing ``approvals``, one of them from ``require`` (security)."""
    return ReviewPlan(
        policy_version="2026-11-24",
        approvals_required=approvals,
        require_groups=["security"] if require is None else require,
        group_members={"security": ["sec@acme.io"], "reviewers": ["S0REVIEWERS"]},
        sla=timedelta(days=2),
        escalate_after=timedelta(days=4),
        revision_window=timedelta(days=14),
    )


def make_eval(
    findings: list[Finding] | None = None, *, blocking: int = 0, warnings: int = 1
) -> EvalSummary:
    """An eval summary, high risk, with one warning unless ``findings`` are given."""
    return EvalSummary(
        run_key="run-1",
        policy_version="2026-11-24",
        passed=blocking == 0,
        blocking=blocking,
        warnings=warnings,
        top_findings=findings
        if findings is not None
        else [
            Finding(
                check_id="scope.unrestricted-shell",
                severity=Severity.WARN,
                message="tool run_query executes arbitrary SQL",
                file="scope.yaml",
                line=12,
            )
        ],
        risk_tier=RiskTier.HIGH,
        tier_reasons=["delete_ticket deletes (scope.yaml:7)"],
    )


def make_status(**fields: Any) -> AssetStatus:
    """A version in review, evaluated and planned; ``fields`` override any part."""
    base: dict[str, Any] = {
        "ref": REF,
        "stage": Stage.IN_REVIEW,
        "owner_team": "support-tools",
        "submitter": "ana@acme.io",
        "authors": ["ana@acme.io", "ben@acme.io"],
        "machine_authored": True,
        "content_hash": HASH,
        "eval": make_eval(),
        "plan": make_plan(),
    }
    return AssetStatus(**(base | fields))
