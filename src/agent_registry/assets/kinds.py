"""Parsing each asset kind's files into a :class:`ParsedAsset`, recording spec problems.

A skill is ``SKILL.md`` (frontmatter and body) plus its files, a subagent one Markdown
file, an MCP server ``server.json`` plus ``scope.yaml``. Pure: bundles in, parsed assets
out; nothing here touches the filesystem or raises for what is in the files.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.errors import validation_problems
from agent_registry.assets.frontmatter import (
    parse_frontmatter,
    parse_json_object,
    parse_yaml_mapping,
)
from agent_registry.assets.manifests import (
    DeclaredScope,
    McpServerManifest,
    RegistryMetadataDraft,
    SkillManifest,
    SubagentManifest,
)
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.assets.sidecar import (
    FALSE_POSITIVES_KEY,
    SIDECAR_KEYS,
    MarkSource,
    authors_value,
    false_positive_marks,
    flag_value,
    text_value,
)
from agent_registry.assets.spec_problems import decode_text, spec_problem
from agent_registry.vocabulary.findings import Finding

SKILL_FILE = "SKILL.md"
SERVER_FILE = "server.json"
SCOPE_FILE = "scope.yaml"

_SCOPE_EXAMPLE = (
    "add scope.yaml beside server.json listing every tool and its effects "
    "(read, write, delete, exec, network), e.g. "
    "tools: [{name: search_tickets, effects: [read]}, {name: close_ticket, effects: [write]}]"
)

_ModelT = TypeVar("_ModelT", bound=BaseModel)


def parse_skill(bundle: Bundle) -> ParsedAsset:
    """Parse a skill folder: ``SKILL.md`` frontmatter, body and registry metadata map."""
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
            spec_problem(
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
    return spec_problem(
        "spec.manifest-missing",
        f"the skill folder {bundle.root_name} has no SKILL.md at its top level{detail}",
        file=SKILL_FILE,
        fix="add SKILL.md with frontmatter (name, description) and instructions",
    )


def parse_subagent(bundle: Bundle) -> ParsedAsset:
    """Parse a subagent: one Markdown file with YAML frontmatter."""
    only = bundle.files[0] if len(bundle.files) == 1 else None
    parsed = ParsedAsset(
        kind=AssetKind.SUBAGENT,
        bundle=bundle,
        manifest_file=only.path if only else bundle.root_name,
        manifest=None,
    )
    if only is None:
        parsed.problems.append(
            spec_problem(
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
    text = decode_text(manifest_file, parsed.problems)
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


def parse_mcp_server(bundle: Bundle) -> ParsedAsset:
    """Parse an MCP server folder: ``server.json`` and the declared scope in ``scope.yaml``."""
    parsed = ParsedAsset(
        kind=AssetKind.MCP_SERVER, bundle=bundle, manifest_file=SERVER_FILE, manifest=None
    )
    server = bundle.get(SERVER_FILE)
    if server is None:
        parsed.problems.append(
            spec_problem(
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
    text = decode_text(server, parsed.problems)
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
            spec_problem(
                "spec.scope-missing",
                "an MCP server needs scope.yaml declaring the tools it may expose and "
                f"what each one does{detail}",
                file=SCOPE_FILE,
                fix=_SCOPE_EXAMPLE,
            )
        )
        return None
    text = decode_text(scope_file, parsed.problems)
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


def _skill_metadata(parsed: ParsedAsset) -> RegistryMetadataDraft:
    """Registry metadata from SKILL.md's ``metadata`` map (strings, per the spec).

    ``false-positives`` is a list, so a skill writes it as YAML text (a ``|`` block) to
    keep every metadata value a string; see :func:`false_positive_marks`.
    """
    raw = parsed.frontmatter.get("metadata")
    if not isinstance(raw, dict):
        return RegistryMetadataDraft()
    values = {key: raw.get(key) for key in SIDECAR_KEYS}
    machine = values.pop("machine-authored")
    marks, mark_problems = false_positive_marks(
        values[FALSE_POSITIVES_KEY],
        MarkSource(
            file=parsed.manifest_file,
            key_path=f"metadata.{FALSE_POSITIVES_KEY}",
            field_prefix="frontmatter",
            field_lines=parsed.field_lines,
        ),
    )
    parsed.problems.extend(mark_problems)
    draft = RegistryMetadataDraft(
        owner_team=text_value(values["owner-team"]),
        version=text_value(values["version"]),
        changelog=text_value(values["changelog"]),
        authors=authors_value(values["authors"]),
        machine_authored=flag_value(machine),
        false_positives=marks,
    )
    if machine is not None and draft.machine_authored is None:
        parsed.problems.append(
            spec_problem(
                "spec.invalid-field",
                f'metadata.machine-authored: must be "true" or "false" (it is {machine!r})',
                file=parsed.manifest_file,
                line=parsed.line_of("metadata.machine-authored") or parsed.line_of("metadata"),
                field="frontmatter.metadata.machine-authored",
                fix='set machine-authored: "true" or "false"',
            )
        )
    return draft
