"""The dashboard's routes on the server's aiohttp application: ``/`` and ``/dashboard``.

Added through :func:`agent_registry.api.app.build_web_app`'s ``extra_routes``. The
report comes from the catalog the application holds, computed in a thread (a handful
of database queries; Slack clicks on the same loop must not wait) and shared for a few
seconds between requests (:mod:`agent_registry.dashboard.shared`).
"""

from __future__ import annotations

import logging

from aiohttp import web

from agent_registry.api.context import SETTINGS
from agent_registry.dashboard.markup import esc
from agent_registry.dashboard.page import CONTENT_SECURITY_POLICY, render_dashboard
from agent_registry.dashboard.shared import SHARED_REPORT, shared_report
from agent_registry.lifecycle.visibility import TemporalConsole, console_for

logger = logging.getLogger(__name__)

DASHBOARD_PATHS = ("/", "/dashboard")

CONSOLE = web.AppKey("temporal_console", TemporalConsole)
"""Where the dashboard's links into the Temporal UI point: read once, when routes are added."""

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Sent with every dashboard reply; the numbers change, and the page needs nothing else."""


def add_routes(app: web.Application) -> None:
    """Serve the dashboard at ``/`` and ``/dashboard`` (GET, and HEAD for probes).

    The Temporal UI's address is the settings' ``ui_url`` (``AGENT_REGISTRY_UI_URL``,
    which ``agentreg up --ui-port`` sets), on the namespace Temporal's own configuration
    names.
    """
    app[CONSOLE] = console_for(app[SETTINGS].ui_url)
    shared_report(app)
    for path in DASHBOARD_PATHS:
        app.router.add_get(path, dashboard)


async def dashboard(request: web.Request) -> web.Response:
    """The org dashboard, computed now; a plain HTML error page if the catalog fails.

    The error page is returned rather than raised, because the server's error middleware
    would turn a raised error into the JSON API's error shape, which is no page to show.
    """
    try:
        report = await request.app[SHARED_REPORT].get()
    except Exception as error:  # any catalog failure is shown, never a bare 500
        logger.exception("dashboard: cannot compute the report")
        return web.Response(
            status=503,
            text=_error_page(f"The registry could not be read: {type(error).__name__}."),
            content_type="text/html",
            charset="utf-8",
            headers=HEADERS,
        )
    return web.Response(
        text=render_dashboard(report, console=request.app[CONSOLE]),
        content_type="text/html",
        charset="utf-8",
        headers=HEADERS,
    )


def _error_page(message: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Agent Registry: dashboard unavailable</title></head><body>"
        f"<h1>Dashboard unavailable</h1><p>{esc(message)}</p>"
        "<p>The server log has the details. Try again shortly.</p></body></html>\n"
    )
