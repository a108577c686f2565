"""What handlers read from the application: the catalog, the settings, the health check.

:func:`~agent_registry.api.app.build_web_app` puts these on the application once;
handlers (the API's and the dashboard's) read them as ``request.app[CATALOG]``, so no
handler builds a database engine or reads the environment itself.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from agent_registry.catalog.models import CatalogSource
from agent_registry.config import Settings

HealthCheck = Callable[[], None]
"""Blocking; returns when the catalog's store answers, raises when it does not."""

CATALOG: web.AppKey[CatalogSource] = web.AppKey("agent_registry.catalog")
"""Where every route reads: the registry database in ``agentreg serve``."""

SETTINGS: web.AppKey[Settings] = web.AppKey("agent_registry.settings")
"""The server's settings (links to the Temporal UI, the policy path)."""

HEALTH_CHECK: web.AppKey[HealthCheck] = web.AppKey("agent_registry.health_check")
"""What ``/healthz`` runs to tell whether the store answers."""
