"""The usage hook inside Claude Code: a use of a published skill is counted and shown.

The project carries the documented ``PostToolUse`` hook (docs/catalog.md, "Usage"), the
client runs the skill the stand-in asks for, the hook sends the use to the registry
server over its API (as from a laptop with no database credentials), and the use shows
in ``agentreg report --json`` and on the dashboard the server renders.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_registry.api.app import build_web_app
from agent_registry.api.health import database_check
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.cli.serve import SITE_ROUTES, add_identity
from tests.api.live import live_server
from tests.claude_client.client_run import ClaudeClient
from tests.claude_client.messages_stand_in import MessagesStandIn, say, use
from tests.real_client.conftest import Registry

USAGE_HOOK = {
    "hooks": {
        "PostToolUse": [
            {
                "matcher": "Skill|Task|Agent|mcp__.*",
                "hooks": [{"type": "command", "command": "agentreg hook usage", "timeout": 10}],
            }
        ]
    }
}
"""The hook as docs/catalog.md documents it, without ``async`` so the run waits for it."""


@pytest.fixture
def server(registry: Registry) -> Iterator[str]:
    """The registry server as ``agentreg serve`` assembles it: API, dashboard, identity."""
    app = build_web_app(
        registry.settings,
        DatabaseCatalog(registry.engine),
        health_check=database_check(registry.engine),
        extra_routes=SITE_ROUTES,
    )
    add_identity(app, registry.settings, registry.engine)
    with live_server(app) as url:
        yield url


def _skill_uses(report: dict[str, object], name: str) -> int:
    reuse = report["reuse"]
    assert isinstance(reuse, list)
    return sum(int(r["uses"]) for r in reuse if r["ref"] == f"skill/{name}")


def test_a_use_of_a_published_skill_is_counted_and_shown(
    registry: Registry,
    client: ClaudeClient,
    api: MessagesStandIn,
    project: Path,
    server: str,
    tmp_path: Path,
) -> None:
    assert (
        registry.agentreg("install", str(registry.refs["skill"]), "--into", str(project)).code == 0
    )
    (project / ".claude" / "settings.json").write_text(json.dumps(USAGE_HOOK))
    before = json.loads(registry.agentreg("report", "--json").stdout)
    assert _skill_uses(before, "release-notes") == 0
    api.script(use("Skill", {"skill": "release-notes"}), say("Drafted."))

    run = client.ask(
        "Draft the release notes.",
        project=project,
        args=("--allowedTools", "Skill"),
        extra_env={
            "AGENT_REGISTRY_API_URL": server,
            "AGENT_REGISTRY_DATABASE_URL": "",
            "AGENT_REGISTRY_DATA_DIR": str(tmp_path / "laptop"),
            "AGENT_REGISTRY_TEAM": "web",
            "AGENT_REGISTRY_USER": "carol@example.com",
            # send at once (more than 0 waiting), and wait for the send on a busy machine
            "AGENT_REGISTRY_USAGE_FLUSH_EVENTS": "0",
            "AGENT_REGISTRY_USAGE_BUDGET_MS": "20000",
        },
    )

    assert run.code == 0, run.stderr
    assert run.result["permission_denials"] == []
    report = json.loads(registry.agentreg("report", "--json").stdout)
    assert _skill_uses(report, "release-notes") == 1, report["reuse"]
    with urllib.request.urlopen(f"{server}/", timeout=30) as reply:  # noqa: S310 - loopback
        page = reply.read().decode()
    row = re.search(r"<tr[^>]*><td><code>skill/release-notes</code>.*?</tr>", page, re.DOTALL)
    assert row is not None, "the dashboard's reuse table does not list the skill"
    assert '<span data-col="uses">1</span>' in row.group(0), row.group(0)
    assert '<span data-col="teams">1</span>' in row.group(0), row.group(0)
