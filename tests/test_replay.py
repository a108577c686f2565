"""Recorded histories of every era replay through the current workflow code.

A lifecycle outlives the build that started it whenever a review or a published life's
cycle run is moved onto a newer build (docs/deploy.md, "Shipping a change to the
lifecycle"); the newer build then replays its history. Each folder under
``tests/histories`` holds histories recorded with the workflow of one era, so each one
proves that the old branch of the ``workflow.patched`` markers introduced after it (ids in
``workflows/patches.py``) still replays. Oldest first:

- ``before-slack``: the workflow of commit fdb2c95, before review requests became Slack
  messages (``slack-review-messages``) and before published versions lived on.
- ``before-life``: the workflow of commit 48e507d, with Slack review requests, before
  published versions lived on through re-certification (``published-life``).
- ``before-merged-steps``: the workflow of commit 67601a4, which added that life
  (re-certified, lapsed and retired, deprecated, and a first run ending in
  continue-as-new), before probe workers (``sandboxed-probe-workers``), behavioural evals,
  the secret purge, the merged registry steps (``merged-registry-steps``) and the bounded
  review (``review-continue-as-new``).
- ``sandboxed-probe``: an MCP server evaluated in two steps around the live probe on a
  probe worker (``sandboxed-probe-workers``), and ``behavioural-evals`` a skill whose eval
  cases were sent to a probe worker between the two steps (``behavioural-evals``).
- ``before-purge``: a lifecycle blocked for a secret whose revision window lapsed before
  the lifecycle purged such bundles itself (the workflow of commit 9105367), and
  ``secret-purge`` the same lifecycle ending in the purge (``purge-secret-bundles``).
- ``split-phases``: every scenario on the workflow of commit 29ac20d, split into its
  phases, the last before ``merged-registry-steps`` and ``review-continue-as-new``; its
  ``revised_past_the_bound`` keeps six revisions in one run.
- ``current``: every scenario on the workflow as it is, recorded after those two patches;
  its ``revised_past_the_bound`` continues the review as new after the fifth revision,
  and the first run of each lifecycle that continued as new is kept as
  ``<scenario>-first-run``.

``secret_purged`` and ``secret_lapsed`` wait out a 30-day window, so they are recorded
on the time-skipping test server (``TIME_SKIPPED`` in the recorder). A change to the
lifecycle workflow that breaks determinism for lifecycles already running fails here.
Record a new era's fixtures with
``.venv/bin/python -m tests.histories.record tests/histories/<label>`` from a checkout of
the code being replaced, before the change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from workflows import patches
from workflows.asset_lifecycle import AssetLifecycleWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))

EVERY_SCENARIO = {
    "published",
    "in_review",
    "revised_then_published",
    "eval_failed",
    "recertified",
    "recertified-first-run",
    "lapsed_and_retired",
    "deprecated",
    "mcp_probed",
    "behaviour_evals",
    "secret_purged",
    "revised_past_the_bound",
}
"""What the recorder runs today; the sets recorded since the split hold all of it."""


def _scenarios(label: str) -> set[str]:
    return {path.stem for path in HISTORIES if path.parent.name == label}


def _last_event_type(path: Path) -> str:
    events: list[dict[str, object]] = json.loads(path.read_text())["events"]
    return str(events[-1]["eventType"])


def test_every_stage_has_a_recorded_history() -> None:
    labels = {path.parent.name for path in HISTORIES}
    assert {"before-slack", "before-life", "current", "sandboxed-probe"} <= labels
    assert "before-merged-steps" in labels
    assert "behavioural-evals" in labels
    scenarios = {path.stem for path in HISTORIES}
    assert {"published", "in_review", "revised_then_published", "eval_failed"} <= scenarios
    assert {"recertified", "recertified-first-run", "lapsed_and_retired", "deprecated"} <= scenarios
    assert "mcp_probed" in scenarios
    assert "behaviour_evals" in scenarios
    assert {"before-purge", "secret-purge"} <= labels
    assert {"secret_lapsed", "secret_purged"} <= scenarios


def test_the_eras_around_the_bounded_review_hold_every_scenario() -> None:
    assert _scenarios("split-phases") >= EVERY_SCENARIO
    assert _scenarios("current") >= EVERY_SCENARIO | {"revised_past_the_bound-first-run"}


def test_every_saved_run_of_a_continued_lifecycle_is_replayed() -> None:
    """A lifecycle that continued as new is saved run by run, each ending where it should.

    The first run ends in continue-as-new and its sibling (the latest run) is saved too,
    so both are among the histories replayed below; the six revisions recorded before the
    bound are one run that never continued as new.
    """
    first_runs = [path for path in HISTORIES if path.stem.endswith("-first-run")]
    assert {f"{p.parent.name}/{p.stem}" for p in first_runs} >= {
        "current/recertified-first-run",
        "current/revised_past_the_bound-first-run",
    }
    for first in first_runs:
        assert _last_event_type(first) == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
        assert first.with_name(first.name.replace("-first-run", "")) in HISTORIES
    unbounded = Path(__file__).parent / "histories/split-phases/revised_past_the_bound.json"
    assert _last_event_type(unbounded) != "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"


OLD_BRANCH_NEEDED_BY = {
    patches.SLACK_REVIEW: {
        "before-slack/in_review",
        "before-slack/published",
        "before-slack/revised_then_published",
    },
    patches.PUBLISHED_LIFE: {
        "before-slack/published",
        "before-slack/revised_then_published",
        "before-life/published",
        "before-life/revised_then_published",
    },
    patches.SECRET_PURGE: {"before-purge/secret_lapsed"},
    patches.MERGED_STEPS: {
        f"{label}/{scenario}"
        for label in ("before-slack", "before-life", "before-merged-steps", "split-phases")
        for scenario in ("eval_failed", "in_review", "published", "revised_then_published")
    }
    | {
        "sandboxed-probe/mcp_probed",
        "behavioural-evals/behaviour_evals",
        "before-purge/secret_lapsed",
        "secret-purge/secret_purged",
        "split-phases/revised_past_the_bound",
    },
    patches.REVIEW_CONTINUE_AS_NEW: {"split-phases/revised_past_the_bound"},
}
"""Recorded histories that take each patch's old branch: what keeps the patch in place.

