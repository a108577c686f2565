"""From a path on disk (or a stored bundle) to a parsed asset and its registry metadata.

:func:`load_path` is what ``agentreg`` runs on a submitter's machine; :func:`parse_asset`
is the pure part that workers also run on bundles read back from storage, so it never
touches the filesystem and never raises for what is in the files: it records problems.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from agent_registry.assets.bundle import (
    SIDECAR_NAME,
    SIDECAR_NAMES,
    Bundle,
    BundleFile,
    BundleLimits,
    read_bundle,
)
from agent_registry.assets.errors import ProblemsError, validation_problems
from agent_registry.assets.frontmatter import (
    YamlResult,
    parse_frontmatter,
    parse_json_object,
    parse_yaml_mapping,
)
from agent_registry.assets.manifests import (
    TEAM_PATTERN,
    DeclaredScope,
    McpServerManifest,
    RegistryMetadata,
    RegistryMetadataDraft,
    SkillManifest,
    SubagentManifest,
)
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind, is_semver
from agent_registry.evals.findings import Finding, Severity

SKILL_FILE = "SKILL.md"
SERVER_FILE = "server.json"
SCOPE_FILE = "scope.yaml"
SIDECAR_SUFFIX = ".agentreg.yaml"
"""A subagent's sidecar is ``<stem>.agentreg.yaml`` beside its ``.md`` file."""

SIDECAR_KEYS = ("owner-team", "version", "changelog", "authors", "machine-authored")
"""Keys an ``agentreg.yaml`` sidecar may hold (the same names as in SKILL.md metadata)."""

MAX_SIDECAR_BYTES = 64 * 1024
"""A sidecar holds a few lines; anything bigger is not one."""

_KIND_SHAPES = (
    "a skill is a folder holding SKILL.md; "
    "a subagent is one .md file with YAML frontmatter; "
    "an MCP server is a folder holding server.json and scope.yaml"
)

_SCOPE_EXAMPLE = (
    "add scope.yaml beside server.json listing every tool and its effects "
    "(read, write, delete, exec, network), e.g. "
    "tools: [{name: search_tickets, effects: [read]}, {name: close_ticket, effects: [write]}]"
)

_FIELD_OF_KEY = {
    "owner-team": "owner_team",
    "version": "version",
    "changelog": "changelog",
    "authors": "authors",
    "machine-authored": "machine_authored",
}

_ModelT = TypeVar("_ModelT", bound=BaseModel)


class AssetLoadError(ProblemsError):
    """Raised when a path cannot be loaded as an asset at all.

    Attributes:
        problems: ``load.*`` findings; every message names the path.
    """


