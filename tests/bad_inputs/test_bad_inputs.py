"""Every bad input gives one clear error from ``validate`` and ``submit``, never a traceback.

The commands run in-process through the console script's own error boundary
(:func:`agent_registry.cli.main.run`), against a real dev server and the shipped worker,
so that ``submit`` is exercised end to end. A refused submission must leave nothing
behind: no asset, version or blob row in the registry, and no workflow.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine, text
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from agent_registry.cli import render
from agent_registry.cli.main import run
from agent_registry.cli.submit import prepare_submission
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.registry.db import make_engine, upgrade_database
from tests.bad_inputs.cases import CASES, Case, skill
from tests.registry_server import registry_server
from tests.support import STARTED, make_settings, running_worker

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROWS = ("asset", "asset_version", "blob")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        """Both streams, table borders removed and whitespace collapsed."""
        joined = self.stdout + "\n" + self.stderr
        return " ".join(re.sub(r"[│┃┏┓┗┛┡┩━─┳┻╇┯┷┠┨└┘┌┐┬┴├┤┼]", " ", joined).split())


@dataclass
class Registry:
    """The module's registry, worker and dev server."""

    env: WorkflowEnvironment
    settings: Settings
    engine: Engine
    variables: dict[str, str]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def registry(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Registry]:
    """One database and one worker for the whole table."""
    root = tmp_path_factory.mktemp("bad-inputs-registry")
    url = f"sqlite:///{root / 'registry.db'}"
    upgrade_database(url)
    settings = make_settings(root, url)
    engine = make_engine(url)
    variables = {
        "AGENT_REGISTRY_DATABASE_URL": url,
        "AGENT_REGISTRY_TASK_QUEUE": settings.task_queue,
        "AGENT_REGISTRY_DATA_DIR": str(settings.data_dir),
        "AGENT_REGISTRY_CLI_REVIEWS": "on",
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": dev_env.client.namespace,
    }
    try:
        async with (
            running_worker(dev_env.client, settings, engine),
            registry_server(settings, dev_env.client, engine) as api_url,
        ):
            variables["AGENT_REGISTRY_API_URL"] = api_url
            yield Registry(dev_env, settings, engine, variables)
    finally:
        engine.dispose()


