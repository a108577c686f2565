"""The lifecycle runs the behavioural evals on the probe workers, and never silently skips.

These need no model: without a credential the probe worker answers with the recorded
``evals.not-run`` finding. The runs against the Messages API stand-in are in
tests/real_client/test_behaviour_lifecycle.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.testing import WorkflowEnvironment

from activities.behaviour import BEHAVIOUR_ACTIVITY
from agent_registry.behaviour.cases import CaseDiscovery
from agent_registry.behaviour.gates import CASES_MISSING, NOT_RUN, judge
from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.policy.loader import load_policy
from agent_registry.registry import store
from agent_registry.registry.tables import EvalFindingRow, EvalRun
from agent_registry.vocabulary.findings import Severity
from tests.real_client.behaviour_cases import skill_with_cases
from tests.support import (
    POLICIES,
    approve_until_published,
    copy_example,
    make_settings,
    running_worker,
    scheduled_activities,
    skip_time,
    submit_path,
    wait_for_stage,
)


@pytest.mark.asyncio(loop_scope="session")
async def test_without_a_model_credential_the_cases_are_recorded_as_not_run(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    assert settings.model_api_key is None
    async with running_worker(dev_env.client, settings, sqlite_engine):
        handle = await submit_path(dev_env.client, settings, skill_with_cases(tmp_path))
        status = await wait_for_stage(handle, Stage.IN_REVIEW)

    assert status.eval is not None and status.eval.passed
    [finding] = [f for f in status.eval.top_findings if f.check_id == NOT_RUN]
    assert finding.severity is Severity.WARN  # the default policy's severity
    assert "3 behavioural eval case(s) were not run" in finding.message
    assert "AGENT_REGISTRY_MODEL_API_KEY" in finding.message
    assert status.eval.behaviour is None
    scheduled = await scheduled_activities(handle)
    runs = [queue for name, queue in scheduled if name == BEHAVIOUR_ACTIVITY]
    assert runs == [settings.probe_task_queue], "on the probe workers, never the main one"
    evals = [i for i, (name, _) in enumerate(scheduled) if name == "evaluate_version"]
    behaviour = [i for i, (name, _) in enumerate(scheduled) if name == BEHAVIOUR_ACTIVITY]
    assert evals[0] < behaviour[0] < evals[1] and len(evals) == 2, "static bar, evals, judge"


@pytest.mark.asyncio(loop_scope="session")
async def test_an_asset_without_cases_sends_nothing_to_the_probe_workers(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    async with running_worker(dev_env.client, settings, sqlite_engine):
        handle = await submit_path(
            dev_env.client, settings, copy_example("skills/release-notes", tmp_path)
        )
        status = await wait_for_stage(handle, Stage.IN_REVIEW)

    assert status.eval is not None and status.eval.passed
    assert [
        name for name, _ in await scheduled_activities(handle) if name == BEHAVIOUR_ACTIVITY
    ] == []
    assert not [f for f in status.eval.top_findings if f.check_id.startswith("evals.")]


def test_the_default_policy_requires_no_cases_of_any_tier() -> None:
    """Assets published before behavioural evals have none: requiring them by default
    would block every high-tier asset at its next re-certification."""
    policy = load_policy(None)
    assert policy.behaviour.required_tiers == []
    no_cases = CaseDiscovery()
    found = judge(policy=policy.behaviour, tier=RiskTier.HIGH, discovery=no_cases, figures=None)
    assert found == []
    required = policy.behaviour.model_copy(update={"required_tiers": [RiskTier.HIGH]})
    found = judge(policy=required, tier=RiskTier.HIGH, discovery=no_cases, figures=None)
    assert [f.check_id for f in found] == [CASES_MISSING]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_recertification_runs_the_behavioural_evals_again(
    ts_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url, policy=POLICIES / "year.toml")
    client = ts_env.client
    async with running_worker(client, settings, sqlite_engine):
        handle = await submit_path(client, settings, skill_with_cases(tmp_path))
        published = await approve_until_published(client, handle)
        status = await query_status(published)
        assert status.recertify_by is not None
        assert len(_eval_runs(sqlite_engine, status)) == 1
        await skip_time(
            ts_env, status.recertify_by - await ts_env.get_current_time() + timedelta(hours=1)
        )
        for _ in range(300):
            if len(_eval_runs(sqlite_engine, status)) >= 2:
                break
            await asyncio.sleep(0.1)
    runs = _eval_runs(sqlite_engine, status)
    assert len(runs) == 2, "the submission's evaluation and the cycle's"
    # Said by the probe worker's activity only (a run it never answered says otherwise).
    assert all("AGENT_REGISTRY_MODEL_API_KEY" in run for run in runs)


def _eval_runs(engine: Engine, status: AssetStatus) -> list[str]:
    """Per eval run of the version, its evals.not-run messages joined."""
    with Session(engine) as session:
        version = store.get_version(session, ref=status.ref)
        runs = session.exec(
            select(EvalRun).where(EvalRun.version_id == version.id).order_by(col(EvalRun.id))
        ).all()
        return [
            " ".join(
                row.message
                for row in session.exec(
                    select(EvalFindingRow).where(EvalFindingRow.eval_run_id == run.id)
                ).all()
                if row.check_id == NOT_RUN
            )
            for run in runs
        ]
