"""Helpers for the fault tests: real worker and server processes, a TCP proxy, checks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from sqlmodel import select as select_rows
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import WorkflowHandle

from agent_registry.assets.refs import AssetRef
from agent_registry.config import Settings
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry.audit_chain import verify_database
from agent_registry.registry.tables import AssetVersion
from agent_registry.temporal import dev_server_flags, search_attribute_flags
from tests.conftest import BIN
from tests.ports import free_port
from tests.slack_double import SlackUser
from tests.support import count_published_events

REVIEWS = "agent-registry-reviews"
ALICE = SlackUser("U0ALICE", "alice", "alice@example.com", "Alice Submitter")


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def worker_env(settings: Settings, address: str, extra: Mapping[str, str] = ()) -> dict[str, str]:
    """The environment ``agentreg-worker`` reads its settings from."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AGENT_REGISTRY_", "TEMPORAL_"))
    }
    env.update(
        {
            "TEMPORAL_ADDRESS": address,
            "AGENT_REGISTRY_DATABASE_URL": settings.resolved_database_url,
            "AGENT_REGISTRY_TASK_QUEUE": settings.task_queue,
            "AGENT_REGISTRY_DATA_DIR": str(settings.data_dir),
            "AGENT_REGISTRY_CLI_REVIEWS": "on",
        }
    )
    if settings.policy is not None:
        env["AGENT_REGISTRY_POLICY"] = str(settings.policy)
    env.update(dict(extra))
    return env


class WorkerProcess:
    """``agentreg-worker`` as a real child process that a test can kill and restart."""

    def __init__(self, env: Mapping[str, str], log_dir: Path, *, args: Sequence[str] = ()) -> None:
        self._env = dict(env)
        self._log_dir = log_dir
        self._args = list(args)
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        name = "probe-worker" if "--probe" in self._args else "worker"
        return self._log_dir / f"{name}-{self.starts}.log"

    async def start(self, *, timeout: float = 30.0) -> None:
        self.starts += 1
        log = self.log
        with log.open("wb") as out:
            self._process = subprocess.Popen(  # noqa: ASYNC220 (a child the test controls)
                [str(BIN / "agentreg-worker"), *self._args],
                env=self._env,
                cwd=self._log_dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while b"worker polling" not in log.read_bytes():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{log.read_text()}")
            await asyncio.sleep(0.05)

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has ended; None while it runs."""
        return None if self._process is None else self._process.poll()

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight activities are simply lost."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)


class DevServer:
    """A Temporal dev server of the test's own, persisting to a SQLite file."""

    def __init__(self, db_file: Path, log: Path) -> None:
        self.port = free_port()
        self._db_file = db_file
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, *, timeout: float = 30.0) -> None:
        with self._log.open("ab") as out:
            self._process = subprocess.Popen(  # noqa: ASYNC220 (a child the test controls)
                [
                    str(BIN / "temporal"),
                    "server",
                    "start-dev",
                    "--db-filename",
                    str(self._db_file),
                    "--ip",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    # Ports of our choosing: left to it, the CLI binds port 0 and lets go
                    # (its history and matching services still do; no flag sets those).
                    "--http-port",
                    str(free_port()),
                    "--metrics-port",
                    str(free_port()),
                    "--headless",
                    "--log-level",
                    "error",
                    *search_attribute_flags(),
                    *dev_server_flags(),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not _port_open(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dev server did not start:\n{self._log.read_text()}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, as an operator or a host shutdown would."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)


class TcpProxy:
    """Forwards a loopback port to a target; ``close`` cuts every connection, ``open`` heals."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def close(self) -> None:
        """Refuse new connections and drop the open ones (the database is unreachable)."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, up_writer})

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    sink.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)


def assert_published_exactly_once(engine: Engine, ref: AssetRef, workflow_id: str) -> None:
    """One version row, published; one ``published`` audit event; the audit chain intact."""
    with Session(engine) as session:
        rows = session.exec(
            select_rows(AssetVersion).where(
                AssetVersion.workflow_id == workflow_id, AssetVersion.version == ref.version
            )
        ).all()
        assert len(rows) == 1, rows
        assert rows[0].stage == Stage.PUBLISHED.value
        verification = verify_database(session)
        assert verification.intact, verification.broken
        assert verification.count >= 1
    assert count_published_events(engine, ref) == 1


async def evaluation_running(
    handle: WorkflowHandle[Any, Any], *, timeout: float = 60, activity: str = "evaluate_version"
) -> None:
    """Wait until the lifecycle's evaluation (or another) activity was picked up by a worker."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        description = await handle.describe()
        for pending in description.raw_description.pending_activities:
            started = pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            if pending.activity_type.name == activity and started:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the evaluation never started")


async def evaluation_attempts(
    handle: WorkflowHandle[Any, Any], *, activity: str = "evaluate_version"
) -> tuple[list[int], int]:
    """The attempts at which the (first) evaluation (or ``activity``) started, and how
    often it completed."""
    attempts: list[int] = []
    completed = 0
    evaluation = -1
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == activity and evaluation < 0:
                evaluation = event.event_id
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            if started.scheduled_event_id == evaluation:
                attempts.append(started.attempt)
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            completed += done.scheduled_event_id == evaluation
    return attempts, completed


async def eventually(check: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """Wait until ``check()`` holds; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.1)
