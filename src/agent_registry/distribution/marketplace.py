"""Exporting the published catalog as a Claude Code plugin marketplace.

The output follows Claude Code's documented formats: the marketplace file
``.claude-plugin/marketplace.json`` with ``name``, ``owner`` and ``plugins``
(https://code.claude.com/docs/en/plugins/marketplace-reference), one plugin per asset
under ``plugins/<plugin>/`` with its ``.claude-plugin/plugin.json`` manifest and the
standard layout (``skills/<name>/``, ``agents/<name>.md``, ``.mcp.json``;
https://code.claude.com/docs/en/plugins/manifest-reference), and relative ``./`` plugin
sources resolved from the marketplace root.

Deprecated assets stay listed, because they may still be installed until they retire.
The marketplace format has no deprecation field, so the listing says it where users
look: the description, the ``displayName`` and a ``deprecated`` tag, with the registry's
details in ``agentreg.json`` beside the plugin's manifest (Claude Code does not read it,
and ``claude plugin validate --strict`` refuses unknown manifest fields such as
``metadata``, so the facts live in a file of their own). Retired assets leave the listing and are
recorded in the documented top-level ``renames`` map: to the plugin of their
replacement, or to ``null`` when nothing replaces them, so Claude Code (v2.1.193 or
later) moves existing users over or tells them the plugin is gone
(https://code.claude.com/docs/en/plugins/host-marketplace#rename-or-remove-a-plugin).

Every bundle is checked against its content hash, and the export is assembled beside
the target and swapped in, so a failed export leaves the previous one as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from agent_registry.assets.bundle import Bundle, BundleLimits
from agent_registry.assets.kinds import parse_mcp_server
from agent_registry.assets.refs import AssetKind, AssetRef, InvalidRefError
from agent_registry.assets.unpack import write_bundle
from agent_registry.catalog.models import (
    MAX_PAGE_SIZE,
    CatalogSource,
    SearchHit,
    SearchQuery,
    VersionDetail,
)
from agent_registry.distribution.bundles import verified_bundle
from agent_registry.distribution.files import atomic_write_text, staging_dir, swap_in_dir
from agent_registry.distribution.listing import every_hit
from agent_registry.distribution.mcp_launch import mcp_launch
from agent_registry.distribution.naming import mcp_server_key
from agent_registry.distribution.plugin_names import plugin_name
from agent_registry.lifecycle.stages import Stage

MARKETPLACE_DIR = ".claude-plugin"
MARKETPLACE_FILE = "marketplace.json"
PLUGINS_DIR = "plugins"
PLUGIN_SERVER_DIR = "server"
"""Folder of a plugin that holds a bundle-shipped MCP server's files."""

DEFAULT_NAME = "agent-registry"
DEFAULT_OWNER = "Agent Registry"
DEPRECATED_TAG = "deprecated"

_INSTALLABLE = frozenset({Stage.PUBLISHED.value, Stage.RECERTIFYING.value, Stage.DEPRECATED.value})
_CATEGORIES = {
    AssetKind.SKILL: "skill",
    AssetKind.SUBAGENT: "subagent",
    AssetKind.MCP_SERVER: "mcp-server",
}


@dataclass(frozen=True)
class MarketplaceExport:
    """What an export wrote.

    Attributes:
        path: The marketplace file.
        plugins: Plugin name to the ref it carries, in listing order.
        deprecated: Plugins marked deprecated.
        renames: The ``renames`` map written.
        skipped: Assets left out, each with the reason.
    """

    path: Path
    plugins: dict[str, str]
    deprecated: list[str]
    renames: dict[str, str | None]
    skipped: list[str] = field(default_factory=list)


