"""Canonical archives: a bundle as deterministic tar bytes, its content hash, and back.

The content hash is taken over :func:`canonical_archive`, so it is the bundle's identity;
:func:`bundle_from_archive` reads archives that come back from storage or over the wire
without trusting them.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import tarfile
from dataclasses import dataclass, field

from agent_registry.assets.bundle import Bundle, BundleFile, BundleLimits
from agent_registry.assets.bundle_problems import (
    BundleError,
    bundle_problem,
    file_too_large,
    sorted_problems,
    total_too_large,
)
from agent_registry.assets.safe_files import (
    colliding_names,
    collision_message,
    portable_name_problem,
)
from agent_registry.vocabulary.findings import Finding

_REGULAR_TAR_TYPES = frozenset({tarfile.REGTYPE, tarfile.AREGTYPE})


def canonical_archive(bundle: Bundle) -> bytes:
    """Serialize a bundle as a deterministic, uncompressed tar archive.

    The archive is what the content hash is taken over, so only content may influence
    it: entries are sorted, carry no timestamps, owners or umask-dependent modes, and
    there are no directory entries. Paths are ``root_name/<path>`` for folder bundles and
    just ``root_name`` for a single-file bundle, which keeps the root name (a skill's
    ``name`` must equal it) inside the hashed content.

    Args:
        bundle: The bundle to serialize.

    Returns:
        The archive bytes (PAX format).

    Raises:
        ValueError: If the bundle has no canonical form (two files at one path, or a
            single-file bundle that does not hold exactly one file).
    """
    buffer = io.BytesIO()
    with tarfile.open(
        fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8"
    ) as archive:
        for name, bundle_file in _archive_entries(bundle):
            archive.addfile(_tar_info(name, bundle_file), io.BytesIO(bundle_file.data))
    return buffer.getvalue()


def content_hash(bundle: Bundle) -> str:
    """The bundle's identity: lowercase sha256 hex of :func:`canonical_archive`."""
    return hashlib.sha256(canonical_archive(bundle)).hexdigest()


def _archive_entries(bundle: Bundle) -> list[tuple[str, BundleFile]]:
    """Archive member names and their files, in canonical order."""
    if not bundle.root_name or "/" in bundle.root_name:
        raise ValueError(f"bundle root name {bundle.root_name!r} must be one path component")
    if bundle.single_file:
        if len(bundle.files) != 1:
            raise ValueError(
                f"single-file bundle {bundle.root_name} holds {len(bundle.files)} files"
            )
        return [(bundle.root_name, bundle.files[0])]
    ordered = sorted(bundle.files, key=lambda bundle_file: bundle_file.path)
    for before, after in itertools.pairwise(ordered):
        if before.path == after.path:
            raise ValueError(f"bundle {bundle.root_name} holds two files at {before.path}")
    return [(f"{bundle.root_name}/{bundle_file.path}", bundle_file) for bundle_file in ordered]


