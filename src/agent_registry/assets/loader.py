"""From a path on disk (or a stored bundle) to a parsed asset and its registry metadata.

:func:`load_path` is what ``agentreg`` runs on a submitter's machine; :func:`parse_asset`
is the pure part that workers also run on bundles read back from storage, so it never
touches the filesystem and never raises for what is in the files: it records problems.
This module decides the kind and orchestrates; each kind's parsing is
:mod:`agent_registry.assets.kinds`, sidecars are :mod:`agent_registry.assets.sidecar`.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent_registry.assets.bundle import SIDECAR_NAME, SIDECAR_NAMES, Bundle, BundleLimits
from agent_registry.assets.bundle_reader import read_bundle
from agent_registry.assets.errors import ProblemsError
from agent_registry.assets.kinds import (
    SERVER_FILE,
    SKILL_FILE,
    parse_mcp_server,
    parse_skill,
    parse_subagent,
)
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.assets.safe_files import describe_mode
from agent_registry.assets.sidecar import SIDECAR_SUFFIX, read_sidecar
from agent_registry.vocabulary.findings import Finding, Severity

_KIND_SHAPES = (
    "a skill is a folder holding SKILL.md; "
    "a subagent is one .md file with YAML frontmatter; "
    "an MCP server is a folder holding server.json and scope.yaml"
)


class AssetLoadError(ProblemsError):
    """Raised when a path cannot be loaded as an asset at all.

    Attributes:
        problems: ``load.*`` findings; every message names the path.
    """


def detect_kind(path: Path) -> AssetKind:
    """Tell which kind of asset a path is, from its shape alone.

    Args:
        path: What the user passed to ``agentreg``.

    Returns:
        The kind.

    Raises:
        AssetLoadError: If the path does not exist or is not shaped like any kind; the
            message says what to submit instead.
    """
    if not os.path.lexists(path):
        raise _load_error("load.not-found", f"{path} does not exist")
    if path.is_dir():
        return _folder_kind(path)
    if path.name == SKILL_FILE:
        raise _load_error(
            "load.submit-folder",
            f"{path} is the SKILL.md of a skill; submit the skill's folder "
            f"({path.parent}), which holds SKILL.md and the files it uses",
        )
    if path.name == SERVER_FILE:
        raise _load_error(
            "load.submit-folder",
            f"{path} is an MCP server.json; submit its folder ({path.parent}), "
            "which holds server.json and scope.yaml",
        )
    if path.name == SIDECAR_NAME or path.name.endswith(SIDECAR_SUFFIX):
        described = (
            path.parent
            if path.name == SIDECAR_NAME
            else path.with_name(path.name.removesuffix(SIDECAR_SUFFIX) + ".md")
        )
        raise _load_error(
            "load.submit-folder",
            f"{path} is a registry sidecar (metadata only); submit the asset it describes "
            f"({described})",
        )
    if os.path.exists(path) and not path.is_file():
        # A FIFO, socket or device: never opened, and named for what it is.
        raise _load_error(
            "load.special-file",
            f"{path} is {describe_mode(os.stat(path).st_mode)}; submit a folder or a file",
        )
    if path.is_file() and path.suffix.lower() == ".md":
        return AssetKind.SUBAGENT
    raise _load_error("load.unknown-kind", f"{path} is not an asset: {_KIND_SHAPES}")


def _folder_kind(path: Path) -> AssetKind:
    has_skill = (path / SKILL_FILE).is_file()
    has_server = (path / SERVER_FILE).is_file()
    if has_skill and has_server:
        raise _load_error(
            "load.ambiguous-kind",
            f"{path} holds both SKILL.md and server.json; "
            "an asset folder is either a skill or an MCP server",
        )
    if has_skill:
        return AssetKind.SKILL
    if has_server:
        return AssetKind.MCP_SERVER
    raise _load_error(
        "load.unknown-kind",
        f"{path} holds neither SKILL.md nor server.json, so it is not an asset folder: "
        f"{_KIND_SHAPES}",
    )


def _load_error(check_id: str, message: str) -> AssetLoadError:
    return AssetLoadError([Finding(check_id=check_id, severity=Severity.BLOCK, message=message)])


def load_path(path: Path, *, limits: BundleLimits) -> ParsedAsset:
    """Read, parse and attach registry metadata to the asset at ``path``.

    Registry metadata in the sidecar overrides what the asset's own format says, because
    the sidecar exists to say what the public format cannot (or says differently).

    Args:
        path: A skill folder, an MCP server folder or a subagent ``.md`` file.
        limits: Bundle caps.

    Returns:
        The parsed asset; content problems are in ``problems``, sidecar ones included.

    Raises:
        AssetLoadError: If the path is not an asset.
        BundleError: If the files cannot be read safely or break the caps.
    """
    kind = detect_kind(path)
    exclude = frozenset() if kind is AssetKind.SUBAGENT else SIDECAR_NAMES
    parsed = parse_asset(read_bundle(path, limits=limits, exclude=exclude), kind)
    sidecar, problems = read_sidecar(path)
    overrides = {name: value for name, value in sidecar if value is not None}
    parsed.registry_metadata = parsed.registry_metadata.model_copy(update=overrides)
    parsed.problems.extend(problems)
    return parsed


def parse_asset(bundle: Bundle, kind: AssetKind) -> ParsedAsset:
    """Parse a bundle as an asset of ``kind``, recording every spec problem.

    Pure: no filesystem, so workers can run it on bundles read back from storage.

    Args:
        bundle: The files.
        kind: The asset kind.

    Returns:
        The parsed asset. ``manifest`` is None when the manifest did not validate;
        ``problems`` holds ``spec.*`` findings (severity BLOCK).
    """
    if kind is AssetKind.SKILL:
        return parse_skill(bundle)
    if kind is AssetKind.SUBAGENT:
        return parse_subagent(bundle)
    return parse_mcp_server(bundle)