def export_marketplace(
    catalog: CatalogSource,
    target: Path,
    *,
    limits: BundleLimits,
    name: str = DEFAULT_NAME,
    owner: str = DEFAULT_OWNER,
) -> MarketplaceExport:
    """Write the marketplace of every published asset under ``target``.

    ``target/.claude-plugin`` and ``target/plugins`` are replaced; anything else in
    ``target`` (a README, ``.git``) is left alone.

    Args:
        catalog: The registry.
        target: The marketplace root.
        limits: Caps on each bundle.
        name: The marketplace name users type after ``@``.
        owner: The maintainer shown for the marketplace.

    Returns:
        What was written.

    Raises:
        BundleMismatchError: A bundle is not its version's reviewed content; nothing
            is written.
    """
    target.mkdir(parents=True, exist_ok=True)
    listed: dict[str, str] = {}
    entries: list[dict[str, object]] = []
    deprecated: list[str] = []
    skipped: list[str] = []
    with staging_dir(target / ".agentreg-export") as staged:
        for hit in sorted(_latest_installable(catalog), key=lambda h: (h.kind.value, h.name)):
            plugin = plugin_name(hit.kind, hit.name)
            if plugin in listed:
                skipped.append(
                    f"{hit.ref}: plugin name {plugin} is taken by {listed[plugin]} "
                    "(two MCP servers with the same last name part)"
                )
                continue
            version = catalog.show(hit.ref)
            bundle = verified_bundle(catalog, version, limits=limits)
            _write_plugin(staged / PLUGINS_DIR / plugin, plugin, version, bundle)
            entries.append(_entry(plugin, version))
            listed[plugin] = version.ref
            if version.stage == Stage.DEPRECATED.value:
                deprecated.append(plugin)
        renames = _renames(catalog, listed)
        marketplace: dict[str, object] = {
            "name": name,
            "owner": {"name": owner},
            "description": "Skills, subagents and MCP servers published in the Agent Registry.",
            "plugins": entries,
        }
        if renames:
            marketplace["renames"] = renames
        (staged / MARKETPLACE_DIR).mkdir()
        atomic_write_text(
            staged / MARKETPLACE_DIR / MARKETPLACE_FILE, json.dumps(marketplace, indent=2) + "\n"
        )
        (staged / PLUGINS_DIR).mkdir(exist_ok=True)
        swap_in_dir(staged / MARKETPLACE_DIR, target / MARKETPLACE_DIR)
        swap_in_dir(staged / PLUGINS_DIR, target / PLUGINS_DIR)
    return MarketplaceExport(
        path=target / MARKETPLACE_DIR / MARKETPLACE_FILE,
        plugins=listed,
        deprecated=deprecated,
        renames=renames,
        skipped=skipped,
    )


def _latest_installable(catalog: CatalogSource) -> list[SearchHit]:
    """The newest installable version of each asset (search's default listing)."""
    seen: dict[tuple[AssetKind, str], SearchHit] = {}
    for hit in every_hit(catalog):
        if hit.stage in _INSTALLABLE:
            seen.setdefault((hit.kind, hit.name), hit)
    return list(seen.values())


def _write_plugin(root: Path, plugin: str, version: VersionDetail, bundle: Bundle) -> None:
    """One plugin folder: its manifest and the asset in the standard layout."""
    if version.kind is AssetKind.SKILL:
        _write_files(root / "skills" / version.name, bundle)
    elif version.kind is AssetKind.SUBAGENT:
        (root / "agents").mkdir(parents=True, exist_ok=True)
        (root / "agents" / f"{version.name}.md").write_bytes(bundle.files[0].data)
    else:
        key = mcp_server_key(version.name)
        launch = mcp_launch(
            parse_mcp_server(bundle), bundle_root=f"${{CLAUDE_PLUGIN_ROOT}}/{PLUGIN_SERVER_DIR}"
        )
        if launch.ships_bundle:
            _write_files(root / PLUGIN_SERVER_DIR, bundle)
        root.mkdir(parents=True, exist_ok=True)
        config = {"mcpServers": {key: launch.entry}}
        (root / ".mcp.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    manifest: dict[str, object] = {
        "name": plugin,
        "displayName": _display_name(version),
        "version": version.version,
        "description": _description(version),
        "author": {"name": version.owner_team},
        "keywords": [_CATEGORIES[version.kind], version.owner_team],
    }
    license_name = version.manifest.get("license")
    if isinstance(license_name, str) and license_name.strip():
        manifest["license"] = license_name.strip()
    (root / ".claude-plugin").mkdir(parents=True, exist_ok=True)
    (root / ".claude-plugin" / "plugin.json").write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    (root / REGISTRY_FACTS).write_text(
        json.dumps(_registry_metadata(version), indent=2) + "\n", encoding="utf-8"
    )