def _tar_info(name: str, bundle_file: BundleFile) -> tarfile.TarInfo:
    """A header that depends on the name, size and executable bit only."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.REGTYPE
    info.size = len(bundle_file.data)
    info.mode = 0o755 if bundle_file.executable else 0o644
    info.mtime = 0
    info.uid = 0
    info.gid = 0
    info.uname = ""
    info.gname = ""
    return info


def bundle_from_archive(data: bytes, *, limits: BundleLimits) -> Bundle:
    """Rebuild a bundle from an archive made by :func:`canonical_archive`.

    Archives come back from storage and over the wire, so nothing in them is trusted:
    only regular files are accepted (no links, devices, folders or sparse entries), paths
    must be relative without ``..`` and all under one root (or be the one file of a
    single-file bundle), and sizes are checked from the headers before any data is read,
    so a small archive cannot expand into a large one.

    Args:
        data: The archive bytes.
        limits: The same caps a bundle read from disk must meet.

    Returns:
        The bundle; for an archive made by :func:`canonical_archive` it equals the
        original and has the same :func:`content_hash`.

    Raises:
        BundleError: With every problem found.
    """
    reader = _ArchiveReader(limits=limits)
    try:
        with tarfile.open(
            fileobj=io.BytesIO(data), mode="r:", encoding="utf-8", errors="strict"
        ) as archive:
            reader.read(archive)
            # tarfile ends quietly at a damaged header after the first one; anything but
            # end-of-archive zeros past the last entry means the archive was cut or altered.
            if not reader.stopped and data[archive.offset :].strip(b"\0"):
                reader.add("archive-corrupt", "the archive has damaged data after its last file")
    except (tarfile.TarError, UnicodeError, EOFError) as error:
        # Keep what was found before the damage: an entry whose header claims more data
        # than the archive holds is reported for its size as well as for the damage.
        reader.add("archive-corrupt", f"the archive cannot be read: {error}")
        raise BundleError(sorted_problems(reader.problems)) from None
    return reader.finish()


@dataclass
class _ArchiveReader:
    """State of reading one archive: accepted files and problems found so far."""

    limits: BundleLimits
    files: dict[str, tuple[str, BundleFile]] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    entries: int = 0
    total_bytes: int = 0
    stopped: bool = False

    def read(self, archive: tarfile.TarFile) -> None:
        """Read members one header at a time, stopping once the entry cap is passed."""
        for member in archive:
            self.entries += 1
            if self.entries > self.limits.max_files:
                self.add(
                    "too-many-files",
                    f"the archive has more than {self.limits.max_files} entries; "
                    f"the limit is {self.limits.max_files}",
                )
                self.stopped = True
                return
            self._take(archive, member)

    def _take(self, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        """Check one member's header, and read its data only if the header is acceptable."""
        name = member.name
        if member.type not in _REGULAR_TAR_TYPES or member.issparse():
            self.add(
                "archive-entry-type",
                f"is {_describe_member(member)}; an archive may hold regular files only",
                file=name,
            )
            return
        path_problem = _archive_path_problem(name)
        if path_problem is not None:
            self.add("archive-path", path_problem, file=name)
            return
        if name.count("/") - 1 > self.limits.max_depth:
            self.add(
                "too-deep", f"is nested deeper than {self.limits.max_depth} folders", file=name
            )
            return
        if member.size > self.limits.max_file_bytes:
            self.problems.append(file_too_large(name, member.size, self.limits))
            return
        self.total_bytes += member.size
        if self.total_bytes > self.limits.max_total_bytes:
            return  # Reported once by finish(), from the header sizes alone.
        if name in self.files:
            self.add("archive-duplicate", "appears twice in the archive", file=name)
            return
        self.files[name] = _split_member(name, _member_data(archive, member), member.mode)

    def add(self, check: str, message: str, *, file: str | None = None) -> None:
        """Record one problem."""
        self.problems.append(bundle_problem(check, message, file=file))

    def finish(self) -> Bundle:
        """Assemble the bundle, or raise every problem found."""
        if self.total_bytes > self.limits.max_total_bytes:
            self.problems.append(
                total_too_large(self.total_bytes, self.limits, partial=self.stopped)
            )
        if not self.files and not self.problems:
            self.add("empty", "the archive holds no files")
        for first, second in colliding_names(self.files):
            self.add("name-collision", collision_message(first, second), file=second)
        bundle = None if self.problems else self._assemble()
        if bundle is None:
            raise BundleError(sorted_problems(self.problems))
        return bundle

    def _assemble(self) -> Bundle | None:
        roots = sorted({root for root, _ in self.files.values()})
        if len(roots) != 1:
            self.add(
                "archive-root",
                f"the archive's files are not under one folder (found {', '.join(roots)})",
            )
            return None
        single = [name for name in self.files if "/" not in name]
        if single and len(self.files) != 1:
            self.add(
                "archive-root",
                f"the archive mixes a top-level file ({single[0]}) with other files",
            )
            return None
        ordered = tuple(sorted((f for _, f in self.files.values()), key=lambda f: f.path))
        return Bundle(root_name=roots[0], files=ordered, single_file=bool(single))


def _member_data(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    """The data of a member whose size was already checked against the limits."""
    stream = archive.extractfile(member)
    if stream is None:  # Cannot happen for regular files; guards a tarfile change.
        raise tarfile.ReadError(f"{member.name} has no data")
    with stream:
        data = stream.read()
    if len(data) != member.size:
        raise tarfile.ReadError(f"{member.name} is cut short")
    return data


def _split_member(name: str, data: bytes, mode: int) -> tuple[str, BundleFile]:
    """Root name and bundle file of one member (the file itself for a single-file bundle)."""
    root, _, relative = name.partition("/")
    executable = bool(mode & 0o111)
    return root, BundleFile(path=relative or root, data=data, executable=executable)


def _archive_path_problem(name: str) -> str | None:
    """Why a member name is unsafe to use as a bundle path, if it is."""
    if name.startswith("/"):
        return "is an absolute path; archive paths must be relative"
    if "\\" in name:
        return "contains a backslash, which Windows reads as a folder separator"
    parts = name.split("/")
    if ".." in parts:
        return "climbs out of the bundle with '..'"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' path component"
    return portable_name_problem(name)


def _describe_member(member: tarfile.TarInfo) -> str:
    """Name an archive member's type the way a user knows it."""
    if member.issym():
        return f"a symlink to {member.linkname}"
    if member.islnk():
        return f"a hard link to {member.linkname}"
    if member.isdir():
        return "a folder entry"
    if member.isfifo():
        return "a named pipe (FIFO)"
    if member.ischr() or member.isblk():
        return "a device file"
    if member.issparse():
        return "a sparse file"
    return "not a regular file"
