"""Registry metadata of a submission: what is still missing, and the resolved values.

Command-line values override what the asset and its sidecar say (see
:mod:`agent_registry.assets.sidecar`); every missing or invalid value is reported at
once with where to supply it for this kind of asset.
"""

from __future__ import annotations

from agent_registry.assets.errors import ProblemsError
from agent_registry.assets.manifests import TEAM_PATTERN, RegistryMetadata, RegistryMetadataDraft
from agent_registry.assets.refs import AssetKind, is_semver
from agent_registry.vocabulary.findings import Finding, Severity


class MetadataError(ProblemsError):
    """Raised when registry metadata needed for a submission is missing or invalid.

    Attributes:
        problems: ``metadata.missing`` / ``metadata.invalid`` findings, ``field`` set to
            the key (``owner-team``, ``version``) and ``fix`` saying how to supply it.
    """


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
        false_positives=draft.false_positives or [],
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
