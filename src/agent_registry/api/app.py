"""The aiohttp application ``agentreg serve`` runs: API, health, OpenAPI, Slack, dashboard.

:func:`build_web_app` is the one place the server's routes are assembled. The JSON API,
``/healthz`` and ``/openapi.json`` are always there; the Slack interaction endpoint
only when the server has a Slack handler (the credentials are configured); anything
else (the dashboard at ``/`` and ``/dashboard``) through ``extra_routes``.

Adding routes: write ``add_routes(app: web.Application) -> None`` in your module and
pass it in ``extra_routes`` (``agentreg serve`` lists them in
:data:`agent_registry.cli.serve.SITE_ROUTES`), or call it on the application this
returns before the server starts. Handlers read the catalog as
``request.app[CATALOG]`` and the settings as ``request.app[SETTINGS]``
(:mod:`agent_registry.api.context`); blocking catalog calls belong in
``asyncio.to_thread`` so that Slack clicks are acknowledged in time. Routes added with
:func:`~agent_registry.api.endpoint.add_endpoints` are listed in ``/openapi.json``;
plain aiohttp routes (HTML pages) are not. Every error reply, on every route, is turned
into the API's JSON error shape by :func:`~agent_registry.api.errors.json_errors`; a
handler that wants another body for an error returns it rather than raising.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web

from agent_registry.api import health, openapi, routes
from agent_registry.api.context import CATALOG, HEALTH_CHECK, SETTINGS, HealthCheck
from agent_registry.api.endpoint import Content, Endpoint, Handler, Reply, add_endpoints
from agent_registry.api.errors import json_errors
from agent_registry.catalog.models import CatalogSource
from agent_registry.config import Settings
from agent_registry.wire.paths import SLACK_EVENTS_PATH

RouteAdder = Callable[[web.Application], None]
"""Adds a module's routes to the application: the dashboard's ``add_routes``."""


def build_web_app(
    settings: Settings,
    catalog: CatalogSource,
    *,
    slack_handler: Handler | None = None,
    health_check: HealthCheck | None = None,
    extra_routes: Iterable[RouteAdder] = (),
) -> web.Application:
    """The server's application, not yet running.

    Args:
        settings: The server's settings, for handlers that need them.
        catalog: Where every route reads (the registry database, in ``agentreg serve``).
        slack_handler: Serves Slack's signed interaction requests at ``/slack/events``;
            None leaves the endpoint out (no Slack credentials, or Socket Mode).
        health_check: What ``/healthz`` runs; by default a one-item search of
            ``catalog``. ``agentreg serve`` passes a direct database query.
        extra_routes: More routes to add, in order, after the built-in ones.

    Returns:
        The application; run it with ``web.AppRunner``.
    """
    app = web.Application(middlewares=[json_errors])
    app[SETTINGS] = settings
    app[CATALOG] = catalog
    app[HEALTH_CHECK] = health_check or health.catalog_check(catalog)
    routes.add_routes(app)
    health.add_routes(app)
    openapi.add_routes(app)
    if slack_handler is not None:
        add_endpoints(app, [_slack_endpoint(slack_handler)])
    for add in extra_routes:
        add(app)
    return app


def _slack_endpoint(handler: Handler) -> Endpoint:
    """Slack's Interactivity Request URL, documented so the document lists every route."""
    return Endpoint(
        "POST",
        SLACK_EVENTS_PATH,
        SLACK_EVENTS_PATH,
        handler,
        "slackInteraction",
        "Slack interactions (Slack calls this, not clients)",
        "Button clicks and modal submissions, signed by Slack with the app's signing "
        "secret; a request without a valid, fresh signature is refused with 401.",
        tags=("slack",),
        body=Content(
            media_type="application/x-www-form-urlencoded",
            schema={"type": "object", "properties": {"payload": {"type": "string"}}},
        ),
        replies=(
            Reply(200, "Acknowledged; the click is handled after the reply."),
            Reply(401, "The signature or its timestamp is invalid."),
        ),
        strict_query=False,
    )
