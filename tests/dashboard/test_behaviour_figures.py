"""The dashboard's pending reviews show each version's behavioural figures.

Read from the version's latest eval run, by the full report and by the live one the
dashboard keeps up to date after each write; a version whose cases never ran shows none.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.dashboard.page import render_dashboard
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.registry import store
from agent_registry.vocabulary.behaviour_figures import BehaviourFigures, BehaviourRecord
from tests.seeding import move, register

MEASURED = AssetRef.parse("skill/release-notes@1.1.0")
UNMEASURED = AssetRef.parse("subagent/code-reviewer@1.0.0")
RECORD = BehaviourRecord(
    figures=BehaviourFigures(pass_rate=2 / 3, baseline_pass_rate=0.0, runs=9, cost_usd=0.1),
    replaces="1.0.0",
    replaced_pass_rate=1.0,
)
LINE = (
    "pass rate 67% over 9 run(s); +67 points against no asset; -33 points against published 1.0.0"
)


def _in_review(session: Session, ref: AssetRef, record: BehaviourRecord | None) -> None:
    register(session, ref)
    store.record_eval(
        session,
        ref=ref,
        run_key=f"{ref.workflow_id}/eval",
        policy_version="test",
        passed=True,
        risk_tier=RiskTier.LOW,
        tier_reasons=[],
        findings=[],
        behaviour_json=None if record is None else record.model_dump_json(),
    )
    move(session, ref, Stage.EVALUATING)
    move(session, ref, Stage.IN_REVIEW)


def test_pending_reviews_show_the_figures_of_the_latest_eval_run(sqlite_engine: Engine) -> None:
    catalog = DatabaseCatalog(sqlite_engine)
    assert catalog.live_report().pending_reviews == []  # the live facts start before the writes
    with Session(sqlite_engine) as session:
        _in_review(session, MEASURED, RECORD)
        _in_review(session, UNMEASURED, None)
        session.commit()
    assert RECORD.summary_line() == LINE

    for report in (catalog.report(), catalog.live_report()):
        shown = {r.ref: r.behaviour for r in report.pending_reviews}
        assert shown == {str(MEASURED): LINE, str(UNMEASURED): None}
        page = render_dashboard(report)
        assert ">Behaviour</th>" in page
        assert "pass rate 67% over 9 run(s); +67 points against no asset" in page