docs/deploy.md's table of patches names these sets; a patch may move on to
``workflow.deprecate_patch`` only once its sets here are dropped. ``slack-life-actions``,
``sandboxed-probe-workers`` and ``behavioural-evals`` are absent: no recorded history
fails to replay without their old branches.
"""


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    ("patch_id", "needed_by"),
    sorted(OLD_BRANCH_NEEDED_BY.items()),
    # Named by the patch alone: a set's order changes with each process's hash seed, and
    # parallel workers must collect the same ids.
    ids=sorted(OLD_BRANCH_NEEDED_BY),
)
async def test_the_sets_named_for_a_patch_need_its_old_branch(
    patch_id: str, needed_by: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the patch's old branch (as under ``deprecate_patch``), each named set fails.

    So each named set really replays through that old branch, and the table in
    docs/deploy.md says which eras a patch still serves.
    """
    patched = workflow.patched

    def without_old_branch(patch: str) -> bool:
        if patch == patch_id:
            workflow.deprecate_patch(patch)
            return True
        return patched(patch)

    monkeypatch.setattr(workflow, "patched", without_old_branch)
    replayer = Replayer(
        workflows=[AssetLifecycleWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),  # so the replaced ``patched`` is seen
    )
    root = Path(__file__).parent / "histories"
    for name in sorted(needed_by):
        path = root / f"{name}.json"
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is not None, f"{name} replays without {patch_id}"
        assert "Nondeterminism" in str(result.replay_failure), name


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_history_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[AssetLifecycleWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
