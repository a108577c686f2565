"""The one pinned Claude Code client every test runs: judge of format and real client.

``package.json`` beside this file pins ``@anthropic-ai/claude-code`` from the npm
registry; ``.ci/run`` installs it with ``npm ci`` when it is missing. Tests find the
binary with :func:`claude_binary` (or skip, saying why, with :func:`claude_or_skip`)
and run it with :func:`isolated_env`: a fresh ``HOME`` and nothing of the machine's own
configuration or credentials, with nonessential traffic off, so what the client says
depends only on what the test hands it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agent_registry.evals.client import client_env

CLIENT_DIR = Path(__file__).resolve().parent
"""Where ``npm ci`` installs the pinned client."""

CLIENT_ENV = "AGENT_REGISTRY_TEST_CLAUDE"
"""Names a ``claude`` binary to use instead of the one installed here."""


def claude_binary() -> Path | None:
    """The pinned client's binary, or None when Node.js or the package is missing.

    The npm package replaces its ``bin/claude.exe`` placeholder with the native binary
    in a postinstall step; where scripts were not run, the platform package's binary
    (``@anthropic-ai/claude-code-<platform>/claude``) is the same program.
    """
    named = os.environ.get(CLIENT_ENV)
    if named:
        return Path(named) if Path(named).exists() else None
    if shutil.which("node") is None:
        return None
    modules = CLIENT_DIR / "node_modules" / "@anthropic-ai"
    wrapper = modules / "claude-code" / "bin" / "claude.exe"
    if wrapper.exists() and wrapper.stat().st_size > 1024 * 1024:
        return wrapper
    for native in sorted(modules.glob("claude-code-*/claude")):
        if native.is_file() and os.access(native, os.X_OK):
            return native
    return None


def missing_reason() -> str:
    """Why :func:`claude_binary` found nothing, for a skip message."""
    if os.environ.get(CLIENT_ENV):
        return f"{CLIENT_ENV} names {os.environ[CLIENT_ENV]}, which does not exist"
    if shutil.which("node") is None:
        return "Node.js is not installed, so Claude Code cannot be installed (.ci/run does)"
    return (
        f"Claude Code is not installed in {CLIENT_DIR}/node_modules: run `npm ci` there "
        f"(.ci/run does), or name a binary in {CLIENT_ENV}"
    )


def claude_or_skip() -> Path:
    """The pinned client's binary; skips the calling test, saying why, when it is absent."""
    binary = claude_binary()
    if binary is None:
        pytest.skip(missing_reason())
    return binary


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment for the client built from nothing but a fresh ``HOME``.

    No credentials, settings or plugins of the machine leak in, and the client makes no
    nonessential network calls (telemetry, update checks).

    Args:
        home: An empty folder to be the client's home; created if missing.
        extra: More variables, e.g. ``ANTHROPIC_BASE_URL`` for a stand-in API.

    Returns:
        The environment mapping to pass to :mod:`subprocess`.
    """
    home.mkdir(parents=True, exist_ok=True)
    # The registry's own eval client runs with this environment: the tests run the
    # client as the registry does, plus what they hand it.
    env = client_env(home)
    env.update(extra)
    return env
