"""make_web_client: no token means no Slack; with one, Slack's faults are retried."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError

from agent_registry.config import Settings
from agent_registry.slack.client import RATE_LIMIT_RETRIES, make_web_client
from tests.slack_double import DEFAULT_TOKEN, SlackDouble
from tests.support import make_settings

SECRET_TOKEN = "xoxb-1234-do-not-log-me"


def _settings(
    tmp_path: Path, *, token: str | None, api_url: str = "https://slack.com/api/"
) -> Settings:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(token) if token is not None else None,
            "slack_api_url": api_url,
        }
    )


def test_no_token_means_no_client(tmp_path: Path) -> None:
    assert make_web_client(_settings(tmp_path, token=None)) is None
    assert make_web_client(_settings(tmp_path, token="  ")) is None


async def test_a_429_storm_ends_in_one_message(tmp_path: Path) -> None:
    async with SlackDouble() as double:
        client = make_web_client(_settings(tmp_path, token=DEFAULT_TOKEN, api_url=double.base_url))
        assert client is not None
        double.rate_limit("chat.postMessage", times=3, retry_after=1)
        posted = await client.chat_postMessage(channel="#agent-registry-reviews", text="review")

    assert [c.status for c in double.calls_to("chat.postMessage")] == [429, 429, 429, 200]
    assert [m.ts for m in double.messages_in("#agent-registry-reviews")] == [posted["ts"]]


async def test_rate_limits_beyond_the_retry_budget_surface_as_ratelimited(
    tmp_path: Path,
) -> None:
    async with SlackDouble() as double:
        client = make_web_client(_settings(tmp_path, token=DEFAULT_TOKEN, api_url=double.base_url))
        assert client is not None
        double.rate_limit("users.info", times=RATE_LIMIT_RETRIES + 1, retry_after=0)
        with pytest.raises(SlackApiError) as raised:
            await client.users_info(user="U0ANY")

    assert raised.value.response["error"] == "ratelimited"
    assert len(double.calls_to("users.info")) == RATE_LIMIT_RETRIES + 1


async def test_a_dropped_connection_and_a_server_error_are_retried(tmp_path: Path) -> None:
    async with SlackDouble() as double:
        client = make_web_client(_settings(tmp_path, token=DEFAULT_TOKEN, api_url=double.base_url))
        assert client is not None
        double.disconnect("chat.postMessage", times=1)
        posted = await client.chat_postMessage(channel="#agent-registry-reviews", text="review")
        double.server_error("chat.update", times=1)
        await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="decided")

    assert [c.status for c in double.calls_to("chat.postMessage")] == [0, 200]
    assert [c.status for c in double.calls_to("chat.update")] == [500, 200]
    [message] = double.messages_in("#agent-registry-reviews")
    assert message.text == "decided"


async def test_the_token_never_reaches_repr_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with SlackDouble(token=SECRET_TOKEN) as double:
        settings = _settings(tmp_path, token=SECRET_TOKEN, api_url=double.base_url)
        client = make_web_client(settings)
        assert client is not None
        double.rate_limit("chat.postMessage", times=1, retry_after=0)
        await client.chat_postMessage(channel="#agent-registry-reviews", text="review")

    assert SECRET_TOKEN not in repr(client)
    assert SECRET_TOKEN not in repr(settings) and SECRET_TOKEN not in str(settings)
    assert caplog.records, "the client logs at debug level; the check would be vacuous"
    assert all(SECRET_TOKEN not in record.getMessage() for record in caplog.records)