class MetadataError(ProblemsError):
    """Raised when registry metadata needed for a submission is missing or invalid.

    Attributes:
        problems: ``metadata.missing`` / ``metadata.invalid`` findings, ``field`` set to
            the key (``owner-team``, ``version``) and ``fix`` saying how to supply it.
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
        return _parse_skill(bundle)
    if kind is AssetKind.SUBAGENT:
        return _parse_subagent(bundle)
    return _parse_mcp_server(bundle)


def _parse_skill(bundle: Bundle) -> ParsedAsset:
    parsed = ParsedAsset(
        kind=AssetKind.SKILL, bundle=bundle, manifest_file=SKILL_FILE, manifest=None
    )
    manifest_file = bundle.get(SKILL_FILE)
    if manifest_file is None:
        parsed.problems.append(_skill_file_missing(bundle))
        return parsed
    manifest = _parse_markdown(parsed, manifest_file, SkillManifest)
    parsed.registry_metadata = _skill_metadata(parsed)
    if manifest is not None and manifest.name != bundle.root_name:
        parsed.problems.append(
            _spec(
                "spec.name-mismatch",
                f"name is '{manifest.name}' but the folder is '{bundle.root_name}'; "
                "a skill's name must equal its folder name",
                file=SKILL_FILE,
                line=parsed.line_of("name") or 1,
                field="frontmatter.name",
                fix=f"rename the folder to '{manifest.name}' or set name: {bundle.root_name}",
            )
        )
    parsed.manifest = manifest
    return parsed


def _skill_file_missing(bundle: Bundle) -> Finding:
    misnamed = next((f.path for f in bundle.files if f.path.lower() == "skill.md"), None)
    detail = f" (found {misnamed}; the name is case-sensitive)" if misnamed else ""
    return _spec(
        "spec.manifest-missing",
        f"the skill folder {bundle.root_name} has no SKILL.md at its top level{detail}",
        file=SKILL_FILE,
        fix="add SKILL.md with frontmatter (name, description) and instructions",
    )


def _parse_subagent(bundle: Bundle) -> ParsedAsset:
    only = bundle.files[0] if len(bundle.files) == 1 else None
    parsed = ParsedAsset(
        kind=AssetKind.SUBAGENT,
        bundle=bundle,
        manifest_file=only.path if only else bundle.root_name,
        manifest=None,
    )
    if only is None:
        parsed.problems.append(
            _spec(
                "spec.manifest-missing",
                f"a subagent is one Markdown file, but {bundle.root_name} holds "
                f"{len(bundle.files)} files",
                fix="submit the subagent's .md file itself",
            )
        )
        return parsed
    parsed.manifest = _parse_markdown(parsed, only, SubagentManifest)
    return parsed


def _parse_markdown(
    parsed: ParsedAsset, manifest_file: BundleFile, model: type[_ModelT]
) -> _ModelT | None:
    """Fill ``parsed`` from a Markdown manifest and validate its frontmatter."""
    text = _decode(manifest_file, parsed.problems)
    if text is None:
        return None
    result = parse_frontmatter(text, file=manifest_file.path)
    parsed.frontmatter = result.data
    parsed.body = result.body
    parsed.body_line = result.body_line
    parsed.field_lines = result.field_lines
    parsed.problems.extend(result.problems)
    if not result.readable:
        return None
    return _validate(
        model,
        result.data,
        file=manifest_file.path,
        field_prefix="frontmatter",
        field_lines=result.field_lines,
        problems=parsed.problems,
    )


def _parse_mcp_server(bundle: Bundle) -> ParsedAsset:
    parsed = ParsedAsset(
        kind=AssetKind.MCP_SERVER, bundle=bundle, manifest_file=SERVER_FILE, manifest=None
    )
    server = bundle.get(SERVER_FILE)
    if server is None:
        parsed.problems.append(
            _spec(
                "spec.manifest-missing",
                f"the MCP server folder {bundle.root_name} has no server.json at its top level",
                file=SERVER_FILE,
                fix="add server.json in the MCP registry format (name, description, version, "
                "packages or remotes)",
            )
        )
    else:
        _parse_server_json(parsed, server)
    parsed.scope = _parse_scope(parsed)
    return parsed


def _parse_server_json(parsed: ParsedAsset, server: BundleFile) -> None:
    text = _decode(server, parsed.problems)
    if text is None:
        return
    result = parse_json_object(text, file=SERVER_FILE, field_prefix=SERVER_FILE)
    parsed.frontmatter = result.data
    parsed.field_lines = dict(result.field_lines)
    parsed.problems.extend(result.problems)
    if not result.readable:
        return
    version = result.data.get("version")
    parsed.registry_metadata = RegistryMetadataDraft(
        version=version if isinstance(version, str) else None
    )
    parsed.manifest = _validate(
        McpServerManifest,
        result.data,
        file=SERVER_FILE,
        field_prefix=SERVER_FILE,
        field_lines=result.field_lines,
        problems=parsed.problems,
    )


def _parse_scope(parsed: ParsedAsset) -> DeclaredScope | None:
    """Read ``scope.yaml``; its key lines join ``field_lines`` as ``tools``, ``tools[2]``…."""
    scope_file = parsed.bundle.get(SCOPE_FILE)
    if scope_file is None:
        found_yml = parsed.bundle.get("scope.yml") is not None
        detail = " (found scope.yml; the file must be named scope.yaml)" if found_yml else ""
        parsed.problems.append(
            _spec(
                "spec.scope-missing",
                "an MCP server needs scope.yaml declaring the tools it may expose and "
                f"what each one does{detail}",
                file=SCOPE_FILE,
                fix=_SCOPE_EXAMPLE,
            )
        )
        return None
    text = _decode(scope_file, parsed.problems)
    if text is None:
        return None
    result = parse_yaml_mapping(text, file=SCOPE_FILE, field_prefix="scope")
    parsed.field_lines.update(result.field_lines)
    parsed.problems.extend(result.problems)
    if not result.readable:
        return None
    return _validate(
        DeclaredScope,
        result.data,
        file=SCOPE_FILE,
        field_prefix="scope",
        field_lines=result.field_lines,
        problems=parsed.problems,
    )


def _validate(
    model: type[_ModelT],
    data: dict[str, object],
    *,
    file: str,
    field_prefix: str,
    field_lines: dict[str, int],
    problems: list[Finding],
) -> _ModelT | None:
    """Validate ``data``; on failure record one finding per field and return None."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems.extend(
            validation_problems(
                error, file=file, field_prefix=field_prefix, field_lines=field_lines
            )
        )
        return None


def _decode(bundle_file: BundleFile, problems: list[Finding]) -> str | None:
    """The file as text; manifests must be UTF-8 so every tool reads them the same way."""
    try:
        return bundle_file.data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = bundle_file.data[: error.start].count(b"\n") + 1
        problems.append(
            _spec(
                "spec.not-utf8",
                f"is not UTF-8 text (byte {error.start} cannot be read)",
                file=bundle_file.path,
                line=line,
                fix="save the file as UTF-8",
            )
        )
        return None


