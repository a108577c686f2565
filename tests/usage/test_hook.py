"""The hook in-process: which calls are spooled, with what attribution, and never a raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_registry.assets.refs import AssetKind
from agent_registry.usage import spool
from agent_registry.usage.flush import FlushOutcome, FlushPolicy
from agent_registry.usage.hook import HookRun, SinkOpener, policy_from, run_hook
from tests.usage.helpers import NOW, CountingSink, make_project, payload


def hook_run(tmp_path: Path, project: Path, **overrides: object) -> HookRun:
    env = {
        "AGENT_REGISTRY_DATA_DIR": str(tmp_path / "data"),
        "AGENT_REGISTRY_USER": "ada",
        "AGENT_REGISTRY_TEAM": "payments",
        "CLAUDE_PROJECT_DIR": str(project),
    }
    return HookRun(env=env, home=tmp_path / "home", now=NOW, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(
        tmp_path,
        [
            ("skill/pdf-report@1.2.0", "pdf-report"),
            ("subagent/reviewer@0.3.0", "reviewer"),
            ("mcp-server/io.github.acme/time@2.0.0", "time"),
        ],
    )


def test_a_skill_use_is_spooled_with_version_team_and_user(tmp_path: Path, project: Path) -> None:
    run = hook_run(tmp_path, project)
    result = run_hook(payload("Skill", {"skill": "pdf-report"}, tool_use_id="toolu_1"), run)
    assert result.flush is FlushOutcome.NOT_DUE
    event = result.recorded
    assert event is not None
    assert (event.kind, event.name, event.version) == (AssetKind.SKILL, "pdf-report", "1.2.0")
    assert (event.team, event.user, event.session, event.at) == ("payments", "ada", "sess-1", NOW)
    assert spool.state(run.paths).events == 1


def test_mcp_tool_names_its_server_and_tool(tmp_path: Path, project: Path) -> None:
    result = run_hook(payload("mcp__time__convert_time", {}), hook_run(tmp_path, project))
    assert result.recorded is not None
    assert (result.recorded.name, result.recorded.version, result.recorded.tool) == (
        "io.github.acme/time",
        "2.0.0",
        "convert_time",
    )


def test_pre_and_post_hooks_of_one_call_share_an_event_id(tmp_path: Path, project: Path) -> None:
    run = hook_run(tmp_path, project)
    pre = run_hook(payload("Task", {"subagent_type": "reviewer"}, tool_use_id="toolu_9"), run)
    post = run_hook(
        payload(
            "Task",
            {"subagent_type": "reviewer"},
            tool_use_id="toolu_9",
            hook_event_name="PreToolUse",
        ),
        run,
    )
    assert pre.recorded is not None
    assert post.recorded is not None
    assert pre.recorded.event_id == post.recorded.event_id
    other = run_hook(payload("Task", {"subagent_type": "reviewer"}), run)
    assert other.recorded is not None
    assert other.recorded.event_id != pre.recorded.event_id


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        payload("Bash", {"command": "ls"}),
        payload("Skill", {"skill": "not-installed"}),
        payload("Task", {"subagent_type": "general-purpose"}),
    ],
)
def test_nothing_to_count_spools_nothing(tmp_path: Path, project: Path, text: str) -> None:
    run = hook_run(tmp_path, project)
    assert run_hook(text, run).recorded is None
    assert spool.state(run.paths).events == 0


def test_an_unwritable_spool_is_survived(tmp_path: Path, project: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be")
    result = run_hook(payload("Skill", {"skill": "pdf-report"}), hook_run(tmp_path, project))
    assert result.recorded is None


def test_a_due_spool_is_flushed_to_the_registry(tmp_path: Path, project: Path) -> None:
    sink = CountingSink()

    def load() -> SinkOpener:
        return lambda: sink

    run = hook_run(tmp_path, project, policy=FlushPolicy(max_events=1), load_sink=load)
    assert run_hook(payload("Skill", {"skill": "pdf-report"}), run).flush is FlushOutcome.NOT_DUE
    result = run_hook(payload("mcp__time__now", {}), run)
    assert result.flush is FlushOutcome.SENT
    assert len(sink.seen) == 2
    assert spool.state(run.paths).events == 0


def test_a_registry_that_cannot_be_opened_keeps_the_spool(tmp_path: Path, project: Path) -> None:
    def load() -> SinkOpener:
        raise RuntimeError("no settings")

    run = hook_run(tmp_path, project, policy=FlushPolicy(max_events=0), load_sink=load)
    assert run_hook(payload("Skill", {"skill": "pdf-report"}), run).flush is FlushOutcome.FAILED
    assert spool.state(run.paths).events == 1


def test_policy_reads_its_overrides_and_ignores_nonsense() -> None:
    policy = policy_from(
        {
            "AGENT_REGISTRY_USAGE_FLUSH_SECONDS": "5",
            "AGENT_REGISTRY_USAGE_FLUSH_EVENTS": "many",
            "AGENT_REGISTRY_USAGE_BUDGET_MS": "150",
        }
    )
    assert policy.max_age_seconds == 5
    assert policy.max_events == FlushPolicy().max_events
    assert policy.budget_seconds == pytest.approx(0.15)
