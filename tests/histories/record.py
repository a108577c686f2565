"""Record lifecycle histories at every stage, as JSON fixtures for the replay test.

Run from a checkout of the workflow code to capture (a released one, before a change to
the lifecycle workflow):

    .venv/bin/python -m tests.histories.record tests/histories/<label> [SCENARIO ...]

It starts a dev server from the venv's binaries, runs each scenario with the shipped
worker against a temporary SQLite registry, and writes one ``<scenario>.json`` per
lifecycle, complete or stopped where the scenario leaves it waiting.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from agent_registry.cli.submit import prepare_submission
from agent_registry.config import Settings
from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.contract import (
    APPROVE_UPDATE,
    ATTEST_UPDATE,
    DEPRECATE_UPDATE,
    REQUEST_CHANGES_UPDATE,
    AttestInput,
    DeprecateInput,
    ReviewInput,
    VoteResult,
)
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry.db import make_engine, upgrade_database
from agent_registry.staging import start_lifecycle
from agent_registry.temporal import ALL_SEARCH_ATTRIBUTES
from agent_registry.vocabulary.principal import Principal, VerifiedBy
from tests.real_client.behaviour_cases import skill_with_cases
from tests.support import EXAMPLES, revise_path, running_worker
from tests.time_skipping import time_skipping_env

BIN_DIR = Path(sys.executable).parent

Handle = WorkflowHandle[object, object]


async def _stage(handle: Handle, stage: Stage) -> None:
    latest = handle._client.get_workflow_handle(handle.id)  # follows continue-as-new
    for _ in range(600):
        if (await query_status(latest)).stage is stage:  # type: ignore[arg-type]
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{handle.id} never reached {stage.value}")


def _person(email: str) -> Principal:
    return Principal(email=email, verified_by=VerifiedBy.LOCAL_UNVERIFIED)


async def _vote(handle: Handle, update: str, reason: str | None = None) -> None:
    await handle.execute_update(
        update,
        ReviewInput(principal=_person("rita@example.com"), reason=reason),
        id=str(uuid.uuid4()),
        result_type=VoteResult,
    )


async def published(handle: Handle, settings: Settings) -> None:
    await _stage(handle, Stage.IN_REVIEW)
    await _vote(handle, APPROVE_UPDATE)
    await _stage(handle, Stage.PUBLISHED)


async def recertified(handle: Handle, settings: Settings) -> None:
    await published(handle, settings)
    await _stage(handle, Stage.RECERTIFYING)
    await handle.execute_update(
        ATTEST_UPDATE, AttestInput(principal=_person("bob@example.com")), result_type=VoteResult
    )
    await _stage(handle, Stage.PUBLISHED)  # the first run has continued as new by now


async def lapsed_and_retired(handle: Handle, settings: Settings) -> None:
    await published(handle, settings)
    await handle.result()


async def deprecated(handle: Handle, settings: Settings) -> None:
    await published(handle, settings)
    await handle.execute_update(
        DEPRECATE_UPDATE,
        DeprecateInput(
            principal=_person("bob@example.com"), reason="replaced", replacement="subagent/x@2.0.0"
        ),
        result_type=VoteResult,
    )
    await _stage(handle, Stage.DEPRECATED)


async def in_review(handle: Handle, settings: Settings) -> None:
    await _stage(handle, Stage.IN_REVIEW)


async def revised_then_published(handle: Handle, settings: Settings) -> None:
    await _stage(handle, Stage.IN_REVIEW)
    await _vote(handle, REQUEST_CHANGES_UPDATE, reason="add an example")
    await _stage(handle, Stage.CHANGES_REQUESTED)
    await revise_path(handle, settings, EXAMPLES / "subagents/code-reviewer.md")  # type: ignore[arg-type]
    await _stage(handle, Stage.IN_REVIEW)
    await _vote(handle, APPROVE_UPDATE)
    await _stage(handle, Stage.PUBLISHED)


async def eval_failed(handle: Handle, settings: Settings) -> None:
    await _stage(handle, Stage.EVAL_FAILED)


REVISIONS_PAST_THE_BOUND = 6
"""One more than the workflow's ``MAX_REVISIONS_PER_RUN``: the review continues as new once."""


async def revised_past_the_bound(handle: Handle, settings: Settings) -> None:
    """Changes requested six times: the fifth revision moves the review to a second run."""
    for round_ in range(REVISIONS_PAST_THE_BOUND):
        await _stage(handle, Stage.IN_REVIEW)
        await _vote(handle, REQUEST_CHANGES_UPDATE, reason=f"add an example ({round_ + 1})")
        await _stage(handle, Stage.CHANGES_REQUESTED)
        await revise_path(handle, settings, EXAMPLES / "subagents/code-reviewer.md")  # type: ignore[arg-type]
    await _stage(handle, Stage.IN_REVIEW)
    await _vote(handle, APPROVE_UPDATE)
    await _stage(handle, Stage.PUBLISHED)


