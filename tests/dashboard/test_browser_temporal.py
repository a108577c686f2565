"""From the dashboard into the real Temporal Web UI, in headless Chromium.

A Temporal dev server with its Web UI runs for this module, holding a lifecycle for each
seeded version the dashboard lists and a decoy in another stage. Chromium reads the
dashboard, takes the links it resolved, and opens them: the UI's filtered list shows the
section's versions and not the decoy, and a row's link opens that version's workflow.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from agent_registry.api.app import build_web_app
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.config import Settings
from agent_registry.dashboard import routes
from agent_registry.lifecycle.contract import LIFECYCLE_WORKFLOW
from agent_registry.lifecycle.stages import Stage
from agent_registry.lifecycle.visibility import AWAITING_SUNSET, PENDING_REVIEWS, view
from agent_registry.temporal import LIFECYCLE_STAGE, dev_server_flags, search_attribute_flags
from tests.api.live import live_server
from tests.api.seed import MCP_DEPRECATED, SKILL, SUBAGENT_IN_REVIEW, seed_registry
from tests.conftest import BIN
from tests.dashboard.test_browser import CHROMIUM
from tests.ports import free_port

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install -y chromium; .ci/run does it as root)",
)

NOBODY_POLLS = "dashboard-browser-test"
"""The lifecycles here only need their search attributes: no worker runs them."""


@dataclass(frozen=True)
class TemporalUi:
    """A dev server and its Web UI, and a client of it."""

    ui_url: str
    client: Client


@pytest.fixture(scope="module")
async def temporal_ui(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TemporalUi]:
    port, ui_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("temporal-ui") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: ASYNC220 - a server for the module, not awaited
            [
                str(BIN / "temporal"),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(port),
                "--ui-port",
                str(ui_port),
                "--log-level",
                "error",
                *search_attribute_flags(),
                *dev_server_flags(),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        client = await _connect(f"127.0.0.1:{port}", server, log)
        await _wait_for_ui(ui_port, server, log)
        yield TemporalUi(ui_url=f"http://127.0.0.1:{ui_port}", client=client)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def _connect(address: str, server: subprocess.Popen[bytes], log: Path) -> Client:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        if server.poll() is not None:
            raise AssertionError(f"the dev server exited: {log.read_text()[-2000:]}")
        try:
            return await Client.connect(address)
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)


async def _wait_for_ui(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        if server.poll() is not None:
            raise AssertionError(f"the dev server exited: {log.read_text()[-2000:]}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)
        else:
            writer.close()
            await writer.wait_closed()
            return


async def start_lifecycle(client: Client, workflow_id: str, stage: Stage) -> None:
    await client.start_workflow(
        LIFECYCLE_WORKFLOW,
        id=workflow_id,
        task_queue=NOBODY_POLLS,
        search_attributes=TypedSearchAttributes([SearchAttributePair(LIFECYCLE_STAGE, stage)]),
    )


async def visible(client: Client, query: str, count: int) -> None:
    deadline = asyncio.get_running_loop().time() + 20
    while len([e async for e in client.list_workflows(query)]) < count:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"visibility never listed {count} for {query}")
        await asyncio.sleep(0.3)


def chromium(profile: Path, url: str, *args: str) -> str:
    assert CHROMIUM is not None
    ran = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--window-size=1400,1600",
            *args,
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return ran.stdout.decode()


def rendered_by_the_ui(profile: Path, url: str, expected: str) -> str:
    """The UI's page at ``url`` once its script has fetched and drawn ``expected``.

    Under virtual time, so the page's script runs to quiet and the DOM is read then.
    """
    dom = ""
    for budget in (10_000, 20_000, 40_000):  # a loaded machine needs more
        dom = chromium(profile, url, f"--virtual-time-budget={budget}")
        if expected in dom:
            break
    return dom


def links(dom: str, css_class: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in re.finditer(rf'<a class="{css_class}"([^>]*)>(.*?)</a>', dom):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))
        key = attrs.get("data-view") or re.sub(r"<[^>]+>", "", match.group(2))
        found[unescape(key)] = unescape(attrs["href"])
    return found


@pytest.fixture
def dashboard_url(sqlite_engine: Engine, tmp_path: Path, temporal_ui: TemporalUi) -> Iterator[str]:
    seed_registry(sqlite_engine)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", ui_url=temporal_ui.ui_url)
    app = build_web_app(settings, DatabaseCatalog(sqlite_engine), extra_routes=[routes.add_routes])
    with live_server(app) as url:
        yield f"{url}/"


async def test_the_dashboard_s_links_open_the_temporal_ui_on_the_same_versions(
    temporal_ui: TemporalUi, dashboard_url: str, tmp_path: Path
) -> None:
    client = temporal_ui.client
    await start_lifecycle(client, SUBAGENT_IN_REVIEW.workflow_id, Stage.IN_REVIEW)
    await start_lifecycle(client, MCP_DEPRECATED.workflow_id, Stage.DEPRECATED)
    await start_lifecycle(client, SKILL.workflow_id, Stage.PUBLISHED)  # in neither list
    await visible(client, f'WorkflowType="{LIFECYCLE_WORKFLOW}"', 3)

    dashboard = chromium(tmp_path / "profile", dashboard_url)
    sections = links(dashboard, "view")
    rows = links(dashboard, "wf")

    for key, listed, left_out in (
        (PENDING_REVIEWS, SUBAGENT_IN_REVIEW, MCP_DEPRECATED),
        (AWAITING_SUNSET, MCP_DEPRECATED, SUBAGENT_IN_REVIEW),
    ):
        href = sections[key]
        parts = urlsplit(href)
        assert f"{parts.scheme}://{parts.netloc}" == temporal_ui.ui_url
        assert parts.path == "/namespaces/default/workflows"
        # These two views carry no instant: the query is the view's, whenever rendered.
        assert parse_qs(parts.query)["query"] == [view(key, datetime.now(UTC)).query]
        ui = rendered_by_the_ui(tmp_path / "profile", href, listed.workflow_id)
        (tmp_path / f"ui-{key}.html").write_text(ui)
        assert listed.workflow_id in ui, f"the UI's list for {key} does not show {listed}"
        assert left_out.workflow_id not in ui, f"the UI's list for {key} shows {left_out}"
        assert SKILL.workflow_id not in ui

    # A row's link is the UI's route for that workflow. Its page long-polls the running
    # workflow's history (which holds a headless browser's virtual time still), so the
    # UI's own API, at the same route under /api/v1, answers for what the page shows.
    row = urlsplit(rows[str(SUBAGENT_IN_REVIEW)])
    assert f"{row.scheme}://{row.netloc}" == temporal_ui.ui_url
    described = await asyncio.to_thread(_get_json, f"{temporal_ui.ui_url}/api/v1{row.path}")
    execution = described["workflowExecutionInfo"]["execution"]
    assert execution["workflowId"] == SUBAGENT_IN_REVIEW.workflow_id
    assert described["executionConfig"]["taskQueue"]["name"] == NOBODY_POLLS


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 - loopback, built here
        loaded = json.loads(reply.read())
    assert isinstance(loaded, dict)
    return loaded
