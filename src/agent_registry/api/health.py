"""``GET /healthz``: whether this server can answer catalog requests right now.

A load balancer or orchestrator asks often and acts on the status alone (200 keep,
503 take out of rotation), so the check is one trivial query with a deadline, and the
reply says what failed without saying where the database is: the cause goes to the log.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import hdrs, web
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent_registry.api.context import HEALTH_CHECK, HealthCheck
from agent_registry.api.endpoint import Content, Endpoint, Reply, add_endpoints, model_reply
from agent_registry.catalog.models import CatalogSource, SearchQuery
from agent_registry.registry.tables import Asset
from agent_registry.wire.limits import HEALTH_TIMEOUT_SECONDS
from agent_registry.wire.paths import HEALTH_PATH
from agent_registry.wire.schemas import Health

logger = logging.getLogger(__name__)

_NO_STORE: dict[str, str] = {hdrs.CACHE_CONTROL: "no-store"}
"""Health is now or never: no cache may answer for the server."""


def database_check(engine: Engine) -> HealthCheck:
    """A check that reads one row id of the registry's ``asset`` table.

    A table rather than ``SELECT 1``: a database that is up but was never migrated
    (``agentreg db upgrade``) cannot answer any catalog request either, and is reported.
    """

    def check() -> None:
        with Session(engine) as session:
            session.exec(select(Asset.id).limit(1)).first()

    return check


def catalog_check(catalog: CatalogSource) -> HealthCheck:
    """A check through the catalog itself: a one-item search, whatever the catalog is."""

    def check() -> None:
        catalog.search(SearchQuery(limit=1))

    return check


async def healthz(request: web.Request) -> web.StreamResponse:
    """200 when the check passes in time, 503 (same shape) when it does not."""
    check = request.app[HEALTH_CHECK]
    try:
        await asyncio.wait_for(asyncio.to_thread(check), timeout=HEALTH_TIMEOUT_SECONDS)
    except TimeoutError:
        logger.warning("health check: the database did not answer in %ss", HEALTH_TIMEOUT_SECONDS)
        problem = f"did not answer within {HEALTH_TIMEOUT_SECONDS:g} seconds"
        return model_reply(
            Health(status="unavailable", database=problem), status=503, headers=_NO_STORE
        )
    except Exception as error:  # any failure of the store is "unavailable", never a 500
        logger.warning("health check: the database failed: %s", error)
        problem = f"unavailable ({type(error).__name__}); the server's log says why"
        return model_reply(
            Health(status="unavailable", database=problem), status=503, headers=_NO_STORE
        )
    return model_reply(Health(status="ok", database="ok"), headers=_NO_STORE)


ENDPOINT = Endpoint(
    "GET",
    HEALTH_PATH,
    HEALTH_PATH,
    healthz,
    "health",
    "Whether the server can answer",
    "Runs one trivial database query with a deadline. For load balancers: act on the "
    "status; the body says what failed.",
    tags=("operations",),
    replies=(
        Reply(200, "The database answered.", Content(Health)),
        Reply(503, "The database did not answer, or not in time.", Content(Health)),
    ),
)


def add_routes(app: web.Application) -> None:
    """Add ``/healthz``; it runs ``app[HEALTH_CHECK]``."""
    add_endpoints(app, [ENDPOINT])
