"""The ``agentreg`` console script as a user runs it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from tests.mcp_probe.support import needs_sandbox
from tests.registry_server import registry_server
from tests.support import EXAMPLES, copy_example, make_settings, running_worker

AGENTREG = str(Path(sys.executable).parent / "agentreg")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AGENT_REGISTRY_", "TEMPORAL_"))
    }
    env.update(COLUMNS="200", NO_COLOR="1", **extra)
    return env


def agentreg(*args: str, cwd: Path | None = None, **env: str) -> Run:
    done = subprocess.run(
        [AGENTREG, *args], capture_output=True, text=True, env=_env(**env), cwd=cwd, timeout=120
    )
    return Run(done.returncode, done.stdout, done.stderr)


async def agentreg_async(*args: str, **env: str) -> Run:
    """Run the CLI without blocking the event loop the in-process worker runs on."""
    process = await asyncio.create_subprocess_exec(
        AGENTREG,
        *args,
        env=_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


@pytest.mark.parametrize(
    "example",
    [
        "skills/release-notes",
        "subagents/code-reviewer.md",
        pytest.param("mcp-servers/time", marks=needs_sandbox),
    ],
)
def test_validate_passes_the_good_examples(example: str) -> None:
    run = agentreg("validate", str(EXAMPLES / example))
    assert run.code == 0, run.stdout + run.stderr
    assert "ok:" in run.stdout
    assert "submit will need" not in run.stdout


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("failing/leaky-deploy-helper", "secrets."),
        ("failing/unbounded-fixer.md", "scope.bypass-permissions"),
        ("failing/tickets-admin", "delete_ticket"),
    ],
)
def test_validate_blocks_the_failing_examples_and_says_why(example: str, expected: str) -> None:
    run = agentreg("validate", str(EXAMPLES / example))
    assert run.code == 1
    assert expected in run.stdout
    assert "blocked:" in run.stdout
    assert "AKIAZ7Q3P4LMN2X5RT8W" not in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_validate_a_plain_public_skill_lists_what_submit_needs(tmp_path: Path) -> None:
    skill = tmp_path / "pdf-summary"
    skill.mkdir()
    (skill / "SKILL.md").write_text(
        "---\nname: pdf-summary\ndescription: Summarises a PDF into a one-page brief. "
        "Use when the user shares a PDF and asks what it says.\n---\n\n# PDF summary\n\n"
        "Read the PDF, then write the brief.\n"
    )
    run = agentreg("validate", str(skill))
    assert run.code == 0, run.stdout
    assert "submit will need" in run.stdout
    assert "--team" in run.stdout and "--version" in run.stdout


def test_validate_reports_bad_input_with_file_line_and_field(tmp_path: Path) -> None:
    skill = tmp_path / "Bad_Name"
    skill.mkdir()
    (skill / "SKILL.md").write_text("---\nname: Bad_Name\ndescription: x\n---\nbody\n")
    run = agentreg("validate", str(skill))
    assert run.code == 1
    assert "SKILL.md:2" in run.stdout
    assert "name" in run.stdout
    missing = agentreg("validate", str(tmp_path / "nope"))
    assert missing.code == 1
    assert "nope" in missing.stderr and "Traceback" not in missing.stderr


def test_server_errors_are_one_plain_line(tmp_path: Path) -> None:
    run = agentreg(
        "review",
        "approve",
        "skill/release-notes@1.0.0",
        "--as",
        "bob",
        TEMPORAL_ADDRESS="127.0.0.1:1",
    )
    assert run.code == 1
    assert run.stderr.startswith("error:") and "Traceback" not in run.stderr
    bad_ref = agentreg("status", "skill/release-notes@latest")
    assert bad_ref.code == 1 and "semantic version" in bad_ref.stderr


@pytest.mark.asyncio(loop_scope="session")
async def test_submit_approve_show_through_the_console_script(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    env = {
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "AGENT_REGISTRY_DATABASE_URL": sqlite_url,
        "AGENT_REGISTRY_TASK_QUEUE": settings.task_queue,
        "AGENT_REGISTRY_DATA_DIR": str(settings.data_dir),
    }
    skill = copy_example("skills/release-notes", tmp_path)
    ref = "skill/release-notes@1.0.0"
    async with (
        running_worker(dev_env.client, settings, sqlite_engine),
        registry_server(settings, dev_env.client, sqlite_engine) as url,
    ):
        env["AGENT_REGISTRY_API_URL"] = url
        submitted = await agentreg_async("submit", str(skill), "--as", "alice", **env)
        assert submitted.code == 0, submitted.stdout + submitted.stderr
        assert "asset/skill/release-notes/1.0.0" in submitted.stdout
        assert "as alice@localhost (identity unverified" in submitted.stdout
        assert (
            "/namespaces/default/workflows/asset%2Fskill%2Frelease-notes%2F1.0.0"
            in submitted.stdout
        )
        assert "InReview" in submitted.stdout

        again = await agentreg_async("submit", str(skill), "--as", "alice", **env)
        assert again.code == 1 and "already submitted" in again.stderr
        assert "Traceback" not in again.stderr

        own = await agentreg_async("review", "approve", ref, "--as", "alice", **env)
        assert own.code == 1 and own.stderr.startswith("error: refused:")
        assert "cannot review it" in own.stderr
        respelled = await agentreg_async("review", "approve", ref, "--as", "ALICE", **env)
        assert respelled.code == 1 and "cannot review it" in respelled.stderr

        approved = await agentreg_async("review", "approve", ref, "--as", "bob", **env)
        assert approved.code == 0, approved.stderr
        status = await agentreg_async("status", ref, **env)
        for _ in range(50):
            if "Published" in status.stdout:
                break
            await asyncio.sleep(0.2)
            status = await agentreg_async("status", ref, **env)
        assert "Published" in status.stdout

        late = await agentreg_async("review", "approve", ref, "--as", "carol", **env)
        assert late.code == 1 and "review is over" in late.stderr
        unknown = await agentreg_async(
            "review", "approve", "skill/nothing-here@1.0.0", "--as", "bob", **env
        )
        assert unknown.code == 1 and "never submitted" in unknown.stderr

    del env["AGENT_REGISTRY_API_URL"]
    shown = await agentreg_async("show", ref, **env)
    assert shown.code == 0, shown.stderr
    assert "Published" in shown.stdout and "content hash" in shown.stdout
    listed = await agentreg_async("list", "--stage", "Published", **env)
    assert "skill/release-notes" in listed.stdout