@pytest.fixture
def cli_env(registry: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI's environment: this module's registry only, no .env, wide output."""
    for name in list(os.environ):
        if name.startswith(("AGENT_REGISTRY_", "TEMPORAL_")):
            monkeypatch.delenv(name)
    for name, value in registry.variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(render.out, "_width", 400)
    monkeypatch.setattr(render.err, "_width", 400)


async def agentreg(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> Run:
    """Run ``agentreg ARGS`` through the console script's error boundary.

    In a thread, so that the worker keeps running on this event loop. An unexpected
    exception is not caught by the boundary and fails the test with its traceback.
    """
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["agentreg", *args])
    code = await asyncio.to_thread(run)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            for table in ROWS
        }


async def workflows_named(registry: Registry, query: str) -> list[str]:
    client = registry.env.client
    return [execution.id async for execution in client.list_workflows(query)]


def assert_one_clear_error(run: Run, case: Case, *, command: str) -> None:
    where = f"{command} {case.id}:\n{run.stdout}\n{run.stderr}"
    assert "Traceback" not in run.stdout + run.stderr, where
    for fragment in case.expect:
        assert fragment in run.text, f"{fragment!r} missing from {where}"
    if run.stderr:
        # A refusal: "error: <what>" then one indented line per problem.
        assert run.stderr.startswith("error:"), where
        problems = [line for line in run.stderr.splitlines()[1:] if line.startswith("  ")]
        assert 1 <= len(problems) <= case.problems, where
    else:
        # Findings: exactly one blocking row.
        blocking = run.stdout.count("│ block ")
        assert 1 <= blocking <= case.problems, where
        assert f"blocked: {blocking} blocking" in run.stdout, where


def _skip_unless_possible(case: Case) -> None:
    if case.root_only and os.geteuid() != 0:
        pytest.skip("creating a device node needs root")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_validate_gives_one_clear_error(
    case: Case,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _skip_unless_possible(case)
    (tmp_path / "in").mkdir()
    path = case.build(tmp_path / "in")
    run = await agentreg(capsys, monkeypatch, "validate", "--no-probe", str(path))
    if case.validate_blocks:
        assert run.code == 1, run.stdout + run.stderr
        assert_one_clear_error(run, case, command="validate")
    else:
        # Registry metadata is not the asset's content: validate lists it for submit.
        assert run.code == 0 and "submit will need" in run.stdout, run.stdout + run.stderr
        for fragment in case.expect:
            assert fragment in run.text, run.stdout


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_submit_refuses_and_leaves_nothing_behind(
    case: Case,
    registry: Registry,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _skip_unless_possible(case)
    (tmp_path / "in").mkdir()
    path = case.build(tmp_path / "in")
    if case.bug is not None and _accepted_locally(registry, path, case):
        pytest.xfail(case.bug)
    if case.at_eval:
        await _refused_by_the_eval(case, path, registry, capsys, monkeypatch)
        return
    before = row_counts(registry.engine)
    running_before = await workflows_named(
        registry, f"TaskQueue = '{registry.settings.task_queue}'"
    )
    run = await agentreg(capsys, monkeypatch, "submit", str(path), "--as", "alice", *case.flags)
    assert run.code == 1, run.stdout + run.stderr
    assert run.stdout == "", run.stdout  # nothing was "submitted as workflow …"
    assert_one_clear_error(run, case, command="submit")
    assert row_counts(registry.engine) == before
    assert not list((registry.settings.data_dir).rglob("*.tar")), "a blob file was written"
    # Nothing was started: the ids a valid version would have are unknown to the server.
    for version in ("1.0.0", "1.x", "^1.2", ">=1", "latest"):
        for kind_and_name in (
            "skill/pdf-brief",
            "subagent/doc-checker",
            "mcp-server/io.github.acme/clock",
        ):
            handle = registry.env.client.get_workflow_handle(f"asset/{kind_and_name}/{version}")
            with pytest.raises(RPCError) as missing:
                await handle.describe()
            assert missing.value.status is RPCStatusCode.NOT_FOUND
    after = await workflows_named(registry, f"TaskQueue = '{registry.settings.task_queue}'")
    assert after == running_before


async def _refused_by_the_eval(
    case: Case,
    path: Path,
    registry: Registry,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A valid manifest with a problem elsewhere: the worker's eval refuses it.

    The version is recorded as EvalFailed and its lifecycle waits for ``agentreg revise``
    (by design: the submitter fixes the files and revises the same version).
    """
    before = row_counts(registry.engine)
    run = await agentreg(capsys, monkeypatch, "submit", str(path), "--as", "alice", *case.flags)
    where = f"submit {case.id}:\n{run.stdout}\n{run.stderr}"
    started = re.search(r"as workflow (\S+)", run.stdout)
    assert started is not None, where
    handle = registry.env.client.get_workflow_handle(started.group(1), result_type=AssetStatus)
    STARTED.append(handle)
    assert run.code == 1, where
    assert "Traceback" not in run.stdout + run.stderr, where
    assert "failed the eval bar; fix it and send `agentreg revise PATH`" in run.stderr, where
    assert "EvalFailed" in run.stdout, where
    for fragment in case.expect:
        assert fragment in run.text, f"{fragment!r} missing from {where}"
    # The live probe and the scope check add what follows from the problem (tools the
    # server exposes that an unreadable scope.yaml cannot declare), so no upper bound.
    assert run.stdout.count("│ block ") >= 1, where
    after = row_counts(registry.engine)
    assert after["asset_version"] == before["asset_version"] + 1
    # The registry row follows the lifecycle through an activity: give it a moment.
    for _ in range(100):
        with registry.engine.connect() as connection:
            stage = connection.execute(
                text("SELECT stage FROM asset_version WHERE workflow_id = :id"), {"id": handle.id}
            ).scalar_one()
        if stage == "EvalFailed":
            break
        await asyncio.sleep(0.1)
    assert stage == "EvalFailed"


def _accepted_locally(registry: Registry, path: Path, case: Case) -> bool:
    """Whether the local checks let a known-bug case through (so it would be started)."""
    try:
        prepare_submission(registry.settings, path, submitter="alice", team="qa", version="1.0.0")
    except Exception:  # any refusal means the bug is gone
        return False
    return True


async def test_a_version_is_submitted_once_even_with_other_content(
    registry: Registry,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    name = f"dup-{uuid.uuid4().hex[:8]}"
    path = skill(tmp_path, name)
    first = await agentreg(
        capsys,
        monkeypatch,
        "submit",
        str(path),
        "--as",
        "alice",
        "--team",
        "qa",
        "--version",
        "3.1.0",
    )
    assert first.code == 0, first.stdout + first.stderr
    handle = registry.env.client.get_workflow_handle(
        f"asset/skill/{name}/3.1.0", result_type=AssetStatus
    )
    STARTED.append(handle)
    stored = _versions(registry.engine, name)
    assert len(stored) == 1
    before = row_counts(registry.engine)

    (path / "SKILL.md").write_text((path / "SKILL.md").read_text() + "\nMore steps.\n")
    (path / "extra.md").write_text("another file\n")
    second = await agentreg(
        capsys,
        monkeypatch,
        "submit",
        str(path),
        "--as",
        "alice",
        "--team",
        "qa",
        "--version",
        "3.1.0",
    )
    assert second.code == 1
    assert "Traceback" not in second.stdout + second.stderr
    assert second.stderr.startswith("error:")
    assert f"asset/skill/{name}/3.1.0 was already submitted" in second.text
    assert "Bump the version" in second.text
    assert row_counts(registry.engine) == before
    assert _versions(registry.engine, name) == stored
    running = await workflows_named(registry, f"AssetName = '{name}'")
    assert running == [handle.id]
    description = await handle.describe()
    assert description.status is WorkflowExecutionStatus.RUNNING
    assert description.run_id == (await handle.describe()).run_id


def _versions(engine: Engine, name: str) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT v.version, v.content_hash FROM asset_version v "
                "JOIN asset a ON a.id = v.asset_id WHERE a.name = :name"
            ),
            {"name": name},
        )
        return [(str(version), str(content_hash)) for version, content_hash in rows]


async def test_a_utf8_bom_and_windows_line_endings_are_tolerated(
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Editors add both; only a BOM of another encoding (UTF-16) is refused, above."""
    text = (
        "\ufeff---\r\nname: pdf-brief\r\ndescription: Summarises a PDF into a one-page brief. "
        "Use when the user shares a PDF and asks what it says.\r\n---\r\n\r\n# PDF\r\n"
    )
    path = skill(tmp_path, manifest=text.encode())
    run = await agentreg(capsys, monkeypatch, "validate", "--no-probe", str(path))
    assert run.code == 0, run.stdout + run.stderr
    assert "ok:" in run.stdout
