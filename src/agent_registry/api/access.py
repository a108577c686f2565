"""Only what is installable is public: who may read a version or bundle that is not.

Versions that are published, re-certifying or deprecated (and their bundles) are served
to anyone. Everything else (a version in review, one the eval bar blocked, a rejected
or retired one, a bundle staged and never claimed) is served only to a signed-in
principal who submitted or wrote it, voted on it, or is in one of the policy's review
groups; anyone else gets the same 404 as for something that does not exist, so the
answer does not confirm it is there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from aiohttp import web

from agent_registry.api.context import CATALOG, SETTINGS
from agent_registry.api.errors import ApiError
from agent_registry.assets.refs import AssetRef
from agent_registry.identity.http import require_principal
from agent_registry.lifecycle.stages import INSTALLABLE
from agent_registry.policy.loader import PolicyError, load_policy
from agent_registry.registry.store.holders import Holder
from agent_registry.vocabulary.principal import Principal

logger = logging.getLogger(__name__)

PUBLIC_STAGES = frozenset(stage.value for stage in INSTALLABLE)
"""The installable stages: what may be served to anyone."""

REVIEW_GROUPS = ("reviewers", "security", "platform")
"""Policy groups whose members may read any version under review."""


@runtime_checkable
class HolderSource(Protocol):
    """A catalog that can say whose a version or a bundle is (the database catalog)."""

    def holders_of_content(self, content_hash: str) -> list[Holder]:
        """Every version with this content."""
        ...

    def holder_of_version(self, ref: AssetRef) -> Holder | None:
        """One version, or None."""
        ...


async def require_bundle_reader(request: web.Request, content_hash: str) -> bool:
    """Let the request read the bundle ``content_hash``, or raise 401/403/404.

    Returns:
        Whether the bundle is public (so shared caches may keep it).
    """
    catalog = request.app[CATALOG]
    if not isinstance(catalog, HolderSource):
        return True  # a catalog that cannot tell serves only what it was built to serve
    holders = await asyncio.to_thread(catalog.holders_of_content, content_hash)
    if any(holder.stage in PUBLIC_STAGES for holder in holders):
        return True
    await _require_one_of(request, holders, what=f"no bundle with content hash {content_hash}")
    return False


async def require_version_reader(request: web.Request, ref: AssetRef) -> None:
    """Let the request read the details of ``ref``, or raise 401/403/404."""
    catalog = request.app[CATALOG]
    if not isinstance(catalog, HolderSource):
        return
    holder = await asyncio.to_thread(catalog.holder_of_version, ref)
    if holder is None or holder.stage in PUBLIC_STAGES:
        return  # not there: the catalog answers its own 404
    await _require_one_of(request, [holder], what=f"{ref} is not in the registry")


async def _require_one_of(request: web.Request, holders: Sequence[Holder], *, what: str) -> None:
    principal = await require_principal(request)
    if any(principal.email in holder.people for holder in holders) or _reviewer(request, principal):
        return
    raise ApiError(404, what)


def _reviewer(request: web.Request, principal: Principal) -> bool:
    try:
        policy = load_policy(request.app[SETTINGS].policy)
    except PolicyError as error:
        # Without a readable policy no one is a reviewer; the others named still see.
        logger.warning("cannot read the policy to check review groups: %s", error)
        return False
    return any(
        group in policy.groups
        and "*" not in policy.groups[group]
        and policy.is_member(principal.email, group, verified_groups=principal.groups)
        for group in REVIEW_GROUPS
    )
