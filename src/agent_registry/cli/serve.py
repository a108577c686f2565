"""``agentreg serve``: the Slack interaction endpoint, over HTTP or Socket Mode.

HTTP mode listens at Bolt's conventional path ``/slack/events`` (the app's
Interactivity Request URL) and verifies Slack's signature and timestamp on every
request. Socket Mode opens an outbound WebSocket to Slack instead, so no public
endpoint is needed (a laptop, a private network).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from typing import Annotated, Protocol

import typer
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from agent_registry.cli.errors import CliError
from agent_registry.config import Settings
from agent_registry.policy_loader import load_policy
from agent_registry.slack.app import build_app
from agent_registry.slack.client import make_web_client
from agent_registry.temporal import connect

DEFAULT_PORT = 3000
EVENTS_PATH = "/slack/events"
"""Bolt's conventional path: what Slack's app manifests and docs point at."""

DRAIN_SECONDS = 10.0
"""How long a stopping server waits for acknowledged clicks to finish (longer than a vote)."""

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - Slack (or the proxy in front) must reach the endpoint

logger = logging.getLogger("agent_registry.serve")


def serve(
    port: Annotated[
        int, typer.Option(help="HTTP port for Slack's requests (HTTP mode).")
    ] = DEFAULT_PORT,
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode", help="Connect to Slack over Socket Mode; no public endpoint."
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on (HTTP mode).")] = ALL_INTERFACES,
) -> None:
    """Run the Slack app reviewers click in, until Ctrl-C or SIGTERM."""
    settings = Settings()
    require_slack_settings(settings, socket_mode=socket_mode)
    # Fail at start, not at the first click, when the policy file is broken.
    load_policy(settings.policy)
    # A long-running service: its log is where every click's outcome is kept.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run_server(settings, host=host, port=port, socket_mode=socket_mode))


def require_slack_settings(settings: Settings, *, socket_mode: bool) -> None:
    """Refuse to start without what the chosen mode needs, naming the variable to set.

    Raises:
        CliError: One line naming the missing environment variable.
    """
    if not _present(settings.slack_bot_token):
        raise CliError(
            "no Slack bot token: set SLACK_BOT_TOKEN (or AGENT_REGISTRY_SLACK_BOT_TOKEN) "
            "to the app's xoxb- token"
        )
    if socket_mode and not _present(settings.slack_app_token):
        raise CliError(
            "Socket Mode needs an app-level token: set SLACK_APP_TOKEN "
            "(or AGENT_REGISTRY_SLACK_APP_TOKEN) to an xapp- token with connections:write"
        )
    if not socket_mode and not _present(settings.slack_signing_secret):
        raise CliError(
            "HTTP mode needs the app's signing secret to verify Slack's requests: set "
            "SLACK_SIGNING_SECRET (or AGENT_REGISTRY_SLACK_SIGNING_SECRET), or use --socket-mode"
        )


def _present(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())


async def start_http(app: AsyncApp, *, host: str, port: int) -> web.AppRunner:
    """Serve ``app`` at ``/slack/events`` on ``host:port`` until the runner is cleaned up.

    Args:
        app: The Bolt app.
        host: Interface to bind.
        port: Port to bind; 0 picks a free one (read it from ``runner.addresses``).

    Returns:
        The started runner; ``await runner.cleanup()`` stops it.
    """
    web_app = app.server(port=port, path=EVENTS_PATH, host=host).web_app
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


async def run_server(settings: Settings, *, host: str, port: int, socket_mode: bool) -> None:
    """Connect to Temporal and Slack and handle interactions until SIGINT or SIGTERM.

    Args:
        settings: Slack credentials, the API URL and the policy path.
        host: Interface to bind (HTTP mode).
        port: Port to bind (HTTP mode).
        socket_mode: Use Socket Mode instead of HTTP.
    """
    web_client = make_web_client(settings)
    if web_client is None:  # require_slack_settings ran first; kept for direct callers
        raise CliError("no Slack bot token: set SLACK_BOT_TOKEN")
    temporal_client = await connect()
    app = build_app(
        settings=settings,
        temporal=temporal_client,
        # Read at each click, so an edited policy applies without a restart.
        policy_loader=functools.partial(load_policy, settings.policy),
        web_client=web_client,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if socket_mode:
        await _run_socket_mode(app, settings=settings, web_client=web_client, stop=stop)
    else:
        runner = await start_http(app, host=host, port=port)
        try:
            logger.info("slack app listening on http://%s:%d%s", host, port, EVENTS_PATH)
            await stop.wait()
            logger.info("shutting down the slack app")
        finally:
            await runner.cleanup()
    await _drain()


async def _drain() -> None:
    """Let clicks already acknowledged finish their vote before the loop closes.

    Bolt acknowledges first and runs the listener in a task of its own; leaving now
    would cancel a vote the reviewer was told nothing about.
    """
    current = asyncio.current_task()
    pending = {task for task in asyncio.all_tasks() if task is not current and not task.done()}
    if not pending:
        return
    _, unfinished = await asyncio.wait(pending, timeout=DRAIN_SECONDS)
    if unfinished:
        logger.warning("stopping with %d interaction(s) unfinished", len(unfinished))


class _SocketConnection(Protocol):
    async def connect_async(self) -> None: ...

    async def close_async(self) -> None: ...


async def _run_socket_mode(
    app: AsyncApp, *, settings: Settings, web_client: AsyncWebClient, stop: asyncio.Event
) -> None:
    app_token = settings.slack_app_token
    assert app_token is not None  # checked by require_slack_settings
    # The adapter's methods are untyped; the protocol states what is used of them.
    handler: _SocketConnection = AsyncSocketModeHandler(
        app, app_token=app_token.get_secret_value().strip(), web_client=web_client
    )
    await handler.connect_async()
    try:
        logger.info("slack app connected over socket mode")
        await stop.wait()
        logger.info("shutting down the slack app")
    finally:
        await handler.close_async()
