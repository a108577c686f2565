"""What the MCP Registry API (v0.1) fixes: paths, ``_meta`` keys, statuses, page sizes.

The API separates a server's own ``server.json`` (``server``) from what a registry
says about it (``_meta``, keyed by reverse-DNS names). The spec's registry-managed
lifecycle shape lives under :data:`OFFICIAL_META_KEY`: its ``status`` is what clients
read to tell active, deprecated and deleted entries apart, so this registry fills it
with its own lifecycle. Everything the governance adds (content hash, risk tier,
declared scope, deprecation and replacement) goes under :data:`REGISTRY_META_KEY`, a
key of our own, as the spec asks of registry-specific metadata.
"""

from __future__ import annotations

from enum import StrEnum

from agent_registry.lifecycle.stages import Stage

API_PREFIX = "/v0.1"
"""The frozen API version every path starts with."""

SERVERS_PATH = f"{API_PREFIX}/servers"

OFFICIAL_META_KEY = "io.modelcontextprotocol.registry/official"
"""The spec's place for a registry's lifecycle facts (status, dates, isLatest)."""

REGISTRY_META_KEY = "dev.agentregistry/governance"
"""This registry's own reverse-DNS ``_meta`` key: the governed facts of a version."""

DEFAULT_LIMIT = 30
"""Page size when ``limit`` is absent (the official registry's default)."""

MAX_LIMIT = 100
"""Largest page served; a larger ``limit`` is served as this many."""

STATUS_MESSAGE_MAX_CHARS = 500
"""The spec caps ``statusMessage`` at 500 characters."""

LATEST = "latest"
"""The version name that means the latest version of a server."""


class ServerStatus(StrEnum):
    """The spec's lifecycle status of a server version."""

    ACTIVE = "active"
    DEPRECATED = "deprecated"
    DELETED = "deleted"


SERVED_STAGES: dict[Stage, ServerStatus] = {
    Stage.PUBLISHED: ServerStatus.ACTIVE,
    Stage.RECERTIFYING: ServerStatus.ACTIVE,
    Stage.DEPRECATED: ServerStatus.DEPRECATED,
    Stage.RETIRED: ServerStatus.DELETED,
}
"""Stages the API shows and the status each one has. A version under submission or
review is not in the catalog; a retired one is ``deleted``, listed only when the client
asks for deleted entries (or for changes since a time, so that mirrors see it go)."""
