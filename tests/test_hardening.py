from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import ctypes, ctypes.util, sys
from agent_registry.hardening import forbid_same_user_inspection
libc = ctypes.CDLL(ctypes.util.find_library("c"))
before = libc.prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
hardened = forbid_same_user_inspection()
print(before, hardened, libc.prctl(3, 0, 0, 0, 0))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux only")
def test_the_worker_process_is_no_longer_dumpable() -> None:
    # Not dumpable: /proc/<pid>/environ and ptrace become root-only, so an MCP server the
    # probe starts (as the worker's own user) cannot read the worker's credentials.
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["1", "True", "0"]


def test_forgotten_credentials_leave_the_environment_but_are_still_blanked_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the worker does once it has read its settings (worker.forget_credentials).
    from agent_registry.hardening import forget_environment
    from agent_registry.mcp_probe.run import _redactor

    secret = "xoxb-forgotten-but-not-shown-1234"
    monkeypatch.setenv("AGENT_REGISTRY_SLACK_BOT_TOKEN", secret)
    forget_environment(["AGENT_REGISTRY_SLACK_BOT_TOKEN"])
    assert "AGENT_REGISTRY_SLACK_BOT_TOKEN" not in os.environ
    assert _redactor({})(f"server said {secret}") == "server said [redacted]"
