"""The hook as a process: exit 0, silent, and quick, whatever stdin or the registry does."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from agent_registry.registry.db import make_engine
from agent_registry.registry.tables import UsageEventRow
from agent_registry.usage import spool
from agent_registry.usage.paths import UsagePaths
from tests.ports import free_port
from tests.usage.helpers import make_project, payload
from tests.usage.process import CLI, MODULE, hook_env, run_hook_process

QUICK_SECONDS = 3.0
"""Generous: a hang shows as the registry client's 10 s timeout, or the test's 60 s."""

SKILL_CALL = payload("Skill", {"skill": "pdf-report"}, tool_use_id="toolu_1").encode()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path, [("skill/pdf-report@1.2.0", "pdf-report")])


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A server that accepts connections and never answers: the worst registry."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def refused() -> str:
    """A port nothing listens on, outside the range a client's own port comes from."""
    return f"http://127.0.0.1:{free_port()}"


def paths_of(tmp_path: Path) -> UsagePaths:
    return UsagePaths(tmp_path / "data" / "usage")


@pytest.mark.parametrize(
    "stdin", [b"", b"{not json", b"\xff\xfe\x00garbage", b"[]", payload("Bash", {}).encode()]
)
def test_malformed_or_foreign_input_exits_0_silently(
    tmp_path: Path, project: Path, stdin: bytes
) -> None:
    ran = run_hook_process(MODULE, stdin, hook_env(tmp_path, project), tmp_path)
    assert (ran.code, ran.stdout, ran.stderr) == (0, b"", b"")
    assert ran.seconds < QUICK_SECONDS
    assert spool.state(paths_of(tmp_path)).events == 0


def test_the_cli_command_is_silent_and_spools(tmp_path: Path, project: Path) -> None:
    ran = run_hook_process(CLI, SKILL_CALL, hook_env(tmp_path, project), tmp_path)
    assert (ran.code, ran.stdout, ran.stderr) == (0, b"", b"")
    assert spool.state(paths_of(tmp_path)).events == 1
    bad = run_hook_process(CLI, b"{not json", hook_env(tmp_path, project), tmp_path)
    assert (bad.code, bad.stdout, bad.stderr) == (0, b"", b"")
    assert "ignored hook input" in paths_of(tmp_path).log.read_text()


@pytest.mark.parametrize("command", [MODULE, CLI], ids=["module", "cli"])
def test_a_registry_that_never_answers_costs_at_most_the_budget(
    tmp_path: Path, project: Path, blackhole: str, command: list[str]
) -> None:
    env = hook_env(tmp_path, project, AGENT_REGISTRY_USAGE_FLUSH_EVENTS="0")
    # The CLI's own start-up (its imports) is not the hook's doing; measure it apart.
    startup = run_hook_process(command, b"", env, tmp_path).seconds
    env["AGENT_REGISTRY_API_URL"] = blackhole
    ran = run_hook_process(command, SKILL_CALL, env, tmp_path)
    assert (ran.code, ran.stdout, ran.stderr) == (0, b"", b"")
    assert ran.seconds < startup + QUICK_SECONDS
    if command is MODULE:
        assert ran.seconds < QUICK_SECONDS
    assert spool.state(paths_of(tmp_path)).batches == 1  # kept for the next hook
    assert "gave up" in paths_of(tmp_path).log.read_text()


def test_a_refused_connection_keeps_the_spool(tmp_path: Path, project: Path, refused: str) -> None:
    env = hook_env(
        tmp_path, project, AGENT_REGISTRY_API_URL=refused, AGENT_REGISTRY_USAGE_FLUSH_EVENTS="0"
    )
    ran = run_hook_process(MODULE, SKILL_CALL, env, tmp_path)
    assert (ran.code, ran.stdout, ran.stderr) == (0, b"", b"")
    assert ran.seconds < QUICK_SECONDS
    assert [len(spool.read_batch(b)) for b in paths_of(tmp_path).batches()] == [1]
    assert "usage flush failed" in paths_of(tmp_path).log.read_text()


def test_a_locked_spool_is_given_up_on_quickly(tmp_path: Path, project: Path) -> None:
    paths = paths_of(tmp_path)
    paths.folder.mkdir(parents=True)
    with spool.locked(paths.lock, wait_seconds=0):
        ran = run_hook_process(MODULE, SKILL_CALL, hook_env(tmp_path, project), tmp_path)
    assert (ran.code, ran.stdout, ran.stderr) == (0, b"", b"")
    assert ran.seconds < QUICK_SECONDS
    assert spool.state(paths).events == 0
    assert "dropped a use" in paths.log.read_text()


def test_a_corrupt_spool_is_sent_around_and_cleaned(
    tmp_path: Path, project: Path, sqlite_url: str
) -> None:
    paths = paths_of(tmp_path)
    paths.folder.mkdir(parents=True)
    paths.spool.write_bytes(b"\x00\x01 not an event\n{}\n")
    env = hook_env(tmp_path, project, AGENT_REGISTRY_DATABASE_URL=sqlite_url)
    ran = run_hook_process(MODULE, SKILL_CALL, env, tmp_path)
    assert (ran.code, ran.stdout, ran.stderr) == (0, b"", b"")
    assert spool.state(paths) == spool.SpoolState(events=0, oldest_at=None, batches=0)
    assert _recorded(sqlite_url) == ["pdf-report"]


def test_batches_reach_the_database_once_each(
    tmp_path: Path, project: Path, sqlite_url: str
) -> None:
    env = hook_env(
        tmp_path,
        project,
        AGENT_REGISTRY_DATABASE_URL=sqlite_url,
        AGENT_REGISTRY_USAGE_FLUSH_EVENTS="3",
        AGENT_REGISTRY_USAGE_BUDGET_MS="10000",
    )
    calls = [
        payload("Skill", {"skill": "pdf-report"}, tool_use_id=f"toolu_{n}").encode()
        for n in (1, 2, 2, 3)  # the repeated id is one call seen by Pre and Post hooks
    ]
    for number, call in enumerate(calls[:3]):
        run_hook_process(MODULE, call, env, tmp_path)
        assert _recorded(sqlite_url) == [], f"sent after {number + 1} event(s), before the batch"
    run_hook_process(MODULE, calls[3], env, tmp_path)  # more than 3 wait: the batch goes
    assert _recorded(sqlite_url) == ["pdf-report"] * 3
    assert spool.state(paths_of(tmp_path)).events == 0


def _recorded(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(UsageEventRow.name).order_by(col(UsageEventRow.id))))
    finally:
        engine.dispose()
