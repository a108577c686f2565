"""``agentreg serve`` without Slack: the API is served, Slack's endpoint is off, SIGTERM stops it.

Refusals for half a Slack configuration are in tests/slack/test_interactions.py, next to
the Slack endpoint they protect.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent_registry.cli.errors import CliError
from agent_registry.cli.serve import SLACK_OFF, slack_configured
from agent_registry.config import Settings
from agent_registry.registry.db import make_engine, upgrade_database
from tests.api.live import call
from tests.api.seed import seed_registry
from tests.ports import free_port

AGENTREG = str(Path(sys.executable).parent / "agentreg")


def _settings(**secrets: str) -> Settings:
    return Settings(_env_file=None).model_copy(
        update={name: SecretStr(value) for name, value in secrets.items()}
    )


@pytest.mark.parametrize(
    ("secrets", "socket_mode", "expected"),
    [
        ({}, False, False),
        ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}, False, True),
        ({"slack_bot_token": "xoxb-1", "slack_app_token": "xapp-1"}, True, True),
        ({"slack_bot_token": " ", "slack_signing_secret": "  "}, False, False),
        ({"slack_app_token": "xapp-1"}, False, False),
    ],
)
def test_slack_is_on_with_a_whole_configuration_and_off_with_none(
    secrets: dict[str, str], socket_mode: bool, expected: bool
) -> None:
    assert slack_configured(_settings(**secrets), socket_mode=socket_mode) is expected


@pytest.mark.parametrize(
    ("secrets", "socket_mode", "named"),
    [
        ({"slack_bot_token": "xoxb-1"}, False, "SLACK_SIGNING_SECRET"),
        ({"slack_signing_secret": "s"}, False, "SLACK_BOT_TOKEN"),
        ({}, True, "SLACK_BOT_TOKEN"),
        ({"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}, True, "SLACK_APP_TOKEN"),
    ],
)
def test_half_a_slack_configuration_is_refused_naming_what_to_set(
    secrets: dict[str, str], socket_mode: bool, named: str
) -> None:
    with pytest.raises(CliError, match=named):
        slack_configured(_settings(**secrets), socket_mode=socket_mode)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, stderr = process.communicate()
            raise AssertionError(f"agentreg serve exited early: {stderr.decode()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
            continue
        return
    raise AssertionError(f"agentreg serve did not listen on :{port}")


def test_serve_without_slack_serves_the_api_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        seed_registry(engine)
    finally:
        engine.dispose()
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGENT_REGISTRY_", "TEMPORAL_", "SLACK_"))
    }
    # Nothing listens there: the server must not need Temporal without Slack.
    env.update(AGENT_REGISTRY_DATABASE_URL=url, TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")
    process = subprocess.Popen(
        [AGENTREG, "serve", "--port", str(port), "--host", "127.0.0.1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, process)
        base = f"http://127.0.0.1:{port}"
        health = call(base, "GET", "/healthz")
        search = call(base, "GET", "/api/v1/search?q=tickets")
        slack = call(base, "POST", "/slack/events", body=b"payload={}")
        document = call(base, "GET", "/openapi.json")
        dashboard = call(base, "GET", "/")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        _, stderr_bytes = process.communicate(timeout=30)
    stderr = stderr_bytes.decode()

    assert process.returncode == 0, stderr
    assert (health.status, health.json()["status"]) == (200, "ok")
    assert search.status == 200
    assert search.json()["items"][0]["ref"] == "mcp-server/io.github.acme/tickets@1.0.0"
    assert slack.status == 404 and slack.json()["error"]
    assert "/slack/events" not in document.json()["paths"]
    assert (dashboard.status, dashboard.media_type) == (200, "text/html")
    assert stderr.count(SLACK_OFF) == 1
    assert "registry api listening" in stderr
