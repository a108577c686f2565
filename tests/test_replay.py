"""Recorded histories of every stage replay through the current workflow code.

``tests/histories/before-slack`` was recorded with the workflow as it was before review
requests became Slack messages (commit fdb2c95), ``tests/histories/before-life`` before
published versions lived on through re-certification (commit 48e507d), and
``tests/histories/current`` with the code that added that life (re-certified, lapsed and
retired, deprecated, and a first run ending in continue-as-new);
``tests/histories/sandboxed-probe`` holds an MCP server evaluated in two steps around the
live probe on a probe worker, and ``tests/histories/behavioural-evals`` a skill whose eval
cases were sent to a probe worker between the two steps.
``tests/histories/before-purge`` holds a lifecycle blocked for a secret whose revision
window lapsed before the lifecycle purged such bundles itself (the workflow of commit
9105367), and ``tests/histories/secret-purge`` the same lifecycle ending in the purge.
Both wait out a 30-day window, so they are recorded on the time-skipping test server
(``TIME_SKIPPED`` in the recorder). A change to the
lifecycle workflow that breaks determinism for lifecycles already running fails here.
Record new fixtures with ``.venv/bin/python -m tests.histories.record tests/histories/<label>``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.asset_lifecycle import AssetLifecycleWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))


def test_every_stage_has_a_recorded_history() -> None:
    labels = {path.parent.name for path in HISTORIES}
    assert {"before-slack", "before-life", "current", "sandboxed-probe"} <= labels
    assert "behavioural-evals" in labels
    scenarios = {path.stem for path in HISTORIES}
    assert {"published", "in_review", "revised_then_published", "eval_failed"} <= scenarios
    assert {"recertified", "recertified-first-run", "lapsed_and_retired", "deprecated"} <= scenarios
    assert "mcp_probed" in scenarios
    assert "behaviour_evals" in scenarios
    assert {"before-purge", "secret-purge"} <= labels
    assert {"secret_lapsed", "secret_purged"} <= scenarios


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_history_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[AssetLifecycleWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
