"""Recorded runs of the scheduled import replay through the current workflow code.

``histories/`` holds two runs recorded on the dev server by
``test_import_lifecycle.py::test_schedule_submits_each_new_upstream_version_once``: one
that found nothing new (a note for a server never imported) and one that submitted a new
upstream version. A change to ``workflows/mcp_import.py`` that would break a run in
flight fails here; guard such a change with ``workflow.patched``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.mcp_import import McpImportWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_both_runs_are_recorded() -> None:
    assert {path.stem for path in HISTORIES} == {"nothing_new", "submitted"}


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[McpImportWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
