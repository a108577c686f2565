"""Installing a published version into a project, where Claude Code finds it.

A skill becomes ``.claude/skills/<name>/``, a subagent ``.claude/agents/<name>.md`` and
an MCP server an entry in ``.mcp.json`` (merged with the servers already there), with
its bundle under ``.claude/mcp-servers/<key>/`` when it runs from its own files. These
are the project-scope locations Claude Code reads (https://code.claude.com/docs/en/skills,
/sub-agents and /mcp); the names come from :mod:`agent_registry.distribution.naming`.

Nothing is written until every check passed: the registry's answer is the ref that was
asked for (:mod:`agent_registry.distribution.answers`), the version is installable, its
publication statement verifies with a trusted key and names its content hash, its bundle
hashes to that content hash and holds exactly the signed files, every path stays inside
the project, and nothing foreign or locally edited would be overwritten. Each write is
atomic (see :mod:`agent_registry.distribution.files`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agent_registry.assets.bundle import Bundle, BundleLimits
from agent_registry.assets.kinds import SERVER_FILE, SKILL_FILE, parse_mcp_server
from agent_registry.assets.refs import AssetKind
from agent_registry.assets.safe_files import is_within
from agent_registry.catalog.models import CatalogSource, VersionDetail
from agent_registry.distribution.answers import check_answer
from agent_registry.distribution.bundles import verified_bundle
from agent_registry.distribution.errors import (
    BundleMismatchError,
    ConflictError,
    DistributionError,
    NotInstallableError,
    UntrustedSignatureError,
)
from agent_registry.distribution.files import (
    atomic_write_bytes,
    atomic_write_text,
    bundle_digests,
    file_digests,
    remove_path,
    write_bundle_dir,
)
from agent_registry.distribution.install_marker import (
    InstallMarker,
    MarkedInstall,
    read_install_marker,
    write_install_marker,
)
from agent_registry.distribution.local_copy import drift
from agent_registry.distribution.mcp_launch import (
    PROJECT_SERVERS_DIR,
    McpLaunch,
    mcp_launch,
    project_bundle_root,
)
from agent_registry.distribution.naming import mcp_server_key
from agent_registry.lifecycle.stages import INSTALLABLE, Stage
from agent_registry.signing.errors import SignatureError
from agent_registry.signing.keys import Keyring
from agent_registry.signing.publication import Publication, verify_publication

"""Stages a version may be installed in; a deprecated one with a warning."""

MCP_CONFIG = ".mcp.json"
"""The project-scope MCP configuration file, at the project root."""


@dataclass(frozen=True)
class InstallOutcome:
    """What an install did.

    Attributes:
        version: The version installed.
        local_name: The name Claude Code knows it by.
        written: Paths created or replaced, project-relative.
        previous: The ref of an earlier install this one replaced, if any.
        warnings: What the user should know (a deprecation and its sunset).
    """

    version: VersionDetail
    local_name: str
    written: tuple[str, ...]
    previous: str | None
    warnings: tuple[str, ...] = ()

    @property
    def unchanged(self) -> bool:
        """True when the project already held exactly this version."""
        return not self.written


def installation_warnings(version: VersionDetail) -> list[str]:
    """Why installing ``version`` deserves a second thought, or nothing.

    Raises:
        NotInstallableError: The version is retired (naming its replacement) or was
            never published.
    """
    replacement = version.replacement or (
        version.deprecation.replacement if version.deprecation else None
    )
    if version.stage == Stage.RETIRED.value:
        use = f"install {replacement} instead" if replacement else "no replacement was named"
        reason = version.deprecation.reason if version.deprecation else "no reason recorded"
        raise NotInstallableError(f"{version.ref} is retired ({reason}); {use}")
    if version.stage not in {stage.value for stage in INSTALLABLE}:
        raise NotInstallableError(
            f"{version.ref} is {version.stage}, not published; only published versions "
            "can be installed"
        )
    if version.stage != Stage.DEPRECATED.value:
        return []
    use = f"use {replacement}" if replacement else "no replacement was named"
    sunset = version.sunset_at or (version.deprecation.sunset_at if version.deprecation else None)
    retires = f"it retires on {sunset:%Y-%m-%d}" if sunset else "its retirement date is not set"
    reason = f" ({version.deprecation.reason})" if version.deprecation else ""
    return [f"{version.ref} is deprecated{reason}: {use}; {retires}"]


def install_version(
    catalog: CatalogSource,
    ref: str,
    *,
    project: Path,
    limits: BundleLimits,
    now: datetime,
    force: bool = False,
    keyring: Keyring | None = None,
) -> InstallOutcome:
    """Install one version into ``project``.

    Args:
        catalog: Where the version and its bundle come from.
        ref: ``kind/name@version``, or ``kind/name`` for the latest published.
        project: The project root.
        limits: Caps on the bundle, as for a submission.
        now: When, for the install marker.
        force: Replace what is in the way even if install did not put it there.
        keyring: The registry's public keys. With keys, the version's signed publication
            must verify and name its content; without any, nothing can be checked and
            the outcome warns so.

    Returns:
        What was done.

    Raises:
        CatalogNotFoundError: No such version.
        NotInstallableError: Retired or never published.
        BundleMismatchError: The bundle is not the reviewed content; nothing written.
        ConflictError: Something else is in the way and ``force`` is off.
        DistributionError: The bundle does not hold the asset its kind promises.
        UntrustedAnswerError: The registry answered for another ref, or with a name,
            version or hash no submission could have.
        UntrustedSignatureError: The publication is unsigned, or not signed by a
            trusted key for this content.
    """
    version = catalog.show(ref)
    check_answer(ref, version)
    warnings = installation_warnings(version)
    publication = trusted_publication(version, keyring)
    if publication is None:
        warnings.append(
            f"the signature of {version.ref} was not checked: no trusted keys are configured "
            "(AGENT_REGISTRY_TRUSTED_KEYS)"
        )
    bundle = verified_bundle(catalog, version, limits=limits)
    if publication is not None:
        _check_signed_files(version, bundle, publication)
    marker = read_install_marker(project)
    job = _Job(
        version=version,
        bundle=bundle,
        project=project,
        marker=marker,
        force=force,
        attestation=version.attestation if publication is not None else None,
    )
    if version.kind is AssetKind.SKILL:
        _place_skill(job)
    elif version.kind is AssetKind.SUBAGENT:
        _place_subagent(job)
    else:
        _place_mcp_server(job)
    job.commit(now)
    return InstallOutcome(
        version=version,
        local_name=job.local_name,
        written=tuple(job.written),
        previous=job.previous,
        warnings=tuple(warnings),
    )


def trusted_publication(version: VersionDetail, keyring: Keyring | None) -> Publication | None:
    """The version's verified publication; None only when there are no keys to check with.

    Raises:
        UntrustedSignatureError: Keys are configured and the statement is missing, not
            signed by one of them, or about other content.
    """
    if not keyring:
        return None
    try:
        return verify_publication(
            version.attestation, keyring=keyring, ref=version.ref, content_hash=version.content_hash
        )
    except SignatureError as error:
        raise UntrustedSignatureError(f"{error}; nothing was written") from None


def _check_signed_files(version: VersionDetail, bundle: Bundle, publication: Publication) -> None:
    """Refuse a bundle whose files are not the ones the publication lists."""
    if not publication.files:
        return  # signed before file lists were added; the content hash still binds it
    differs = drift(bundle_digests(bundle), publication.files, single_file=publication.single_file)
    if differs is not None:
        raise BundleMismatchError(
            ref=version.ref,
            expected=version.content_hash,
            actual=None,
            detail=f"its files are not the signed ones ({differs})",
        )


def _inside(project: Path, relative: str) -> Path:
    """``project / relative``, refused when it would land outside the project."""
    target = project / relative
    resolved = os.path.realpath(target)
    if not is_within(resolved, os.path.realpath(project)):
        raise DistributionError(
            f"{relative} resolves to {resolved}, outside the project {project}; nothing was written"
        )
    return target


@dataclass
class _Job:
    """One install: its inputs, the checks passed so far, and the writes queued."""

    version: VersionDetail
    bundle: Bundle
    project: Path
    marker: InstallMarker
    force: bool
    attestation: str | None = None
    local_name: str = ""
    files: dict[str, str] = field(default_factory=dict)
    mcp_entry: dict[str, object] | None = None
    writes: list[tuple[str, Callable[[], None]]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    previous: str | None = None

    @property
    def recorded(self) -> MarkedInstall | None:
        """What install recorded under this local name earlier, if anything."""
        return self.marker.find(self.version.kind, self.local_name)

    def judge(self, label: str, existing: object, new: object, recorded: object) -> bool:
        """Whether ``label`` must be written: absent or replaceable; False if identical.

        Raises:
            ConflictError: Something install did not put there (or has been edited
                since) is in the way, and ``force`` is off.
        """
        if existing is None or existing == {}:
            return True
        if existing == new:
            return False
        mine = self.recorded
        same_asset = mine is not None and mine.asset() == (self.version.kind, self.version.name)
        if self.force or (same_asset and existing == recorded):
            if mine is not None:
                self.previous = mine.ref
            return True
        if same_asset and mine is not None:
            raise ConflictError(
                f"{label} holds {mine.ref} with local changes; pass --force to replace "
                f"them with {self.version.ref}"
            )
        owner = f" (installed as {mine.ref})" if mine is not None else ""
        raise ConflictError(
            f"{label} already holds something else{owner}, not an earlier install of "
            f"{self.version.kind.value}/{self.version.name}; pass --force to replace it"
        )

    def queue(self, label: str, write: Callable[[], None]) -> None:
        """Write ``label`` once every check has passed."""
        self.writes.append((label, write))

    def commit(self, now: datetime) -> None:
        """Do the queued writes, then record the install in the project's marker."""
        for label, write in self.writes:
            write()
            self.written.append(label)
        entry = MarkedInstall(
            ref=self.version.ref,
            local_name=self.local_name,
            content_hash=self.version.content_hash,
            files=self.files,
            mcp_entry=self.mcp_entry,
            installed_at=now,
            attestation=self.attestation,
        )
        recorded = self.recorded
        unchanged = recorded is not None and recorded.model_dump(
            exclude={"installed_at"}
        ) == entry.model_dump(exclude={"installed_at"})
        if self.written or not unchanged:
            write_install_marker(self.project, self.marker.replaced_by(entry))


def _recorded_under(job: _Job, prefix: str) -> dict[str, str]:
    mine = job.recorded
    if mine is None:
        return {}
    return {path: digest for path, digest in mine.files.items() if _under(path, prefix)}


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(f"{prefix}/")


def _existing_digests(project: Path, relative: str) -> dict[str, str]:
    """sha256 of what sits at ``relative`` now: one file, every file of a folder, or {}."""
    path = project / relative
    if path.is_dir() and not path.is_symlink():
        return {f"{relative}/{sub}": digest for sub, digest in file_digests(path).items()}
    if path.exists() or path.is_symlink():
        try:
            return {relative: hashlib.sha256(path.read_bytes()).hexdigest()}
        except OSError:
            return {relative: "unreadable"}
    return {}


def _place_skill(job: _Job) -> None:
    bundle = job.bundle
    if bundle.single_file or bundle.get(SKILL_FILE) is None:
        raise DistributionError(f"the bundle of {job.version.ref} is not a skill folder")
    job.local_name = job.version.name
    relative = f".claude/skills/{job.local_name}"
    new = {f"{relative}/{path}": digest for path, digest in bundle_digests(bundle).items()}
    job.files = new
    target = _inside(job.project, relative)
    existing = _existing_digests(job.project, relative)
    if job.judge(relative, existing, new, _recorded_under(job, relative)):
        job.queue(relative, lambda: write_bundle_dir(bundle, target))


