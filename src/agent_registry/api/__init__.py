"""The registry's read-only JSON API, served by ``agentreg serve`` under ``/api/v1``.

Asset state changes only through the lifecycle workflows, so the API has no write path
to it; the two POST routes record telemetry (installs and uses), which is not asset
state. Every route reads through a :class:`~agent_registry.catalog.models.CatalogSource`,
so the server neither knows nor cares how the catalog is stored.

One purpose per module:

- :mod:`~agent_registry.api.app`: :func:`~agent_registry.api.app.build_web_app`, the
  aiohttp application ``agentreg serve`` runs (API, health, OpenAPI, Slack, dashboard);
- :mod:`~agent_registry.api.routes`: the ``/api/v1`` routes and their ``add_routes``;
- :mod:`~agent_registry.api.health`: ``/healthz`` and the database check behind it;
- :mod:`~agent_registry.api.openapi`: the OpenAPI 3.1 document, built from the routes;
- :mod:`~agent_registry.api.endpoint`: how a route describes itself (one description
  both registers the handler and documents it, so the two cannot drift);
- :mod:`~agent_registry.api.params` and :mod:`~agent_registry.api.bodies`: reading
  query, path and body input, refusing anything malformed with a 400 naming it;
- :mod:`~agent_registry.api.errors`: the JSON error shape and the middleware that makes
  every failure (including aiohttp's own 404 and 405) take it;
- what the server and :class:`~agent_registry.catalog.http.HttpCatalog` agree on
  (URLs, caps, reply models) is not here but in :mod:`agent_registry.wire`, below both,
  so the client never imports the server's package.

Adding routes (the dashboard does): write ``add_routes(app: web.Application) -> None``
in your module, read the catalog in handlers as ``request.app[CATALOG]`` (see
:mod:`~agent_registry.api.context`), and either list it in ``agentreg serve``'s
:data:`~agent_registry.cli.serve.SITE_ROUTES` (which ``build_web_app(...,
extra_routes=...)`` receives) or call it on the application ``build_web_app`` returned,
before the server starts. Routes registered through
:func:`~agent_registry.api.endpoint.add_endpoints` also appear in ``/openapi.json``.
"""
