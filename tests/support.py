"""Helpers the lifecycle tests share: the shipped worker, submissions, waiting, voting."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import SleepRequest, UnlockTimeSkippingRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from agent_registry.assets.refs import AssetRef
from agent_registry.cli.submit import prepare_revision, prepare_submission
from agent_registry.config import Settings
from agent_registry.identity.http import local_email
from agent_registry.lifecycle.client import LifecycleHandle, query_status
from agent_registry.lifecycle.contract import (
    DECISION_UPDATES,
    REVISE_UPDATE,
    STATUS_QUERY,
    AssetStatus,
    ReviewInput,
    VoteResult,
)
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.registry.tables import AuditEvent
from agent_registry.staging import staged_revision, start_lifecycle
from agent_registry.vocabulary.principal import Principal, VerifiedBy
from worker import build_probe_worker, build_worker

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
POLICIES = Path(__file__).resolve().parent / "policies"

Handle = LifecycleHandle

STARTED: list[Handle] = []
"""Lifecycles started by the running test; tests/conftest.py ends them afterwards."""


def make_settings(tmp_path: Path, db_url: str, *, policy: Path | None = None) -> Settings:
    """Settings for one test: its own task queue, database and data folder; no .env.

    CLI reviews are on whatever else is configured: most tests vote with the CLI, also
    those that give the worker a Slack token to exercise the Slack side.
    """
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        database_url=db_url,
        task_queue=f"test-{uuid.uuid4()}",
        policy=policy,
        cli_reviews="on",
    )


@asynccontextmanager
async def running_worker(
    client: Client, settings: Settings, engine: Engine, *, probe: bool = True
) -> AsyncIterator[None]:
    """Run the workers the product ships (lifecycle and probe) for the duration of the block.

    ``probe=False`` runs the lifecycle worker alone, for a second build beside one whose
    probe worker already serves the queue: one client may not poll the same unversioned
    queue with two workers (the SDK refuses to create the second).
    """
    with build_worker(client, settings, engine=engine) as worker:
        if not probe:
            async with worker:
                yield
            return
        with build_probe_worker(client, settings) as probe_worker:
            async with worker, probe_worker:
                yield


def copy_example(relative: str, tmp_path: Path) -> Path:
    """A private copy of an example, so a test may edit it."""
    source = EXAMPLES / relative
    target = tmp_path / "work" / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        sidecar = source.with_name(f"{source.stem}.agentreg.yaml")
        if sidecar.exists():
            shutil.copy2(sidecar, target.with_name(sidecar.name))
    return target


async def submit_path(
    client: Client,
    settings: Settings,
    path: Path,
    *,
    submitter: str = "alice@example.com",
    team: str | None = None,
    version: str | None = None,
) -> Handle:
    """Submit exactly as ``agentreg submit`` does.

    Tests share one dev server, and a version is submitted once; so unless a test names
    a version, each submission gets a pre-release version of its own.
    """
    submission = prepare_submission(
        settings,
        path,
        submitter=submitter,
        team=team,
        version=version or f"1.0.0-t{uuid.uuid4().hex[:10]}",
    )
    handle = await start_lifecycle(client, settings, submission=submission)
    STARTED.append(handle)
    return handle


async def wait_for_stage(
    handle: Handle,
    stage: Stage,
    *,
    until: Callable[[AssetStatus], bool] = lambda _: True,
    timeout: float = 30.0,
) -> AssetStatus:
    """Poll the status query until the lifecycle reaches ``stage`` (and ``until`` holds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    status = await _patient_status(handle, deadline)
    while status.stage is not stage or not until(status):
        if asyncio.get_running_loop().time() > deadline:
            # The last stage change's note says why (what blocked an eval, say).
            why = (
                f" ({status.history[-1].note})"
                if status.history and status.history[-1].note
                else ""
            )
            raise AssertionError(
                f"{handle.id} stayed {status.stage.value}{why}, expected {stage.value}"
            )
        await asyncio.sleep(0.1)
        status = await _patient_status(handle, deadline)
    return status


async def _patient_status(handle: Handle, deadline: float) -> AssetStatus:
    """The status query, asked again when one query goes unanswered.

    The time-skipping test server can drop a query that arrives while a continued-as-new
    run has not finished its first workflow task (more likely on a loaded machine); the
    query then waits out its whole deadline. A short deadline per query, retried, keeps
    the poll honest without waiting on a query the server will never answer.
    """
    while True:
        try:
            status: AssetStatus = await handle.query(
                STATUS_QUERY, result_type=AssetStatus, rpc_timeout=timedelta(seconds=5)
            )
            return status
        except RPCError as error:
            # The server's deadline, or ours (the client reports its own as cancelled).
            unanswered = error.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)
            if not unanswered or asyncio.get_running_loop().time() > deadline:
                raise


