"""Structured logs: the JSON format, and the lifecycle context on every line."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from agent_registry.lifecycle.stages import Stage
from agent_registry.logs import JsonFormatter, asset_ref_of, lifecycle_context, make_handler
from tests.support import (
    approve_until_published,
    copy_example,
    make_settings,
    running_worker,
    submit_path,
    wait_for_stage,
)

LEAKED_KEY = "AKIAZ7Q3P4LMN2X5RT8W"
"""The access key the failing example carries; no log line may repeat it."""


def _record(message: str = "hello %s", *args: object, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord(
        "agent_registry.test", logging.INFO, __file__, 1, message, args, None
    )
    record.__dict__.update(extra)
    return record


def test_a_line_is_one_json_object_with_time_level_logger_and_message() -> None:
    line = JsonFormatter().format(_record("hello %s", "world"))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry.keys() == {"time", "level", "logger", "message"}
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "INFO",
        "agent_registry.test",
        "hello world",
    )
    assert entry["time"].endswith("+00:00") and "T" in entry["time"]


def test_the_sdk_context_becomes_workflow_id_and_asset_ref() -> None:
    activity = {
        "activity_type": "send_notice",
        "workflow_id": "asset/mcp-server/io.github.acme/tickets/1.2.0",
        "workflow_run_id": "run-1",
        "task_queue": "agent-registry",
    }
    workflow = {"workflow_id": "asset/skill/pdf-tables/0.1.0", "run_id": "run-2"}

    in_activity = json.loads(JsonFormatter().format(_record(temporal_activity=activity)))
    in_workflow = json.loads(JsonFormatter().format(_record(temporal_workflow=workflow)))

    assert in_activity["workflow_id"] == "asset/mcp-server/io.github.acme/tickets/1.2.0"
    assert in_activity["asset_ref"] == "mcp-server/io.github.acme/tickets@1.2.0"
    assert (in_activity["run_id"], in_activity["activity"]) == ("run-1", "send_notice")
    assert "task_queue" not in in_activity
    assert in_workflow["asset_ref"] == "skill/pdf-tables@0.1.0"
    assert in_workflow["run_id"] == "run-2"


def test_other_extras_and_exceptions() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed", token="xoxb-secret")
        record.exc_info = sys.exc_info()

    entry = json.loads(JsonFormatter().format(record))

    assert "xoxb-secret" not in json.dumps(entry)
    assert "ValueError: boom" in entry["exception"]


def test_asset_refs_of_workflow_ids() -> None:
    assert asset_ref_of("asset/subagent/code-reviewer/1.0.0") == "subagent/code-reviewer@1.0.0"
    assert asset_ref_of("asset/mcp-server/io.github.acme/tickets/2.0.0-rc.1") == (
        "mcp-server/io.github.acme/tickets@2.0.0-rc.1"
    )
    assert asset_ref_of("asset/skill") is None
    assert asset_ref_of("something-else/a/b/c") is None
    assert lifecycle_context(_record(temporal_workflow={"workflow_id": "other"})) == {
        "workflow_id": "other"
    }


def test_the_text_format_stays_plain() -> None:
    stream = io.StringIO()
    handler = make_handler("text", stream)
    handler.handle(_record("plain %s", "words"))

    assert stream.getvalue().rstrip().endswith("INFO agent_registry.test plain words")


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above, as the JSON handler writes it."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_lifecycle_log_lines_carry_the_workflow_id_and_asset_ref(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sqlite_url)
    client = dev_env.client
    with json_logs() as stream:
        async with running_worker(client, settings, sqlite_engine):
            handle = await submit_path(
                client, settings, copy_example("skills/release-notes", tmp_path)
            )
            published = await wait_for_stage(
                await approve_until_published(client, handle), Stage.PUBLISHED
            )
            failing = await submit_path(
                client, settings, copy_example("failing/leaky-deploy-helper", tmp_path)
            )
            failed = await wait_for_stage(failing, Stage.EVAL_FAILED)

    text = stream.getvalue()
    entries = [json.loads(line) for line in text.splitlines()]
    assert LEAKED_KEY not in text
    for status in (published, failed):
        notices = [
            e
            for e in entries
            if e["logger"] == "activities.notices" and str(status.ref) in e["message"]
        ]
        assert notices, f"no notice logged for {status.ref}"
        for entry in notices:
            assert entry["workflow_id"] == status.ref.workflow_id
            assert entry["asset_ref"] == str(status.ref)
            assert entry["activity"] == "send_notice"
    assert {"time", "level", "logger", "message"} <= entries[0].keys()
