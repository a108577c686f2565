"""``agentreg verify [DIR]``: are the registry assets installed in a project the signed ones?

Install keeps each version's signed publication statement in the project's marker. Here
every statement is verified with the trusted keys and the files on disk are compared
with the files it lists, offline. Editing the marker does not help an attacker: a
statement only verifies as the registry signed it, for the ref and files it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent_registry.assets.refs import AssetKind, AssetRef, InvalidRefError
from agent_registry.distribution.install_marker import MarkedInstall, read_install_marker
from agent_registry.distribution.local_copy import LocalCopyError, drift, installed_files
from agent_registry.distribution.mcp_launch import PROJECT_SERVERS_DIR
from agent_registry.signing.errors import SignatureError
from agent_registry.signing.keys import Keyring
from agent_registry.signing.publication import verify_publication


@dataclass(frozen=True)
class Checked:
    """One installed version and what its check found.

    Attributes:
        ref: ``kind/name@version`` as the marker records it.
        where: The installed copy, project-relative.
        problem: Why it is not the signed content, or None when it is.
    """

    ref: str
    where: str
    problem: str | None = None


def installed_path(kind: AssetKind, local_name: str) -> str | None:
    """Where install puts the files of an asset, project-relative (None: no files)."""
    if kind is AssetKind.SKILL:
        return f".claude/skills/{local_name}"
    if kind is AssetKind.SUBAGENT:
        return f".claude/agents/{local_name}.md"
    return f"{PROJECT_SERVERS_DIR}/{local_name}"


def verify_project(project: Path, *, keyring: Keyring) -> list[Checked]:
    """Check every version install recorded in ``project``.

    Raises:
        SignatureError: No trusted keys, so nothing can be checked.
    """
    if not keyring:
        raise SignatureError(
            "no trusted keys are configured (AGENT_REGISTRY_TRUSTED_KEYS), so no "
            "signature can be checked"
        )
    return [_check(project, entry, keyring) for entry in read_install_marker(project).assets]


def _check(project: Path, entry: MarkedInstall, keyring: Keyring) -> Checked:
    try:
        ref = AssetRef.parse(entry.ref)
    except InvalidRefError as error:
        return Checked(entry.ref, "?", f"the marker's ref is unreadable ({error})")
    where = installed_path(ref.kind, entry.local_name)
    if where is None or "/" in entry.local_name or entry.local_name in {"", ".", ".."}:
        return Checked(entry.ref, "?", f"the marker's local name {entry.local_name!r} is unsafe")
    try:
        publication = verify_publication(
            entry.attestation, keyring=keyring, ref=str(ref), content_hash=entry.content_hash or ""
        )
    except SignatureError as error:
        return Checked(entry.ref, where, str(error))
    path = project / where
    if ref.kind is AssetKind.MCP_SERVER and not path.exists():
        if entry.files:
            return Checked(entry.ref, where, "its bundled files are missing")
        return Checked(entry.ref, where)  # a server launched by package or URL: no files
    try:
        found = installed_files(path, single_file=publication.single_file)
    except LocalCopyError as error:
        return Checked(entry.ref, where, str(error))
    differs = drift(found, publication.files, single_file=publication.single_file)
    if differs is not None:
        return Checked(entry.ref, where, f"differs from the signed publication ({differs})")
    return Checked(entry.ref, where)
