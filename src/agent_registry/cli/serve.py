"""``agentreg serve``: the registry's web server, and Slack's interaction endpoint.

Always served over HTTP on ``--host``/``--port``, reading the registry database: the
read-only catalog API under ``/api/v1``, ``/healthz``, ``/openapi.json`` and the org
dashboard at ``/`` and ``/dashboard``. Slack's interactions come in one of two ways:

- HTTP mode (the default): at Bolt's conventional path ``/slack/events`` (the app's
  Interactivity Request URL), verifying Slack's signature and timestamp on every
  request. Mounted when both the bot token and the signing secret are set; with
  neither, the server runs without it and says so in one log line (a registry may be
  browsed before, or without, a Slack app). With only one of the two it refuses to
  start: half a Slack configuration is a mistake to point out, not to run with.
- Socket Mode (``--socket-mode``): an outbound WebSocket to Slack, so no public endpoint
  is needed (a laptop, a private network). It needs the bot token and an app-level
  token, and refuses to start without them, as asking for it means Slack is wanted.

The API reads the database alone. Temporal is connected to for Slack (when on) and, in
the background, to describe the task queue for ``/metrics``
(:mod:`agent_registry.server_metrics`); a Temporal that cannot be reached leaves the
API, the dashboard and the metrics served, with ``agent_registry_task_queue_up`` at 0.

Every write (submit, revise, vote, attest, deprecate) comes through this server's write
routes (:mod:`agent_registry.api.writes`), which connect to Temporal on the first write:
the caller is identified first (:mod:`agent_registry.identity`), by an OIDC bearer token
in ``oidc`` identity mode, or, in ``local`` mode (the embedded default), by ``--as``
from loopback on trust, in which mode the server listens on ``127.0.0.1`` and refuses
any other ``--host``.
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
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from agent_registry import server_metrics
from agent_registry.api import mcp_registry, mcp_watches, writes
from agent_registry.api.app import RouteAdder, build_web_app
from agent_registry.api.endpoint import Handler
from agent_registry.api.health import database_check
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.cli.errors import CliError
from agent_registry.config import Settings
from agent_registry.dashboard import routes as dashboard_routes
from agent_registry.identity.audit import DatabaseRefusalLog
from agent_registry.identity.http import install
from agent_registry.identity.server import IdentityConfigError, authenticator_for, check_bind
from agent_registry.logs import configure_logging
from agent_registry.policy.loader import load_policy
from agent_registry.production_keys import missing_production_key
from agent_registry.registry.audit_chain import keyed_engine
from agent_registry.registry.audit_key import resolve_audit_key
from agent_registry.registry.db import make_engine
from agent_registry.slack.app import build_app
from agent_registry.slack.client import make_web_client
from agent_registry.temporal import connect
from agent_registry.wire.paths import API_PREFIX, OPENAPI_PATH, SLACK_EVENTS_PATH

DEFAULT_PORT = 3000
EVENTS_PATH = SLACK_EVENTS_PATH
"""Bolt's conventional path: what Slack's app manifests and docs point at."""

DRAIN_SECONDS = 10.0
"""How long a stopping server waits for acknowledged clicks to finish (longer than a vote)."""

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - Slack (or the proxy in front) must reach the endpoint
LOOPBACK = "127.0.0.1"
"""Where local identity mode listens: it takes ``--as`` on trust, so this machine only."""

SITE_ROUTES: tuple[RouteAdder, ...] = (
    dashboard_routes.add_routes,
    mcp_registry.add_routes,
    server_metrics.add_routes,
)
"""Routes served besides the API, health, OpenAPI and Slack: add a module's here."""

SLACK_OFF = (
    "slack endpoint off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set, so review "
    "clicks are not taken here; serving the API and dashboard only"
)

logger = logging.getLogger("agent_registry.serve")


def serve(
    port: Annotated[
        int, typer.Option(help="HTTP port for the API, the dashboard and Slack's requests.")
    ] = DEFAULT_PORT,
    socket_mode: Annotated[
        bool,
        typer.Option(
            "--socket-mode", help="Connect to Slack over Socket Mode; no public endpoint."
        ),
    ] = False,
    host: Annotated[
        str | None,
        typer.Option(
            help="Interface to listen on (default: 127.0.0.1 in local identity mode, "
            "all interfaces in oidc mode)."
        ),
    ] = None,
) -> None:
    """Serve the catalog API, the dashboard and (when configured) the Slack app.

    Runs until Ctrl-C or SIGTERM. Without Slack credentials, the API and dashboard are
    served alone.
    """
    settings = Settings()
    host = host or (LOOPBACK if settings.identity_mode == "local" else ALL_INTERFACES)
    try:
        check_bind(settings, host)
        authenticator_for(settings)
    except IdentityConfigError as error:
        raise CliError(str(error)) from None
    refusal = missing_production_key(settings, who="server")
    if refusal is not None:
        raise CliError(refusal)
    slack_configured(settings, socket_mode=socket_mode)
    # Fail at start, not at the first click or report, when the policy file is broken.
    load_policy(settings.policy)
    # A long-running service: its log is where every click's outcome is kept.
    configure_logging(settings.log_format)
    asyncio.run(run_server(settings, host=host, port=port, socket_mode=socket_mode))


