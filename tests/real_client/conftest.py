"""Fixtures for the real-client suite: a published registry, the stand-in, the client.

Every test here runs the pinned Claude Code against the Messages API stand-in, in an
isolated home, in a project the registry's own commands (``agentreg install``,
``export``, ``hook``) prepared. The suite skips, saying why, where Node.js or the
client is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent_registry.assets.refs import AssetRef
from agent_registry.cli.errors import explain
from agent_registry.cli.main import build_app
from agent_registry.config import Settings
from tests.claude_client import claude_or_skip
from tests.claude_client.client_run import ClaudeClient
from tests.claude_client.messages_stand_in import MessagesStandIn, running_stand_in
from tests.distribution.seeding import mcp_server, seed, settings_for, signing_key
from tests.real_client.behaviour_cases import grading_model
from tests.support import EXAMPLES

SERVERS = Path(__file__).parent / "servers"

TALLY = "io.github.acme/tally"
TALLY_SCOPE = (
    "tools:\n"
    "  - name: count_words\n"
    "    effects: [read]\n"
    "launch:\n"
    "  command: python\n"
    "  args: [server.py]\n"
)


@dataclass(frozen=True)
class Run:
    """One ``agentreg`` run."""

    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Registry:
    """The test registry: what is published in it, and how to run its commands."""

    env: dict[str, str]
    engine: Engine
    settings: Settings
    refs: dict[str, AssetRef]

    def agentreg(self, *args: str) -> Run:
        """Run an ``agentreg`` command against this registry, as a user would type it.

        The command runs in this process (the console script's own application, with
        this registry's environment), which saves an interpreter start per command; the
        hooks Claude Code runs are separate processes, started by the client.
        """
        env = {**self.env, "COLUMNS": "200", "NO_COLOR": "1"}
        result = CliRunner().invoke(build_app(), list(args), env=env)
        error = result.exception
        if error is not None and not isinstance(error, SystemExit):
            message = explain(error)
            assert message is not None, f"a bug, not a refusal: {error!r}"
            return Run(1, result.stdout, f"error: {message}")
        return Run(result.exit_code, result.stdout, result.stderr)

    def publish(self, path: Path, *, version: str | None = None) -> AssetRef:
        """Store, register and publish the asset at ``path`` (the lifecycle's own path)."""
        return seed(self.engine, self.settings, path, version=version)


def tally_server(root: Path, *, version: str = "1.0.0") -> Path:
    """The tally MCP server as an asset folder: it ships its ``server.py``."""
    return mcp_server(
        root,
        f"tally-{version}",
        server={
            "name": TALLY,
            "description": "Counts the words of a text.",
            "version": version,
            "packages": [],
        },
        scope=TALLY_SCOPE,
        files={"server.py": (SERVERS / "tally.py").read_text()},
    )


@pytest.fixture(scope="session")
def claude_binary() -> Path:
    """The pinned client; the suite skips, saying why, without it."""
    return claude_or_skip()


@pytest.fixture
def registry(sqlite_url: str, sqlite_engine: Engine, tmp_path: Path) -> Registry:
    """A registry with a skill, a subagent and the tally server published.

    It signs what it publishes with a key of its own; its commands (and the hooks the
    client runs) hold that key, as on the registry's host.
    """
    settings = settings_for(tmp_path, sqlite_url)
    env = {
        "AGENT_REGISTRY_DATABASE_URL": sqlite_url,
        "AGENT_REGISTRY_DATA_DIR": str(tmp_path / "data"),
        "AGENT_REGISTRY_SIGNING_KEY": str(signing_key(tmp_path)),
    }
    registry = Registry(env=env, engine=sqlite_engine, settings=settings, refs={})
    registry.refs.update(
        skill=registry.publish(EXAMPLES / "skills" / "release-notes"),
        subagent=registry.publish(EXAMPLES / "subagents" / "code-reviewer.md"),
        mcp=registry.publish(tally_server(tmp_path / "assets")),
    )
    return registry


@pytest.fixture
def api() -> Iterator[MessagesStandIn]:
    """The Messages API stand-in, empty script."""
    with running_stand_in() as stand_in:
        yield stand_in


@pytest.fixture
def model() -> Iterator[MessagesStandIn]:
    """The stand-in answering as :func:`grading_model`: the behavioural evals' model."""
    with running_stand_in() as stand_in:
        stand_in.responder = grading_model
        yield stand_in


@pytest.fixture
def client(
    claude_binary: Path, api: MessagesStandIn, registry: Registry, tmp_path: Path
) -> ClaudeClient:
    """The client in a home of its own, talking to ``api``; its hooks reach ``registry``.

    MCP tools are offered to the model directly (``ENABLE_TOOL_SEARCH=false``) rather
    than behind the client's tool search, so a request lists them by name and a scripted
    ``tool_use`` of one reaches the permission flow as a model's would.
    """
    home = tmp_path / "home"
    home.mkdir()
    return ClaudeClient(
        binary=claude_binary,
        home=home,
        api_url=api.url,
        env={**registry.env, "ENABLE_TOOL_SEARCH": "false"},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project folder to install into and run the client in."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder
