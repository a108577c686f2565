"""The guard's local copy of the catalog: which assets may run, and why others may not.

The guard hook runs before every matching tool call, so it cannot ask the registry each
time. It reads this snapshot instead, a small file it refreshes from the registry when
it is older than a few minutes. One entry per asset, with the status of its newest
installable version, the reason and replacement of a retirement, an MCP server's
declared tools, and the digest of the files of every installable version, so a copy on
disk can be told from the published one.

The file sits where the user can write, so it is worth nothing unsigned: it is a DSSE
envelope holding an in-toto statement whose predicate is the snapshot, signed by the
registry (the server signs it at ``GET /api/v1/guard/snapshot``; the registry's own host
signs it with the same key). :func:`read_snapshot` accepts it only when a trusted key's
signature verifies.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from securesystemslib.signer import Signer

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.refs import AssetKind
from agent_registry.catalog.models import MAX_PAGE_SIZE, CatalogSource, SearchQuery, VersionDetail
from agent_registry.distribution.files import atomic_write_text, bundle_digests
from agent_registry.distribution.listing import every_hit
from agent_registry.distribution.local_copy import tree_digest
from agent_registry.distribution.plugin_names import local_name
from agent_registry.lifecycle.stages import Stage
from agent_registry.signing.envelopes import open_statement, sign_statement
from agent_registry.signing.errors import SignatureError
from agent_registry.signing.keys import Keyring

SNAPSHOT_FORMAT = 2
SNAPSHOT_PREDICATE = "https://agent-registry.dev/attestations/guard-snapshot/v1"
SNAPSHOT_FILE = "guard.json"
_INSTALLABLE = frozenset({Stage.PUBLISHED.value, Stage.RECERTIFYING.value, Stage.DEPRECATED.value})

AssetStatus = Literal["live", "deprecated", "retired"]


class GuardAsset(BaseModel):
    """What the guard knows of one asset.

    Attributes:
        kind: Its kind.
        name: Its registry name.
        ref: The version the status comes from.
        status: ``live`` (published or re-certifying), ``deprecated`` or ``retired``.
        reason: Why it was deprecated or retired, when known.
        replacement: What to use instead, when named.
        sunset_at: When a deprecated version retires.
        tools: An MCP server's declared tools, over its installable versions.
        digests: The files digest (:func:`~agent_registry.distribution.local_copy.tree_digest`)
            of each installable version; a copy on disk with another digest is not one.
        single_file: Whether the asset is one file (a subagent).
    """

    kind: AssetKind
    name: str
    ref: str
    status: AssetStatus
    reason: str | None = None
    replacement: str | None = None
    sunset_at: datetime | None = None
    tools: list[str] | None = None
    digests: list[str] = Field(default_factory=list)
    single_file: bool = False

    @property
    def local_name(self) -> str:
        """The name Claude Code knows the asset by."""
        return local_name(self.kind, self.name)


class GuardSnapshot(BaseModel):
    """The whole snapshot file."""

    format: int = SNAPSHOT_FORMAT
    taken_at: datetime
    assets: list[GuardAsset] = Field(default_factory=list)

    def find(self, kind: AssetKind, name: str) -> list[GuardAsset]:
        """Assets Claude Code would call ``name``; several MCP servers may share a key."""
        return [a for a in self.assets if a.kind is kind and a.local_name == name]


def default_snapshot_path(env: Mapping[str, str], home: Path) -> Path:
    """Where the snapshot lives: one per user, shared by every project.

    ``$AGENT_REGISTRY_DATA_DIR/guard.json`` when set, else
    ``$XDG_CACHE_HOME/agent-registry/guard.json``, else
    ``~/.cache/agent-registry/guard.json`` (the same folders the usage hook uses).
    """
    data_dir = env.get("AGENT_REGISTRY_DATA_DIR", "").strip()
    if data_dir:
        return Path(data_dir).expanduser() / SNAPSHOT_FILE
    cache = env.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache) if cache else home / ".cache"
    return base / "agent-registry" / SNAPSHOT_FILE


def sign_snapshot(snapshot: GuardSnapshot, signer: Signer) -> str:
    """The snapshot as the signed envelope the guard stores and trusts."""
    predicate = snapshot.model_dump(mode="json")
    text = json.dumps(predicate, sort_keys=True, separators=(",", ":"))
    return sign_statement(
        subjects={"guard-snapshot": hashlib.sha256(text.encode("utf-8")).hexdigest()},
        predicate_type=SNAPSHOT_PREDICATE,
        predicate=predicate,
        signer=signer,
    )


def open_snapshot(envelope: str | bytes, keyring: Keyring) -> GuardSnapshot:
    """The snapshot inside a signed envelope.

    Raises:
        SignatureError: Not signed by a trusted key, or not a snapshot of this format.
    """
    statement = open_statement(envelope, keyring=keyring, predicate_type=SNAPSHOT_PREDICATE)
    try:
        snapshot = GuardSnapshot.model_validate(statement.get("predicate"))
    except ValidationError as error:
        problems = error.error_count()
        raise SignatureError(f"the signed snapshot is malformed ({problems} problems)") from None
    if snapshot.format != SNAPSHOT_FORMAT:
        raise SignatureError(f"the signed snapshot is format {snapshot.format}")
    return snapshot


def read_snapshot(path: Path, keyring: Keyring) -> tuple[GuardSnapshot | None, str]:
    """The verified snapshot at ``path``, or None and why it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, f"there is no snapshot at {path}"
    except (OSError, UnicodeDecodeError) as error:
        return None, f"the snapshot at {path} cannot be read ({error})"
    try:
        return open_snapshot(text, keyring), ""
    except SignatureError as error:
        return None, f"the snapshot at {path} is refused: {error}"


