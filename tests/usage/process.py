"""Running the hook as Claude Code does: a fresh process, JSON on stdin, timed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
CLI = [str(BIN / "agentreg"), "hook", "usage"]
MODULE = [sys.executable, "-m", "agent_registry.usage"]


@dataclass(frozen=True)
class Ran:
    """One hook process: exit code, both outputs and how long it took."""

    code: int
    stdout: bytes
    stderr: bytes
    seconds: float


def hook_env(tmp_path: Path, project: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no AGENT_REGISTRY_* from the developer's shell, a private home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_REGISTRY_")}
    env.update(
        HOME=str(tmp_path / "home"),
        AGENT_REGISTRY_DATA_DIR=str(tmp_path / "data"),
        AGENT_REGISTRY_USER="ada",
        AGENT_REGISTRY_TEAM="payments",
        CLAUDE_PROJECT_DIR=str(project),
    )
    env.update(extra)
    return env


def run_hook_process(
    command: list[str], stdin: bytes, env: dict[str, str], cwd: Path, *, timeout: float = 60
) -> Ran:
    """Run the hook to completion (``timeout`` only guards the test against a hang)."""
    started = time.monotonic()
    done = subprocess.run(
        command, input=stdin, env=env, cwd=cwd, capture_output=True, timeout=timeout, check=False
    )
    return Ran(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
