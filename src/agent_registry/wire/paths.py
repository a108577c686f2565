"""The API's URL paths, shared by the server's routes and the HTTP client.

Both sides build URLs here so that a route moved on one side cannot silently break the
other. An asset version is addressed exactly as it is written everywhere else,
``kind/name@version``: asset names never contain ``@`` (see
:mod:`agent_registry.assets.refs`), so an MCP server's ``namespace/name`` and a version
cannot be confused, and a ref maps onto a URL with no other rule.
"""

from __future__ import annotations

from urllib.parse import quote

API_PREFIX = "/api/v1"
"""Every JSON route of the catalog lives under this prefix; a breaking change gets v2."""

SEARCH_PATH = f"{API_PREFIX}/search"
ASSETS_PATH = f"{API_PREFIX}/assets"
BUNDLES_PATH = f"{API_PREFIX}/bundles"
INSTALLS_PATH = f"{API_PREFIX}/installs"
USAGE_PATH = f"{API_PREFIX}/usage"
REPORT_PATH = f"{API_PREFIX}/report"
KEYS_PATH = f"{API_PREFIX}/keys"
"""The registry's public signing keys (a keyring), for clients to pin."""
GUARD_SNAPSHOT_PATH = f"{API_PREFIX}/guard/snapshot"
"""The guard's snapshot, signed by the registry."""
HEALTH_PATH = "/healthz"
BUNDLE_MEDIA_TYPE = "application/x-tar"
"""A bundle's canonical archive travels as an uncompressed tar, both ways."""
OPENAPI_PATH = "/openapi.json"
SLACK_EVENTS_PATH = "/slack/events"
"""Bolt's conventional path: what Slack's app manifests and docs point at."""


def asset_path(kind: str, name: str, version: str | None = None) -> str:
    """The path of an asset's latest published version, or of one version.

    The ``/`` in an MCP server's name stays a ``/`` (the server accepts it literally or
    as ``%2F``); anything else that is not URL-safe is percent-encoded.

    Args:
        kind: The asset kind, e.g. ``mcp-server``.
        name: The asset name, e.g. ``io.github.acme/tickets``.
        version: The exact version, or None for the latest published one.

    Returns:
        ``/api/v1/assets/<kind>/<name>`` or ``/api/v1/assets/<kind>/<name>@<version>``.
    """
    path = f"{ASSETS_PATH}/{quote(kind, safe='')}/{quote(name, safe='/')}"
    return path if version is None else f"{path}@{quote(version, safe='')}"


def bundle_path(content_hash: str) -> str:
    """The path of the canonical archive with ``content_hash``."""
    return f"{BUNDLES_PATH}/{quote(content_hash, safe='')}"
