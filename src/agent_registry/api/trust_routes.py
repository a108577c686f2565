"""What clients need to trust the registry: its public keys and the signed guard snapshot.

``GET /api/v1/keys`` serves the keyring (the current signing key and the ones it
replaced), so an administrator can pin it into clients and the managed-settings export;
clients never learn which keys to trust from the same answer they are checking.
``GET /api/v1/guard/snapshot`` serves the guard's snapshot signed with the registry's
key, so a copy a user edits on their disk no longer verifies.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web

from agent_registry.api.context import CATALOG, SETTINGS
from agent_registry.api.endpoint import Content, Endpoint, Reply, error_reply
from agent_registry.api.errors import ApiError
from agent_registry.distribution.snapshot import sign_snapshot, take_snapshot
from agent_registry.signing.errors import SigningKeyError
from agent_registry.signing.trust import registry_signer, trusted_keyring
from agent_registry.wire.paths import GUARD_SNAPSHOT_PATH, KEYS_PATH

_OBJECT = {"type": "object"}


async def keys(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/keys``: the registry's public keys, by key id."""
    try:
        keyring = await asyncio.to_thread(trusted_keyring, request.app[SETTINGS])
    except SigningKeyError as error:
        raise ApiError(503, f"the registry's keys cannot be read: {error}") from None
    return web.json_response(keyring.to_dict())


async def guard_snapshot(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/guard/snapshot``: the guard's snapshot, as a signed DSSE envelope."""
    settings = request.app[SETTINGS]
    try:
        signer = registry_signer(settings)
    except SigningKeyError as error:
        raise ApiError(503, f"the registry's signing key cannot be read: {error}") from None
    if signer is None:
        raise ApiError(
            503,
            "this registry has no signing key (AGENT_REGISTRY_SIGNING_KEY), so it "
            "cannot sign a snapshot",
        )

    def signed() -> str:
        snapshot = take_snapshot(
            request.app[CATALOG], now=datetime.now(UTC), limits=settings.bundle_limits
        )
        return sign_snapshot(snapshot, signer)

    envelope = await asyncio.to_thread(signed)
    return web.Response(text=envelope, content_type="application/json")


TRUST_ENDPOINTS = (
    Endpoint(
        "GET",
        KEYS_PATH,
        KEYS_PATH,
        keys,
        "getKeys",
        "The registry's public signing keys",
        "A keyring: each Ed25519 public key with its key id, the current one and those it "
        "replaced. Pin it into clients (AGENT_REGISTRY_TRUSTED_KEYS); the managed-settings "
        "export embeds it in the guard's command.",
        tags=("trust",),
        replies=(
            Reply(200, "The keyring.", Content(schema=_OBJECT)),
            error_reply(503, "The registry's keys cannot be read."),
        ),
    ),
    Endpoint(
        "GET",
        GUARD_SNAPSHOT_PATH,
        GUARD_SNAPSHOT_PATH,
        guard_snapshot,
        "getGuardSnapshot",
        "The guard's signed snapshot",
        "A DSSE envelope holding an in-toto statement whose predicate is what the guard "
        "decides from: each asset's status, an MCP server's declared tools, and the files "
        "digest of every installable version.",
        tags=("trust",),
        replies=(
            Reply(200, "The signed snapshot.", Content(schema=_OBJECT)),
            error_reply(503, "The registry has no usable signing key."),
        ),
    ),
)
"""The trust routes, added with the catalog's."""