async def vote(
    handle: Handle,
    decision: Decision,
    reviewer: str,
    *,
    reason: str | None = None,
    verified_groups: list[str] | None = None,
) -> VoteResult:
    """Cast a vote as the registry server does (a fresh update id per call).

    The reviewer is named as local mode names a caller (a bare name is
    ``name@localhost``); with ``verified_groups`` the principal is one Slack verified.
    """
    return await handle.execute_update(
        DECISION_UPDATES[decision],
        ReviewInput(principal=principal(reviewer, groups=verified_groups), reason=reason),
        id=f"test/{uuid.uuid4()}",
        result_type=VoteResult,
    )


def latest_run(client: Client, handle: Handle) -> LifecycleHandle:
    """The handle of the newest run: a published lifecycle continues as new every cycle."""
    return client.get_workflow_handle(handle.id, result_type=AssetStatus)


async def approve_until_published(
    client: Client, handle: Handle, *, reviewer: str = "rita@example.com"
) -> LifecycleHandle:
    """Approve a submission once it is in review; return its run once it is published."""
    await wait_for_stage(handle, Stage.IN_REVIEW)
    await vote(handle, Decision.APPROVE, reviewer)
    await wait_for_stage(
        latest_run(client, handle), Stage.PUBLISHED, until=lambda s: s.recertify_by is not None
    )
    return latest_run(client, handle)


def principal(who: str, *, groups: list[str] | None = None) -> Principal:
    """The principal the server resolves for ``who``: Slack-verified when given groups,
    else a local-mode caller (a bare name is ``name@localhost``)."""
    return Principal(
        email=local_email(who),
        display_name=who,
        groups=list(groups or []),
        verified_by=VerifiedBy.SLACK if groups else VerifiedBy.LOCAL_UNVERIFIED,
    )


async def revise_path(
    handle: Handle,
    settings: Settings,
    path: Path,
    *,
    author: str = "alice@example.com",
    changelog: str | None = None,
) -> VoteResult:
    """Send a revision exactly as the registry server does for ``agentreg revise``."""
    status = await query_status(handle)
    revision = staged_revision(
        settings,
        prepare_revision(settings, status.ref, path, changelog=changelog).model_copy(
            update={"principal": principal(author)}
        ),
    )
    result: VoteResult = await handle.execute_update(
        REVISE_UPDATE, revision, result_type=VoteResult
    )
    return result


async def end_started_lifecycles() -> None:
    """Terminate what the test left running.

    A published lifecycle lives on (re-certification timers); left running on a server
    shared by later tests, its activities would wait on a task queue nobody polls, and
    the time-skipping server does not skip time past pending activities.
    """
    while STARTED:
        handle = STARTED.pop()
        latest = handle._client.get_workflow_handle(handle.id)
        with contextlib.suppress(RPCError):  # already ended
            await latest.terminate(reason="test finished")


async def wait_for_listener(port: int, process: asyncio.subprocess.Process) -> None:
    """Wait until a server process listens on ``port``; fail if it exits first."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise AssertionError(f"agentreg serve exited early ({process.returncode})")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"agentreg serve did not listen on :{port}")


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Let the time-skipping server's clock run ``duration`` ahead, however loaded the machine.

    The server skips time only while its lock count is zero. It leaks one lock when a
    worker completes a workflow task of a run that has meanwhile completed (the worker
    logs "Task not found when completing"; a continue-as-new racing a query makes it more
    likely on a loaded machine), and the clock then never moves again. A sleep that has
    not ended after a while real time gives back that one lock; where none leaked, the
    server refuses the extra unlock as unbalanced and nothing changes.
    """
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    sleeping = asyncio.ensure_future(
        env.client.test_service.unlock_time_skipping_with_sleep(
            request, timeout=timedelta(minutes=2)
        )
    )
    done, _ = await asyncio.wait({sleeping}, timeout=15)
    if not done:
        with contextlib.suppress(RPCError):
            await env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
    await sleeping


def count_published_events(engine: Engine, ref: AssetRef) -> int:
    """How many ``published`` audit events the registry holds for ``ref`` (one, when right)."""
    with Session(engine) as session:
        count: int = session.exec(  # type: ignore[call-overload]
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.kind == ref.kind.value,
                AuditEvent.name == ref.name,
                AuditEvent.version == ref.version,
                AuditEvent.action == "published",
            )
        ).one()[0]
    return count


async def scheduled_activities(handle: WorkflowHandle[object, object]) -> list[tuple[str, str]]:
    """(activity, task queue) of every activity a lifecycle scheduled, in order.

    What the tests of the probe-worker steps read to check which queue ran what, and
    in which order against the eval bar.
    """
    found = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            found.append((attributes.activity_type.name, attributes.task_queue.name))
    return found
