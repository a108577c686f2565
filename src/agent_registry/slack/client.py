"""The Slack Web API client every part of the registry uses, with Slack's faults handled.

Slack answers bursts with HTTP 429 and a ``Retry-After`` header, and its edge drops the
odd connection. The client retries both (and a brief 500/503) inside the call, so
callers see either a result or a real error, never a transient one.
"""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from agent_registry.config import Settings

RATE_LIMIT_RETRIES = 5
"""Each wait honours ``Retry-After`` (usually seconds); five covers a burst of posts."""

CONNECTION_RETRIES = 3
"""A dropped connection is usually one bad hop; more retries only delay a real outage."""

SERVER_ERROR_RETRIES = 2
"""Slack's 500/503 are rare and short; a persistent one is better reported than hidden."""


def retry_handlers() -> list[AsyncRetryHandler]:
    """The retry handlers of every client we build: rate limits, connections, 5xx.

    Returns:
        Fresh handler instances (they keep no shared state, but a list per client keeps
        one client's configuration from leaking into another's).
    """
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def make_web_client(settings: Settings) -> AsyncWebClient | None:
    """Build the Slack Web API client, or None when no bot token is configured.

    Without a token the product still works: notices go to the log and reviews go
    through the CLI, so callers treat None as "Slack is off", not as an error.

    Args:
        settings: Supplies the bot token and the API base URL (Slack's own, a staging
            proxy, or a local test double).

    Returns:
        A client that retries 429s (honouring ``Retry-After``), dropped connections
        and brief server errors; None without ``SLACK_BOT_TOKEN``.
    """
    if settings.slack_bot_token is None:
        return None
    token = settings.slack_bot_token.get_secret_value().strip()
    if not token:
        return None
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=retry_handlers(),
    )
