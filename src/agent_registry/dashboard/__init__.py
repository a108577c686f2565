"""The org dashboard: one self-contained HTML page for the platform team.

Served by ``agentreg serve`` at ``/`` and ``/dashboard`` from the catalog's
:class:`~agent_registry.catalog.models.OrgReport`. Everything is rendered on the server:
inline CSS, inline SVG charts, no script and nothing fetched from elsewhere, so the page
works on machines that reach no CDN and under a strict Content-Security-Policy.

- :mod:`~agent_registry.dashboard.markup`: escaping and the small HTML pieces;
- :mod:`~agent_registry.dashboard.charts`: bar, daily and sparkline charts as SVG;
- :mod:`~agent_registry.dashboard.sections`: one function per part of the page;
- :mod:`~agent_registry.dashboard.page`: the whole document and its stylesheet;
- :mod:`~agent_registry.dashboard.shared`: the report shared between requests while the
  registry is unchanged;
- :mod:`~agent_registry.dashboard.routes`: the aiohttp routes.

Every version the page lists links to its lifecycle in the Temporal UI, and every list to
the UI's filtered workflow list (:mod:`agent_registry.lifecycle.visibility`); the page reloads
itself every minute with a meta refresh, still without script.
"""
