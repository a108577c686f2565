"""An import from a loopback registry through to review, and the scheduled import.

The loopback registry serves real ``server.json`` documents (tests/mcp_registry/servers);
the worker that ships runs the lifecycles on the real Temporal dev server, so an
imported version meets the eval bar, the live probe and review like any submission.
Submissions and the watch go through the registry server in local mode (``--as``), as
``make up`` runs it.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.mcp_import import McpImportActivities
from activities.mcp_importer import McpImporter
from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.cli.errors import CliError
from agent_registry.cli.mcp_import import draft_all, ready_drafts, submit_prepared, watch_servers
from agent_registry.cli.registry_writes import server_url
from agent_registry.config import Settings
from agent_registry.lifecycle.client import query_status
from agent_registry.lifecycle.contract import AssetStatus
from agent_registry.lifecycle.stages import Stage
from agent_registry.mcp_registry.contract import (
    McpImportResult,
    SubmitPickInput,
    UpstreamPick,
)
from agent_registry.mcp_registry.drafts import draft_folder
from agent_registry.mcp_registry.scope_proposal import MARKER
from agent_registry.mcp_registry.upstream import fetch_chosen
from agent_registry.registry.db import session_scope
from tests import seeding
from tests.mcp_probe.support import needs_sandbox
from tests.mcp_registry.support import GITHUB, TIME, TIME_TOOLS, server_archive, upstream
from tests.mcp_registry.upstream_double import Upstream, allowing, serving
from tests.registry_server import registry_server
from tests.support import STARTED, make_settings, principal, running_worker, wait_for_stage

TIME_TOOL_NAMES = {"get_current_time", "convert_time"}


def _released(server: dict[str, Any], version: str) -> dict[str, Any]:
    """``server`` at another server version, its package still the installed release.

    The dev server is shared by the session and a version is submitted once, so each
    test imports versions of its own; the package stays the one the probe can run.
    """
    changed = copy.deepcopy(server)
    changed["version"] = version
    return changed


def _confirm(folder: Path, tools: list[dict[str, Any]]) -> None:
    """What the submitter does: narrow the proposal and delete its first line."""
    (folder / "scope.yaml").write_text(yaml.safe_dump({"tools": tools}), encoding="utf-8")


@needs_sandbox
async def test_import_reaches_review_once(
    dev_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine
) -> None:
    client = dev_env.client
    settings = make_settings(tmp_path, sqlite_url)
    suffix = uuid.uuid4().hex[:8]
    time_version, github_version = f"2026.10.19-i{suffix}", f"0.20.1-i{suffix}"
    double = Upstream()
    double.add(_released(upstream("time"), time_version))
    double.add(_released(upstream("github"), github_version))
    root = tmp_path / "drafts"
    with serving(double) as url:
        chosen = await fetch_chosen(url, search=None, names=[TIME, GITHUB], timeout=10)
        await asyncio.to_thread(
            draft_all, settings, root, chosen, team="platform", upstream=url, probe=True
        )
    time_draft = draft_folder(root, TIME, time_version)
    github_draft = draft_folder(root, GITHUB, github_version)

    # The proposal lists what the probe saw the server expose, for the submitter to confirm.
    proposed = (time_draft / "scope.yaml").read_text(encoding="utf-8")
    assert proposed.splitlines()[0] == MARKER
    assert {tool["name"] for tool in yaml.safe_load(proposed)["tools"]} == TIME_TOOL_NAMES
    assert "not" in (github_draft / "scope.yaml").read_text(encoding="utf-8")  # not probed
    assert yaml.safe_load((time_draft / "server.json").read_text()) == chosen[1].server

    # Unconfirmed: nothing is submitted.
    with pytest.raises(CliError, match="still a proposal") as refused:
        ready_drafts(settings, root, chosen, submitter="ada@example.com", team="platform")
    assert str(github_draft) in str(refused.value) and str(time_draft) in str(refused.value)

    _confirm(time_draft, TIME_TOOLS)
    _confirm(github_draft, [{"name": "get_me", "effects": ["read", "network"]}])
    prepared = ready_drafts(settings, root, chosen, submitter="ada@example.com", team="platform")
    async with (
        running_worker(client, settings, sqlite_engine),
        registry_server(settings, client, sqlite_engine) as api,
    ):
        settings = settings.model_copy(update={"api_url": api})
        assert server_url(settings) == api
        first = await asyncio.to_thread(
            submit_prepared, settings, prepared, as_user="ada@example.com"
        )
        assert [(s.ref.name, s.started) for s in first] == [(GITHUB, True), (TIME, True)]
        handles = [_handle(client, s.workflow_id) for s in first]
        STARTED.extend(handles)
        status = await wait_for_stage(handles[1], Stage.IN_REVIEW, timeout=90)
        assert status.stage is Stage.IN_REVIEW  # passed the eval bar, probe included
        # A re-run imports nothing twice.
        again = ready_drafts(settings, root, chosen, submitter="ada@example.com", team="platform")
        second = await asyncio.to_thread(
            submit_prepared, settings, again, as_user="ada@example.com"
        )
        assert [s.started for s in second] == [False, False]


async def test_a_stale_draft_is_refused(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    double = Upstream()
    double.add(upstream("time"))
    root = tmp_path / "drafts"
    with serving(double) as url:
        chosen = await fetch_chosen(url, search=None, names=[TIME], timeout=10)
        draft_all(settings, root, chosen, team="platform", upstream=url, probe=False)
        changed = copy.deepcopy(double.servers[0])
        changed["description"] = "Something else entirely."
        double.servers[0] = changed
        fresh = await fetch_chosen(url, search=None, names=[TIME], timeout=10)
    folder = draft_folder(root, TIME, "2026.10.19")
    _confirm(folder, TIME_TOOLS)
    with pytest.raises(CliError, match=r"holds another server\.json"):
        ready_drafts(settings, root, fresh, submitter="ada@example.com", team="platform")


@needs_sandbox
async def test_schedule_submits_each_new_upstream_version_once(
    dev_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str, sqlite_engine: Engine
) -> None:
    client = dev_env.client
    settings = make_settings(tmp_path, sqlite_url)
    suffix = uuid.uuid4().hex[:8]
    held, new = f"2026.10.19-s{suffix}.1", f"2026.10.19-s{suffix}.2"
    # The registry holds one version whose scope was confirmed at its import.
    held_ref = AssetRef(kind=AssetKind.MCP_SERVER, name=TIME, version=held)
    with session_scope(sqlite_engine) as session:
        seeding.register(
            session,
            held_ref,
            team="platform",
            archive=server_archive(_released(upstream("time"), held), TIME_TOOLS),
        )
    double = Upstream()
    double.add(_released(upstream("time"), held))
    with serving(double) as url:
        settings = allowing(settings, url)
        async with (
            running_worker(client, settings, sqlite_engine),
            registry_server(settings, client, sqlite_engine) as api,
        ):
            watch = await asyncio.to_thread(
                watch_servers,
                settings.model_copy(update={"api_url": api}),
                upstream=url,
                names=[TIME, GITHUB],
                team="platform",
                every=timedelta(hours=1),
                as_user="ada@example.com",
            )
            sid = watch.schedule_id
            schedule = client.get_schedule_handle(sid)
            try:
                nothing_new = await _run_once(client, sid)
                assert nothing_new.outcomes == []
                assert any(
                    GITHUB in note and "import it once" in note for note in nothing_new.notes
                )

                double.add(_released(upstream("time"), new))  # upstream publishes a version
                found = await _run_once(client, sid)
                assert [(o.version, o.status) for o in found.outcomes] == [(new, "submitted")]
                lifecycle = _handle(client, found.outcomes[0].message)
                STARTED.append(lifecycle)
                status = await wait_for_stage(lifecycle, Stage.IN_REVIEW, timeout=90)
                assert status.stage is Stage.IN_REVIEW  # the carried scope held at the probe
                # The watcher the server resolved, not a name the schedule claims.
                assert (status.submitter, status.machine_authored) == ("ada@example.com", False)

                # Submitting the same pick again starts nothing: the lifecycle id is the
                # version's, so a retried or overlapping run cannot submit it twice.
                repeat = await McpImportActivities(
                    McpImporter(client, settings, sqlite_engine)
                ).submit_pick(
                    SubmitPickInput(
                        upstream=url,
                        pick=UpstreamPick(name=TIME, version=new, scope_from=str(held_ref)),
                        team="platform",
                        submitter="ada@example.com",
                        principal=principal("ada@example.com"),
                    )
                )
                assert repeat.status == "already-submitted"

                again = await _run_once(client, sid)
                assert all(o.status != "submitted" for o in again.outcomes)
                assert (await query_status(lifecycle)).revision == status.revision
            finally:
                await schedule.delete()


async def _run_once(client: Client, schedule_id: str) -> McpImportResult:
    """Trigger the schedule now and wait for that run's result."""
    schedule = client.get_schedule_handle(schedule_id)
    before = len((await schedule.describe()).info.recent_actions)
    await schedule.trigger()
    for _ in range(300):
        actions = (await schedule.describe()).info.recent_actions
        if len(actions) > before:
            action = actions[-1].action
            run: WorkflowHandle[Any, McpImportResult] = client.get_workflow_handle(
                action.workflow_id,
                run_id=action.first_execution_run_id,
                result_type=McpImportResult,
            )
            return await asyncio.wait_for(run.result(), timeout=120)
        await asyncio.sleep(0.1)
    raise AssertionError(f"schedule {schedule_id} did not start a run")


def _handle(client: Client, workflow_id: str) -> WorkflowHandle[Any, AssetStatus]:
    return client.get_workflow_handle(workflow_id, result_type=AssetStatus)
