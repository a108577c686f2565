"""The dashboard in a real browser: a registry seeded through the store and the catalog,
uses sent by the real hook through the real API, and headless Chromium reading the page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent_registry.api.app import build_web_app
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import InstallEvent, UsageEvent
from agent_registry.cli.serve import add_identity
from agent_registry.config import Settings
from agent_registry.dashboard import routes
from tests.api.live import call, live_server
from tests.api.seed import MCP, SKILL, seed_registry
from tests.dashboard.png import decode
from tests.usage.helpers import make_project, payload
from tests.usage.process import CLI, hook_env, run_hook_process

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = (1400, 2400)
HEADER_RGB = bytes.fromhex("1f2a44")
BAR_RGB = bytes.fromhex("5b6cff")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium; .ci/run does it as root)",
)


@dataclass(frozen=True)
class Served:
    """The running server and where this test keeps what the browser produced."""

    url: str
    artifacts: Path


@pytest.fixture
def served(
    sqlite_engine: Engine, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A seeded registry with installs and uses, served with the dashboard routes."""
    seed_registry(sqlite_engine)
    catalog = DatabaseCatalog(sqlite_engine)
    now = datetime.now(UTC)
    for team, user, days_ago in (("docs", "ada", 0), ("platform", "lin", 1), ("qa", "mo", 3)):
        catalog.record_install(
            InstallEvent(ref=str(SKILL), team=team, user=user, at=now - timedelta(days=days_ago))
        )
    catalog.record_usage(
        [
            UsageEvent(
                kind=MCP.kind,
                name=MCP.name,
                version=MCP.version,
                tool="file_ticket",
                team="support",
                user="kai",
                at=now - timedelta(days=2),
                event_id="seeded-mcp-use",
            )
        ]
    )
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    app = build_web_app(settings, catalog, extra_routes=[routes.add_routes])
    add_identity(app, settings, sqlite_engine)  # as agentreg serve does: writes need it
    with live_server(app) as url:
        yield Served(url=url, artifacts=tmp_path_factory.mktemp("dashboard-artifacts"))


def chromium(served: Served, *args: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={served.artifacts / 'profile'}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            *args,
            f"{served.url}/",
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )


def send_uses_through_the_hook(served: Served, tmp_path: Path) -> None:
    """Two uses of the seeded skill, one of them reported twice, via the API."""
    project = make_project(tmp_path, [(str(SKILL), SKILL.name)])
    env = hook_env(
        tmp_path,
        project,
        AGENT_REGISTRY_API_URL=served.url,
        AGENT_REGISTRY_USAGE_FLUSH_EVENTS="0",
        AGENT_REGISTRY_USAGE_BUDGET_MS="20000",
    )
    for tool_use in ("toolu_a", "toolu_b", "toolu_b"):
        stdin = payload("Skill", {"skill": SKILL.name}, tool_use_id=tool_use).encode()
        ran = run_hook_process(CLI, stdin, env, tmp_path)
        assert (ran.code, ran.stdout, ran.stderr) == (0, b"", b"")


def reuse_cell(dom: str, ref: str, column: str) -> str:
    row = re.search(rf'<tr data-ref="{re.escape(ref)}">(.*?)</tr>', dom.split('id="reuse"')[1])
    assert row is not None, f"no reuse row for {ref}"
    cell = re.search(rf'<span data-col="{column}">(\d+)</span>', row.group(1))
    assert cell is not None, f"no {column} for {ref}"
    return cell.group(1)


def test_dashboard_renders_the_seeded_numbers_in_chromium(served: Served, tmp_path: Path) -> None:
    send_uses_through_the_hook(served, tmp_path)

    page = call(served.url, "GET", "/dashboard")
    assert page.status == 200
    assert page.media_type == "text/html"
    assert "script-src" not in page.headers["Content-Security-Policy"]

    dom = chromium(served, "--dump-dom").stdout.decode()
    (served.artifacts / "dashboard.html").write_text(dom)
    for anchor in ("inventory", "scope", "governance", "reuse"):
        assert f'<section id="{anchor}">' in dom
    skill = f"{SKILL.kind.value}/{SKILL.name}"
    assert reuse_cell(dom, skill, "installs") == "3"
    assert reuse_cell(dom, skill, "uses") == "2"  # the repeated report counted once
    assert reuse_cell(dom, skill, "teams") == "4"  # three installing teams and the hook's
    assert reuse_cell(dom, f"{MCP.kind.value}/{MCP.name}", "uses") == "1"
    assert 'data-metric="installs"><span class="value">3</span>' in dom
    assert "subagent/code-reviewer@2.0.0-rc.1" in dom  # waiting for review
    assert "mcp-server/io.github.acme/tickets@0.9.0" in dom  # deprecated, with a sunset

    screenshot = served.artifacts / "dashboard.png"
    chromium(served, f"--screenshot={screenshot}")
    image = decode(screenshot.read_bytes())
    assert (image.width, image.height) == WINDOW
    colours = image.colours()
    most_common_share = colours.most_common(1)[0][1] / sum(colours.values())
    assert len(colours) > 20, "the screenshot is (nearly) one colour"
    assert most_common_share < 0.9
    assert image.pixel(10, 10) == HEADER_RGB, "the inline stylesheet was not applied"
    assert BAR_RGB in colours, "no inventory bar was drawn"
