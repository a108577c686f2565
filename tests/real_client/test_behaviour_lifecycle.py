"""Behavioural evals through the whole lifecycle, with the real client and the stand-in.

A skill shipping three cases is submitted with a model credential on the probe worker:
its figures reach review (the review message, ``agentreg show``'s catalog read). Once
it is published, a next version that does worse blocks under a policy that forbids
regressions, with the published version's figures compared.
"""

from __future__ import annotations

import json
import uuid
from importlib import resources
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

import agent_registry
from agent_registry.behaviour.gates import REGRESSION
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from agent_registry.lifecycle.stages import Stage
from agent_registry.slack import messages
from agent_registry.vocabulary.findings import Severity
from tests.claude_client import claude_or_skip
from tests.claude_client.messages_stand_in import MessagesStandIn
from tests.real_client.behaviour_cases import skill_with_cases
from tests.support import (
    approve_until_published,
    make_settings,
    running_worker,
    submit_path,
    wait_for_stage,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVAL_WAIT = 240.0
"""Seconds for an evaluation: three cases, one run each, both arms, on the real client."""

WORSE_CASE = '---\ntype: regex\npattern: "## Security"\n---\n\nThe notes have a Security section.\n'


def _policy(tmp_path: Path) -> Path:
    """The default policy, one run per case and a 50% floor; regressions still block."""
    text = resources.files(agent_registry).joinpath("default_policy.toml").read_text()
    text = text.replace("runs = 3 ", "runs = 1 ").replace(
        "min_pass_rate = 0.8", "min_pass_rate = 0.5"
    )
    assert "runs = 1 " in text and "min_pass_rate = 0.5" in text
    assert "no_regression = true" in text
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def _settings(tmp_path: Path, db_url: str, api: MessagesStandIn) -> Settings:
    return make_settings(tmp_path, db_url, policy=_policy(tmp_path)).model_copy(
        update={
            "model_api_key": SecretStr("sk-ant-test-stand-in"),
            "model_base_url": api.url,
            "claude_binary": claude_or_skip(),
        }
    )


async def test_figures_reach_review_and_a_regression_against_the_published_version_blocks(
    dev_env: WorkflowEnvironment,
    sqlite_url: str,
    sqlite_engine: Engine,
    tmp_path: Path,
    model: MessagesStandIn,
) -> None:
    settings = _settings(tmp_path, sqlite_url, model)
    # Tests share one dev server, where a version is submitted once: versions of our own.
    tag = uuid.uuid4().hex[:8]
    v1, v2 = f"1.0.0-r{tag}", f"1.1.0-r{tag}"
    first = skill_with_cases(tmp_path / "v1")
    async with running_worker(dev_env.client, settings, sqlite_engine):
        handle = await submit_path(dev_env.client, settings, first, version=v1)
        status = await wait_for_stage(handle, Stage.IN_REVIEW, timeout=EVAL_WAIT)

        assert status.eval is not None and status.eval.passed, status.eval
        record = status.eval.behaviour
        assert record is not None and record.replaces is None
        assert record.figures.pass_rate == pytest.approx(2 / 3)
        assert record.figures.baseline_delta == pytest.approx(2 / 3)
        blocks = messages.progress_blocks(status, ui_link="http://ui")
        shown = json.dumps([block.to_dict() for block in blocks])
        assert "pass rate 67% over 3 run(s); +67 points against no asset" in shown
        detail = DatabaseCatalog(sqlite_engine).show(f"skill/release-notes@{v1}")
        assert detail.eval is not None and detail.eval.behaviour == record

        await approve_until_published(dev_env.client, handle)

        second = skill_with_cases(tmp_path / "v2")
        worse = second / "evals" / "security"
        (worse / "graders").mkdir(parents=True)
        (worse / "prompt.md").write_text("Draft the release notes with a security section.\n")
        (worse / "graders" / "security.md").write_text(WORSE_CASE)
        handle2 = await submit_path(dev_env.client, settings, second, version=v2)
        failed = await wait_for_stage(handle2, Stage.EVAL_FAILED, timeout=EVAL_WAIT)

    assert failed.eval is not None and not failed.eval.passed
    regression = [f for f in failed.eval.top_findings if f.check_id == REGRESSION]
    assert regression and regression[0].severity is Severity.BLOCK
    assert f"below the published {v1}'s 67%" in regression[0].message
    record2 = failed.eval.behaviour
    assert record2 is not None and record2.replaces == v1
    assert record2.figures.pass_rate == pytest.approx(2 / 4)
    assert record2.replaced_delta == pytest.approx(2 / 4 - 2 / 3)
