"""Running the real Claude Code client against the Messages API stand-in.

The client runs as a user would run it in a script (``claude -p PROMPT --output-format
json``) with nothing of the machine's own configuration: a fresh ``HOME``, an
environment built from nothing, nonessential traffic off, and ``ANTHROPIC_BASE_URL``
pointing at the stand-in. ``PATH`` starts with this virtualenv's ``bin`` so the hooks
the registry installs (``agentreg hook ...``) and the MCP servers it launches
(``python server.py``) resolve to the project's own code.

Managed settings are read by the client only from ``/etc/claude-code`` on Linux (the
documented location; this client build honours no override). A test therefore runs
the client in a mount namespace of its own (bubblewrap) in which a test folder is
bound over ``/etc/claude-code``: the client reads the file exactly where an
administrator puts it, and no other process sees it. (Where ``/etc/claude-code`` does
not exist bubblewrap creates it, empty, as the mount point; an empty folder is no
managed settings at all.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SUITE_DIR = Path(__file__).resolve().parent.parent / "real_client"
"""The real-client suite's tests; the client they run is the one pinned beside this file."""

MANAGED_DIR = "/etc/claude-code"
"""Where Claude Code reads managed settings on Linux."""

API_KEY = "sk-ant-test-stand-in"
"""The key the client sends the stand-in; not a credential anywhere."""

VENV_BIN = Path(sys.executable).parent


def bwrap_or_skip() -> str:
    """bubblewrap, which gives the client a private ``/etc/claude-code``; skips without it."""
    found = shutil.which("bwrap")
    if found is None:
        pytest.skip("bubblewrap (bwrap) is not installed; managed settings need /etc/claude-code")
    if not Path(MANAGED_DIR).is_dir() and os.geteuid() != 0:
        pytest.skip(
            f"{MANAGED_DIR} does not exist to mount the test's managed settings on, and "
            "only root may create it (an empty folder there changes nothing)"
        )
    return found


@dataclass(frozen=True)
class ClientRun:
    """What one client run printed and returned."""

    code: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        """The ``--output-format json`` result object."""
        try:
            value = json.loads(self.stdout)
        except ValueError:
            raise AssertionError(
                f"the client printed no JSON result (exit {self.code}):\n"
                f"{self.stdout[-2000:]}\n{self.stderr[-2000:]}"
            ) from None
        assert isinstance(value, dict), self.stdout
        return value


@dataclass
class ClaudeClient:
    """The installed client, a home of its own and the stand-in it talks to.

    Attributes:
        binary: The ``claude`` executable.
        home: The client's ``HOME`` (``~/.claude``, ``~/.claude.json`` live here).
        api_url: The stand-in's base URL.
        env: Extra variables every run gets (the registry's, for the hooks).
    """

    binary: Path
    home: Path
    api_url: str
    env: dict[str, str] = field(default_factory=dict)

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The whole environment of a run: nothing inherited from this process."""
        return {
            "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": self.api_url,
            "ANTHROPIC_API_KEY": API_KEY,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            **self.env,
            **(extra or {}),
        }

    def command(self, *args: str, cwd: Path, timeout: float = 90) -> ClientRun:
        """Run ``claude ARGS`` in ``cwd`` (``plugin ...``, ``mcp ...``)."""
        return self._run([str(self.binary), *args], cwd=cwd, timeout=timeout, managed=None)

    def ask(
        self,
        prompt: str,
        *,
        project: Path,
        args: Sequence[str] = (),
        managed: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> ClientRun:
        """``claude -p PROMPT --output-format json`` in ``project``.

        Args:
            prompt: The user's message.
            project: The working directory (the project the registry installed into).
            args: More arguments (``--permission-mode``, ``--plugin-dir`` ...).
            managed: A folder holding ``managed-settings.json``, seen by the client at
                ``/etc/claude-code``.
            extra_env: Variables for this run only.
            timeout: Seconds before the run is killed and the test fails.
        """
        argv = [str(self.binary), "-p", prompt, "--output-format", "json", *args]
        return self._run(argv, cwd=project, timeout=timeout, managed=managed, extra=extra_env)

    def _run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        timeout: float,
        managed: Path | None,
        extra: Mapping[str, str] | None = None,
    ) -> ClientRun:
        if managed is not None:
            bwrap = bwrap_or_skip()
            argv = [
                bwrap,
                "--dev-bind", "/", "/",
                "--ro-bind", str(managed), MANAGED_DIR,
                "--die-with-parent",
                "--", *argv,
            ]  # fmt: skip
        completed = subprocess.run(
            argv,
            cwd=cwd,
            env=self.environment(extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return ClientRun(completed.returncode, completed.stdout, completed.stderr)