def _skill_metadata(parsed: ParsedAsset) -> RegistryMetadataDraft:
    """Registry metadata from SKILL.md's ``metadata`` map (strings, per the spec)."""
    raw = parsed.frontmatter.get("metadata")
    if not isinstance(raw, dict):
        return RegistryMetadataDraft()
    values = {key: raw.get(key) for key in SIDECAR_KEYS}
    machine = values.pop("machine-authored")
    draft = RegistryMetadataDraft(
        owner_team=_text(values["owner-team"]),
        version=_text(values["version"]),
        changelog=_text(values["changelog"]),
        authors=_authors(values["authors"]),
        machine_authored=_flag(machine),
    )
    if machine is not None and draft.machine_authored is None:
        parsed.problems.append(
            _spec(
                "spec.invalid-field",
                f'metadata.machine-authored: must be "true" or "false" (it is {machine!r})',
                file=parsed.manifest_file,
                line=parsed.line_of("metadata.machine-authored") or parsed.line_of("metadata"),
                field="frontmatter.metadata.machine-authored",
                fix='set machine-authored: "true" or "false"',
            )
        )
    return draft


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _authors(value: object) -> list[str] | None:
    """Authors as a list, from a list of strings or one comma-separated string."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    authors = [item.strip() for item in value if item.strip()]
    return authors or None


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def sidecar_path(path: Path) -> Path:
    """Where the registry sidecar of the asset at ``path`` lives.

    Args:
        path: A folder asset or a subagent file.

    Returns:
        ``<folder>/agentreg.yaml`` or ``<dir>/<stem>.agentreg.yaml``.
    """
    if path.is_dir():
        return path / SIDECAR_NAME
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_sidecar(path: Path) -> tuple[RegistryMetadataDraft, list[Finding]]:
    """Read the registry sidecar of the asset at ``path``, if it has one.

    Args:
        path: A folder asset or a subagent file.

    Returns:
        The metadata it holds (empty when there is no sidecar) and its problems
        (``spec.unknown-key``, ``spec.invalid-field``, YAML problems, all BLOCK).
    """
    sidecar = sidecar_path(path)
    name = sidecar.name
    try:
        sidecar_stat = os.stat(sidecar)
    except FileNotFoundError:
        return RegistryMetadataDraft(), []
    except OSError as error:
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, error.strerror or "")]
    # Checked before opening: a FIFO named like a sidecar would hang the open.
    if not stat.S_ISREG(sidecar_stat.st_mode):
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, "it is not a regular file")]
    if sidecar_stat.st_size > MAX_SIDECAR_BYTES:
        reason = f"it is {sidecar_stat.st_size:,} bytes; a sidecar is a few lines"
        return RegistryMetadataDraft(), [_sidecar_unreadable(name, reason)]
    problems: list[Finding] = []
    text = _decode(BundleFile(path=name, data=sidecar.read_bytes()), problems)
    if text is None:
        return RegistryMetadataDraft(), problems
    result = parse_yaml_mapping(text, file=name, field_prefix=name)
    if not result.readable:
        return RegistryMetadataDraft(), result.problems
    return _sidecar_draft(result, file=name)


def _sidecar_unreadable(name: str, reason: str) -> Finding:
    return _spec(
        "spec.sidecar-unreadable", f"cannot read the sidecar: {reason}", file=name, fix=None
    )


_SIDECAR_READERS: dict[str, tuple[Callable[[object], object], str]] = {
    "owner-team": (_text, "must be text, e.g. platform-tools"),
    "version": (_text, "must be text like 1.2.0; put the value in quotes"),
    "changelog": (_text, "must be text"),
    "authors": (_authors, "must be a list of names or one comma-separated string"),
    "machine-authored": (_flag, "must be true or false"),
}


def _sidecar_draft(result: YamlResult, *, file: str) -> tuple[RegistryMetadataDraft, list[Finding]]:
    values: dict[str, object] = {}
    problems = list(result.problems)
    for key, raw in result.data.items():
        line = result.field_lines.get(key)
        if key not in _SIDECAR_READERS:
            problems.append(
                _spec(
                    "spec.unknown-key",
                    f"{key} is not a sidecar key; known keys: {', '.join(SIDECAR_KEYS)}",
                    file=file,
                    line=line,
                    field=f"{file}.{key}",
                    fix="remove it, or check its spelling",
                )
            )
            continue
        read, requirement = _SIDECAR_READERS[key]
        value = read(raw)
        if value is None and raw not in (None, "", []):  # Blank means "not set here".
            problems.append(
                _spec(
                    "spec.invalid-field",
                    f"{key}: {requirement} (it is {raw!r})",
                    file=file,
                    line=line,
                    field=f"{file}.{key}",
                )
            )
        values[_FIELD_OF_KEY[key]] = value
    return RegistryMetadataDraft.model_validate(values), problems


def missing_metadata(draft: RegistryMetadataDraft, *, kind: AssetKind | None = None) -> list[str]:
    """Say, one line each, what ``agentreg submit`` still needs and where to give it.

    Args:
        draft: Registry metadata found in the asset and its sidecar.
        kind: The asset kind, for advice that names the right file.

    Returns:
        Lines such as ``owner team: pass --team or set metadata.owner-team in SKILL.md
        (or owner-team in agentreg.yaml)``; empty when nothing is missing or invalid.
    """
    lines = []
    for problem in _metadata_problems(draft.owner_team, draft.version, kind=kind):
        if problem.check_id == "metadata.missing":
            lines.append(f"{_LABELS[problem.field or '']}: {problem.fix}")
        else:
            lines.append(f"{problem.message}; {problem.fix}")
    return lines


def resolve_metadata(
    draft: RegistryMetadataDraft,
    *,
    kind: AssetKind,
    owner_team: str | None = None,
    version: str | None = None,
    changelog: str | None = None,
    authors: list[str] | None = None,
    machine_authored: bool | None = None,
    default_author: str,
) -> RegistryMetadata:
    """Combine command-line values with the draft into the metadata of a submission.

    Args:
        draft: Registry metadata found in the asset and its sidecar.
        kind: The asset kind, for advice that names the right file.
        owner_team: ``--team``; overrides the draft.
        version: ``--version``; overrides the draft.
        changelog: ``--changelog``; overrides the draft.
        authors: ``--author`` values; override the draft.
        machine_authored: ``--machine-authored``; overrides the draft.
        default_author: Who is submitting; the author when none is given anywhere.

    Returns:
        Complete, valid registry metadata.

    Raises:
        MetadataError: Naming every missing or invalid value and how to supply it.
    """
    team = _given(owner_team) or draft.owner_team
    exact_version = _given(version) or draft.version
    problems = _metadata_problems(team, exact_version, kind=kind)
    if problems or team is None or exact_version is None:
        raise MetadataError(problems)
    named = [a.strip() for a in (authors or draft.authors or []) if a.strip()]
    return RegistryMetadata(
        owner_team=team,
        version=exact_version,
        changelog=(_given(changelog) or draft.changelog or ""),
        authors=named or [default_author],
        machine_authored=(
            machine_authored if machine_authored is not None else bool(draft.machine_authored)
        ),
    )


def _given(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


_LABELS = {"owner-team": "owner team", "version": "version"}


def _metadata_problems(
    team: str | None, version: str | None, *, kind: AssetKind | None
) -> list[Finding]:
    problems = []
    if team is None:
        problems.append(_metadata("missing", "owner-team", "owner team is missing", kind))
    elif not TEAM_PATTERN.match(team):
        message = (
            f"owner team '{team}' is not a team slug (lowercase letters, digits, '.', '_' "
            "and '-', starting with a letter or digit, at most 63 characters)"
        )
        problems.append(_metadata("invalid", "owner-team", message, kind))
    if version is None:
        problems.append(_metadata("missing", "version", "version is missing", kind))
    elif not is_semver(version):
        message = f"version '{version}' is not an exact semantic version like 1.2.0"
        problems.append(_metadata("invalid", "version", message, kind))
    return problems


def _metadata(problem: str, key: str, message: str, kind: AssetKind | None) -> Finding:
    return Finding(
        check_id=f"metadata.{problem}",
        severity=Severity.BLOCK,
        message=message,
        field=key,
        fix=_where_to_set(key, kind),
    )


def _where_to_set(key: str, kind: AssetKind | None) -> str:
    """How to supply a metadata value for this kind of asset."""
    flag = "--team" if key == "owner-team" else "--version"
    if kind is AssetKind.SKILL:
        return f"pass {flag} or set metadata.{key} in SKILL.md (or {key} in agentreg.yaml)"
    if kind is AssetKind.SUBAGENT:
        return f"pass {flag} or set {key} in <name>.agentreg.yaml beside the subagent file"
    if kind is AssetKind.MCP_SERVER and key == "version":
        return f"pass {flag} or set version in server.json (or in agentreg.yaml)"
    if kind is AssetKind.MCP_SERVER:
        return f"pass {flag} or set {key} in agentreg.yaml in the server folder"
    return f"pass {flag} or set {key} in the asset's agentreg.yaml sidecar"


def _spec(
    check_id: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    field: str | None = None,
    fix: str | None = None,
) -> Finding:
    return Finding(
        check_id=check_id,
        severity=Severity.BLOCK,
        message=message,
        file=file,
        line=line,
        field=field,
        fix=fix,
    )