def _write_files(folder: Path, bundle: Bundle) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_bundle(bundle, folder)


def _entry(plugin: str, version: VersionDetail) -> dict[str, object]:
    """The marketplace entry; ``version`` stays in ``plugin.json`` only, as documented."""
    tags = [_CATEGORIES[version.kind], version.owner_team]
    if version.risk_tier:
        tags.append(f"risk-{version.risk_tier}")
    if version.stage == Stage.DEPRECATED.value:
        tags.append(DEPRECATED_TAG)
    return {
        "name": plugin,
        "source": f"./{PLUGINS_DIR}/{plugin}",
        "displayName": _display_name(version),
        "description": _description(version),
        "category": _CATEGORIES[version.kind],
        "tags": tags,
    }


def _display_name(version: VersionDetail) -> str:
    deprecated = version.stage == Stage.DEPRECATED.value
    return f"{version.name} (deprecated)" if deprecated else version.name


def _description(version: VersionDetail) -> str:
    """The description, led by the deprecation notice when there is one."""
    text = " ".join(version.description.split())
    if version.stage != Stage.DEPRECATED.value:
        return text
    replacement = _replacement(version)
    use = f"use {replacement}" if replacement else "no replacement named"
    sunset = version.sunset_at or (version.deprecation.sunset_at if version.deprecation else None)
    retires = f"; retires {sunset:%Y-%m-%d}" if sunset else ""
    return f"DEPRECATED ({use}{retires}). {text}"


def _replacement(version: VersionDetail) -> str | None:
    return version.replacement or (version.deprecation.replacement if version.deprecation else None)


REGISTRY_FACTS = "agentreg.json"
"""The registry's facts about a plugin's asset, beside ``.claude-plugin/``."""


def _registry_metadata(version: VersionDetail) -> dict[str, object]:
    """The registry's facts (ref, stage, owner, hash, tier, deprecation) for ``agentreg.json``."""
    facts: dict[str, object] = {
        "ref": version.ref,
        "stage": version.stage,
        "ownerTeam": version.owner_team,
        "contentHash": version.content_hash,
    }
    if version.risk_tier:
        facts["riskTier"] = version.risk_tier
    if version.stage == Stage.DEPRECATED.value:
        sunset = version.sunset_at or (
            version.deprecation.sunset_at if version.deprecation else None
        )
        facts["deprecated"] = {
            "reason": version.deprecation.reason if version.deprecation else None,
            "replacement": _replacement(version),
            "sunsetAt": sunset.isoformat() if sunset else None,
        }
    return facts


def _renames(catalog: CatalogSource, listed: dict[str, str]) -> dict[str, str | None]:
    """Retired assets' plugins mapped to their replacement's listed plugin, or to null.

    Each name maps straight to a listed plugin (following replacements through other
    retired assets), so the map never holds a chain or a cycle for Claude Code to
    reject.
    """
    retired: dict[str, str | None] = {}
    for hit in every_hit(catalog, SearchQuery(limit=MAX_PAGE_SIZE, stage=Stage.RETIRED.value)):
        plugin = plugin_name(hit.kind, hit.name)
        if plugin not in listed and plugin not in retired:
            retired[plugin] = _plugin_of(hit.replacement)
    renames: dict[str, str | None] = {}
    for old, successor in sorted(retired.items()):
        seen = {old}
        while successor is not None and successor not in listed and successor not in seen:
            seen.add(successor)
            successor = retired.get(successor)
        renames[old] = successor if successor in listed else None
    return renames


def _plugin_of(ref: str | None) -> str | None:
    if ref is None:
        return None
    try:
        parsed = AssetRef.parse(ref)
    except InvalidRefError:
        return None
    return plugin_name(parsed.kind, parsed.name)