def slack_configured(settings: Settings, *, socket_mode: bool) -> bool:
    """Whether the Slack endpoint is on; refuse a half configuration, naming what to set.

    Args:
        settings: The server's settings.
        socket_mode: Whether Socket Mode was asked for.

    Returns:
        True when Slack is to be served; False in HTTP mode with neither the bot token
        nor the signing secret set.

    Raises:
        CliError: One line naming the environment variable to set: Socket Mode without
            its tokens, or HTTP mode with only one of the bot token and signing secret.
    """
    token = _present(settings.slack_bot_token)
    if socket_mode:
        if not token:
            raise CliError(
                "Socket Mode needs the bot token: set SLACK_BOT_TOKEN "
                "(or AGENT_REGISTRY_SLACK_BOT_TOKEN) to the app's xoxb- token"
            )
        if not _present(settings.slack_app_token):
            raise CliError(
                "Socket Mode needs an app-level token: set SLACK_APP_TOKEN "
                "(or AGENT_REGISTRY_SLACK_APP_TOKEN) to an xapp- token with connections:write"
            )
        return True
    secret = _present(settings.slack_signing_secret)
    if token and not secret:
        raise CliError(
            "HTTP mode needs the app's signing secret to verify Slack's requests: set "
            "SLACK_SIGNING_SECRET (or AGENT_REGISTRY_SLACK_SIGNING_SECRET), use "
            "--socket-mode, or unset SLACK_BOT_TOKEN to serve without Slack"
        )
    if secret and not token:
        raise CliError(
            "a signing secret is set but no Slack bot token: set SLACK_BOT_TOKEN "
            "(or AGENT_REGISTRY_SLACK_BOT_TOKEN) to the app's xoxb- token, or unset "
            "SLACK_SIGNING_SECRET to serve without Slack"
        )
    return token


def _present(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())


def slack_handler(app: AsyncApp) -> Handler:
    """An aiohttp handler that hands Slack's requests to the Bolt app.

    Bolt verifies the signature and timestamp itself (401 otherwise), acknowledges, and
    runs the listener in a task of its own.
    """

    async def handle(request: web.Request) -> web.StreamResponse:
        # Bolt parses the body before it verifies the signature, and its verifier reads
        # the timestamp with int(): refuse what would crash either (a 500 and a
        # traceback for an unsigned request), and log it, since Bolt cannot.
        try:
            bolt_request = await to_bolt_request(request)
        except web.HTTPRequestEntityTooLarge:
            logger.warning(
                "slack request to %s refused: body too large (%s bytes)",
                request.path,
                request.content_length if request.content_length is not None else "unknown",
            )
            raise
        except Exception as error:  # any body Bolt cannot read is refused alike
            logger.warning(
                "slack request to %s refused: unreadable body (%s)",
                request.path,
                type(error).__name__,
            )
            return web.json_response({"error": "invalid request"}, status=400)
        if not _readable_timestamp(request.headers.get("X-Slack-Request-Timestamp")):
            logger.warning("slack request to %s refused: invalid request timestamp", request.path)
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            response = await app.async_dispatch(bolt_request)
        except (LookupError, TypeError, AttributeError, ValueError) as error:
            # Bolt indexes the payload while dispatching (actions[0], view[...]): a
            # payload missing what its type promises is refused, not a server error.
            logger.warning(
                "slack request to %s refused: malformed payload (%s)",
                request.path,
                type(error).__name__,
            )
            return web.json_response({"error": "invalid request"}, status=400)
        return await to_aiohttp_response(response)

    return handle


def _readable_timestamp(stamp: str | None) -> bool:
    """Whether Bolt's verifier can read the timestamp header (absent is its own refusal)."""
    if stamp is None:
        return True
    try:
        int(stamp)
    except ValueError:
        return False
    return True