Example = str | Callable[[Path], Path]
"""A folder under examples/, or a function that builds the asset under a scratch folder."""

SCENARIOS: dict[str, tuple[Example, Callable[[Handle, Settings], Awaitable[None]]]] = {
    "published": ("subagents/code-reviewer.md", published),
    "in_review": ("subagents/code-reviewer.md", in_review),
    "revised_then_published": ("subagents/code-reviewer.md", revised_then_published),
    "eval_failed": ("failing/leaky-deploy-helper", eval_failed),
    "recertified": ("subagents/code-reviewer.md", recertified),
    "lapsed_and_retired": ("subagents/code-reviewer.md", lapsed_and_retired),
    "deprecated": ("subagents/code-reviewer.md", deprecated),
    "revised_past_the_bound": ("subagents/code-reviewer.md", revised_past_the_bound),
    "mcp_probed": ("mcp-servers/time", in_review),
    # Eval cases, no model credential: the behavioural step runs and records evals.not-run.
    "behaviour_evals": (skill_with_cases, in_review),
}


async def secret_purged(handle: Handle, settings: Settings) -> None:
    """The revision window lapses on a bundle blocked for a secret: the lifecycle purges it."""
    await _stage(handle, Stage.EVAL_FAILED)
    await handle.result()


TIME_SKIPPED: dict[str, tuple[Example, Callable[[Handle, Settings], Awaitable[None]]]] = {
    "secret_purged": ("failing/leaky-deploy-helper", secret_purged),
}
"""Scenarios that wait out a window of days, recorded on the time-skipping test server."""

POLICY = Path(__file__).resolve().parents[2] / "examples" / "policies" / "seconds.toml"
"""Seconds instead of days, so a published life fits in a recording."""


async def record(target: Path, only: list[str] | None = None) -> None:
    """Run every scenario (or those in ``only``) and write ``target/<scenario>.json``."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN_DIR / "temporal"),
        search_attributes=ALL_SEARCH_ATTRIBUTES,
        data_converter=pydantic_data_converter,
    )
    async with env:
        await _record_on(env.client, target, SCENARIOS, only)


async def record_time_skipped(target: Path, only: list[str] | None = None) -> None:
    """Run the :data:`TIME_SKIPPED` scenarios (or those in ``only``) into ``target``."""
    async with time_skipping_env() as env:
        await _record_on(env.client, target, TIME_SKIPPED, only)


async def _record_on(
    client: Client,
    target: Path,
    scenarios: dict[str, tuple[Example, Callable[[Handle, Settings], Awaitable[None]]]],
    only: list[str] | None,
) -> None:
    """Run ``scenarios`` (or those in ``only``) on one worker and a scratch registry."""
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/registry.db"
        upgrade_database(url)
        engine = make_engine(url)
        settings = Settings(_env_file=None, database_url=url, task_queue="record", policy=POLICY)  # type: ignore[call-arg]
        async with running_worker(client, settings, engine):
            for name, (example, scenario) in scenarios.items():
                if only and name not in only:
                    continue
                folder = example(Path(scratch) / name) if callable(example) else EXAMPLES / example
                await _run(client, settings, target / f"{name}.json", folder, scenario)
        engine.dispose()


async def _run(
    client: Client,
    settings: Settings,
    path: Path,
    folder: Path,
    scenario: Callable[[Handle, Settings], Awaitable[None]],
) -> None:
    submission = prepare_submission(
        settings,
        folder,
        submitter="alice@example.com",
        version=f"1.0.0-r{uuid.uuid4().hex[:8]}",
    )
    handle = await start_lifecycle(client, settings, submission=submission)
    await scenario(handle, settings)  # type: ignore[arg-type]
    runs = await _runs(client, handle)
    for number, history in enumerate(runs, start=1):
        path.with_name(f"{path.stem}{_run_suffix(number, len(runs))}.json").write_text(
            history.to_json()
        )


def _run_suffix(number: int, runs: int) -> str:
    """The file name suffix of run ``number``: the latest run takes the scenario's name."""
    if number == runs:
        return ""
    return "-first-run" if number == 1 else f"-run-{number}"


async def _runs(client: Client, handle: Handle) -> list[WorkflowHistory]:
    """Every run of the lifecycle so far, first to latest, following its continue-as-new.

    Each run is a history of its own, and a run that ended in continue-as-new is what
    a worker replays when it picks up one of those runs, so each one is kept.
    """
    run_id = handle.first_execution_run_id or handle.result_run_id
    histories: list[WorkflowHistory] = []
    while run_id:
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
    return histories


async def _main(target: Path, only: list[str]) -> None:
    if not only or set(only) - set(TIME_SKIPPED):
        await record(target, only)
    if not only or set(only) & set(TIME_SKIPPED):
        await record_time_skipped(target, only)


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1]), sys.argv[2:]))