def save_snapshot(path: Path, envelope: str) -> None:
    """Write the signed snapshot atomically, so a concurrent guard reads an old or a new one."""
    atomic_write_text(path, envelope + "\n")


def take_snapshot(
    catalog: CatalogSource,
    *,
    now: datetime,
    limits: BundleLimits,
    deadline: float | None = None,
) -> GuardSnapshot:
    """Read what the guard needs from the catalog.

    Args:
        catalog: The registry.
        now: When the snapshot is taken.
        limits: Caps on the bundles read for their files digests.
        deadline: A ``time.monotonic()`` instant after which retirement reasons are no
            longer fetched (they only improve a message); everything else is read.

    Returns:
        The snapshot.
    """
    assets: dict[tuple[AssetKind, str], GuardAsset] = {}
    for hit in every_hit(catalog):
        if hit.stage not in _INSTALLABLE or (hit.kind, hit.name) in assets:
            continue
        status: AssetStatus = "deprecated" if hit.stage == Stage.DEPRECATED.value else "live"
        asset = GuardAsset(
            kind=hit.kind,
            name=hit.name,
            ref=hit.ref,
            status=status,
            replacement=hit.replacement,
            sunset_at=hit.sunset_at,
        )
        detail = catalog.show(hit.ref)
        _enrich(catalog, asset, detail)
        _add_digests(catalog, asset, detail, limits)
        assets[(hit.kind, hit.name)] = asset
    for hit in every_hit(catalog, SearchQuery(limit=MAX_PAGE_SIZE, stage=Stage.RETIRED.value)):
        if (hit.kind, hit.name) in assets:
            continue
        retired = GuardAsset(
            kind=hit.kind, name=hit.name, ref=hit.ref, status="retired", replacement=hit.replacement
        )
        if deadline is None or time.monotonic() < deadline:
            _enrich(catalog, retired, catalog.show(retired.ref))
        assets[(hit.kind, hit.name)] = retired
    return GuardSnapshot(taken_at=now, assets=list(assets.values()))


def _add_digests(
    catalog: CatalogSource, asset: GuardAsset, detail: VersionDetail, limits: BundleLimits
) -> None:
    """The files digest of every installable version of the asset, from its bundle."""
    hashes = {detail.content_hash} | {
        other.content_hash for other in detail.other_versions if other.stage in _INSTALLABLE
    }
    digests = set()
    for content_hash in sorted(hashes):
        bundle = bundle_from_archive(catalog.bundle(content_hash), limits=limits)
        asset.single_file = bundle.single_file
        digests.add(tree_digest(bundle_digests(bundle), single_file=bundle.single_file))
    asset.digests = sorted(digests)


def _enrich(catalog: CatalogSource, asset: GuardAsset, detail: VersionDetail) -> None:
    """Add the reason, the replacement and (MCP) the declared tools from ``show``."""
    if detail.deprecation is not None:
        asset.reason = detail.deprecation.reason
        asset.replacement = asset.replacement or detail.deprecation.replacement
    if asset.kind is not AssetKind.MCP_SERVER or asset.status == "retired":
        return
    tools = {tool.name for tool in detail.scope}
    for other in detail.other_versions:
        if other.stage in _INSTALLABLE and other.ref != detail.ref:
            tools.update(tool.name for tool in catalog.show(other.ref).scope)
    asset.tools = sorted(tools)