async def start_site(web_app: web.Application, *, host: str, port: int) -> web.AppRunner:
    """Serve ``web_app`` on ``host:port`` until the runner is cleaned up.

    Args:
        web_app: The application.
        host: Interface to bind.
        port: Port to bind; 0 picks a free one (read it from ``runner.addresses``).

    Returns:
        The started runner; ``await runner.cleanup()`` stops it.
    """
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner


async def start_http(app: AsyncApp, *, host: str, port: int) -> web.AppRunner:
    """Serve the Bolt app alone at ``/slack/events`` on ``host:port``.

    For tests and embeddings that want Slack's endpoint without the catalog.

    Args:
        app: The Bolt app.
        host: Interface to bind.
        port: Port to bind; 0 picks a free one (read it from ``runner.addresses``).

    Returns:
        The started runner; ``await runner.cleanup()`` stops it.
    """
    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, slack_handler(app))
    return await start_site(web_app, host=host, port=port)


async def run_server(settings: Settings, *, host: str, port: int, socket_mode: bool) -> None:
    """Serve the API (and Slack, when configured) until SIGINT or SIGTERM.

    Args:
        settings: Database, Slack credentials and the policy path.
        host: Interface to bind.
        port: Port to bind.
        socket_mode: Take Slack's interactions over Socket Mode instead of HTTP.
    """
    slack_on = slack_configured(settings, socket_mode=socket_mode)
    try:
        audit_key = resolve_audit_key(settings.audit_key, settings.data_dir)
    except ValueError as error:
        raise CliError(str(error)) from None
    # The server appends refusals to the audit chain: keyed as the worker's rows are.
    engine = keyed_engine(make_engine(settings.resolved_database_url), audit_key)
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        refusals = DatabaseRefusalLog(engine)
        bolt = await _bolt_app(settings, refusals) if slack_on else None
        web_app = build_web_app(
            settings,
            DatabaseCatalog(
                engine, policy=load_policy(settings.policy), limits=settings.bundle_limits
            ),
            slack_handler=slack_handler(bolt[0]) if bolt and not socket_mode else None,
            health_check=database_check(engine),
            extra_routes=SITE_ROUTES,
        )
        add_identity(web_app, settings, engine)
        runner = await start_site(web_app, host=host, port=port)
        queue_watch = asyncio.create_task(
            server_metrics.watch_task_queue(
                web_app[server_metrics.SERVER_METRICS],
                connect,
                task_queue=settings.task_queue,
                stop=stop,
            )
        )
        try:
            logger.info(
                "registry api listening on http://%s:%d%s (document at %s)",
                host,
                port,
                API_PREFIX,
                OPENAPI_PATH,
            )
            if bolt is None:
                logger.info(SLACK_OFF)
                await stop.wait()
            elif socket_mode:
                await _run_socket_mode(bolt[0], settings=settings, web_client=bolt[1], stop=stop)
            else:
                logger.info("slack app listening on http://%s:%d%s", host, port, EVENTS_PATH)
                await stop.wait()
            logger.info("shutting down the registry server")
        finally:
            queue_watch.cancel()
            await runner.cleanup()
        await _drain()
    finally:
        engine.dispose()


def add_identity(web_app: web.Application, settings: Settings, engine: Engine) -> None:
    """The front door for writes: the identity mode, the refusal log, the write routes."""
    install(web_app, authenticator_for(settings), DatabaseRefusalLog(engine))
    writes.add_routes(web_app)
    mcp_watches.add_routes(web_app)
    if settings.identity_mode == "local":
        logger.warning(
            "identity mode is local: --as is taken on trust from this machine and every "
            "reply says the identity is unverified"
        )


async def _bolt_app(
    settings: Settings, refusals: DatabaseRefusalLog
) -> tuple[AsyncApp, AsyncWebClient]:
    """The Bolt app with its Temporal client and Slack Web API client."""
    web_client = make_web_client(settings)
    if web_client is None:  # slack_configured checked the token; kept for direct callers
        raise CliError("no Slack bot token: set SLACK_BOT_TOKEN")
    temporal_client = await connect()
    app = build_app(
        settings=settings,
        temporal=temporal_client,
        # Read at each click, so an edited policy applies without a restart.
        policy_loader=functools.partial(load_policy, settings.policy),
        web_client=web_client,
        refusals=refusals,
    )
    return app, web_client


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
    assert app_token is not None  # checked by slack_configured
    # The adapter's methods are untyped; the protocol states what is used of them.
    handler: _SocketConnection = AsyncSocketModeHandler(
        app, app_token=app_token.get_secret_value().strip(), web_client=web_client
    )
    await handler.connect_async()
    try:
        logger.info("slack app connected over socket mode")
        await stop.wait()
    finally:
        await handler.close_async()