def _place_subagent(job: _Job) -> None:
    bundle = job.bundle
    if not bundle.single_file or len(bundle.files) != 1:
        raise DistributionError(f"the bundle of {job.version.ref} is not one Markdown file")
    job.local_name = job.version.name
    relative = f".claude/agents/{job.local_name}.md"
    data = bundle.files[0].data
    new = {relative: hashlib.sha256(data).hexdigest()}
    job.files = new
    target = _inside(job.project, relative)
    existing = _existing_digests(job.project, relative)
    if job.judge(relative, existing, new, _recorded_under(job, relative)):

        def write() -> None:
            if target.is_dir() and not target.is_symlink():
                remove_path(target)
            atomic_write_bytes(target, data)

        job.queue(relative, write)


def _place_mcp_server(job: _Job) -> None:
    bundle = job.bundle
    if bundle.single_file or bundle.get(SERVER_FILE) is None:
        raise DistributionError(f"the bundle of {job.version.ref} is not an MCP server folder")
    key = mcp_server_key(job.version.name)
    job.local_name = key
    launch = mcp_launch(parse_mcp_server(bundle), bundle_root=project_bundle_root(key))
    if launch.ships_bundle:
        _place_server_files(job, key)
    config_path = _inside(job.project, MCP_CONFIG)
    config = _read_mcp_config(config_path)
    servers = config.get("mcpServers", {})
    assert isinstance(servers, dict)
    mine = job.recorded
    job.mcp_entry = launch.entry
    label = f"{MCP_CONFIG} server '{key}'"
    if job.judge(label, servers.get(key), launch.entry, mine.mcp_entry if mine else None):
        job.queue(MCP_CONFIG, lambda: _write_mcp_entry(config_path, key, launch))


def _place_server_files(job: _Job, key: str) -> None:
    relative = f"{PROJECT_SERVERS_DIR}/{key}"
    new = {f"{relative}/{path}": digest for path, digest in bundle_digests(job.bundle).items()}
    job.files = new
    target = _inside(job.project, relative)
    existing = _existing_digests(job.project, relative)
    if job.judge(relative, existing, new, _recorded_under(job, relative)):
        bundle = job.bundle
        job.queue(relative, lambda: write_bundle_dir(bundle, target))


def _read_mcp_config(path: Path) -> dict[str, object]:
    """The project's ``.mcp.json``, or an empty one; refuse one that is not ours to fix."""
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DistributionError(
            f"{path} cannot be read as JSON ({error}); fix or remove it, then install again"
        ) from None
    if not isinstance(config, dict) or not isinstance(config.get("mcpServers", {}), dict):
        raise DistributionError(
            f"{path} is not an object with an 'mcpServers' object; fix it, then install again"
        )
    return config


def _write_mcp_entry(path: Path, key: str, launch: McpLaunch) -> None:
    """Merge one entry into ``.mcp.json``, keeping every other server and key as it was.

    The file is read again here, right before the atomic write, so servers another tool
    added after the checks are kept.
    """
    config = _read_mcp_config(path)
    current = config.get("mcpServers", {})
    servers = dict(current) if isinstance(current, dict) else {}
    servers[key] = launch.entry
    config["mcpServers"] = servers
    atomic_write_text(path, json.dumps(config, indent=2) + "\n")
