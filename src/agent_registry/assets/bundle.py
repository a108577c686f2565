"""Bundles: the files of one asset version, read safely and hashed canonically."""

from __future__ import annotations

import errno
import hashlib
import io
import itertools
import os
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from agent_registry.assets.errors import ProblemsError
from agent_registry.evals.findings import Finding, Severity


@dataclass(frozen=True)
class BundleLimits:
    """Caps that keep a bundle small enough to review and to carry through Temporal.

    Attributes:
        max_total_bytes: Sum of all file sizes.
        max_file_bytes: Size of any one file.
        max_files: Number of files.
        max_depth: Folder nesting below the bundle root.
    """

    max_total_bytes: int = 1024 * 1024
    max_file_bytes: int = 512 * 1024
    max_files: int = 200
    max_depth: int = 8


@dataclass(frozen=True)
class BundleFile:
    """One file of a bundle.

    Attributes:
        path: POSIX path relative to the bundle root (never absolute, never ``..``).
        data: The file's bytes.
        executable: Whether the file carries an executable bit (scripts).
    """

    path: str
    data: bytes
    executable: bool = False


@dataclass(frozen=True)
class Bundle:
    """The files of one asset version.

    Attributes:
        root_name: The folder name (skill, MCP server) or file name (subagent) submitted;
            a skill's ``name`` must equal it, so it is part of the hashed content.
        files: The files, sorted by path.
        single_file: True when the asset is one file (a subagent ``.md``).
    """

    root_name: str
    files: tuple[BundleFile, ...] = field(default_factory=tuple)
    single_file: bool = False

    def get(self, path: str) -> BundleFile | None:
        """The file at ``path``, or None."""
        for bundle_file in self.files:
            if bundle_file.path == path:
                return bundle_file
        return None

    @property
    def total_bytes(self) -> int:
        """Sum of all file sizes."""
        return sum(len(f.data) for f in self.files)


SIDECAR_NAME = "agentreg.yaml"
"""The registry sidecar beside a folder asset's files; registry metadata, never content."""

SIDECAR_NAMES = frozenset({SIDECAR_NAME})
"""Bundle-root names :func:`read_bundle` leaves out by default."""

_SKIPPED_NAMES = frozenset({".git", "__pycache__", ".DS_Store"})
"""Tooling litter that is never part of an asset, at any depth."""

# O_NOFOLLOW refuses a symlink swapped in after the lstat; O_NONBLOCK keeps the open of a
# FIFO swapped in after the lstat from hanging (the fstat that follows then refuses it).
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)

_REGULAR_TAR_TYPES = frozenset({tarfile.REGTYPE, tarfile.AREGTYPE})


class BundleError(ProblemsError):
    """Raised when a bundle cannot be read safely or breaks a limit.

    Attributes:
        problems: ``bundle.*`` findings (severity BLOCK), each naming the offending path
            relative to the bundle root when there is one.
    """


def read_bundle(
    path: Path, *, limits: BundleLimits, exclude: frozenset[str] = SIDECAR_NAMES
) -> Bundle:
    """Read the files of an asset from disk, refusing anything unsafe or oversized.

    Submitted folders come from users' machines and repositories, so the walk trusts
    nothing: symlinks that leave the folder or lead nowhere, device files, FIFOs and
    sockets are refused (FIFOs are never opened: an open would hang), names must be
    UTF-8 without backslashes, and the walk stops as soon as a cap is clearly exceeded so
    a folder with a million files is never listed to the end. A symlink that stays inside
    the folder is read as the file it points to. ``.git``, ``__pycache__`` and
    ``.DS_Store`` are skipped at any depth.

    Args:
        path: A folder (skill, MCP server) or one file (subagent). The path itself may be
            a symlink: the user named it.
        limits: Caps on file count, file size, total size and folder depth.
        exclude: Names at the bundle root that are not content (the registry sidecar).

    Returns:
        The bundle, files sorted by path. ``root_name`` is the folder or file name.

    Raises:
        BundleError: With every problem found, when any rule is broken.
    """
    root_name = Path(os.path.abspath(path)).name
    try:
        root_stat = os.stat(path)
    except FileNotFoundError:
        raise BundleError([_problem("not-found", f"{path} does not exist")]) from None
    except OSError as error:
        raise BundleError(
            [_problem("unreadable", f"cannot read {path}: {error.strerror}")]
        ) from None
    if stat.S_ISDIR(root_stat.st_mode):
        walker = _Walker(real_root=os.path.realpath(path), limits=limits, exclude=exclude)
        walker.walk(os.fspath(path))
        return walker.finish(root_name=root_name, single_file=False)
    if stat.S_ISREG(root_stat.st_mode):
        walker = _Walker(real_root=os.path.realpath(path), limits=limits)
        name_problem = _name_problem(root_name)
        if name_problem is not None:
            raise BundleError([name_problem])
        walker.visit_file(os.path.realpath(path), root_name, root_stat)
        return walker.finish(root_name=root_name, single_file=True)
    raise BundleError(
        [
            _problem(
                "special-file",
                f"{path} is {_describe_mode(root_stat.st_mode)}; submit a folder or a file",
            )
        ]
    )


@dataclass
class _Walker:
    """State of one folder walk: what was read, what was refused, and how much was seen."""

    real_root: str
    limits: BundleLimits
    exclude: frozenset[str] = frozenset()
    files: list[BundleFile] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)
    seen_files: int = 0
    seen_folders: int = 0
    seen_bytes: int = 0
    stopped: bool = False

    def walk(self, folder: str) -> None:
        """Walk ``folder`` depth-first, reading files until done or a cap stops the walk."""
        pending: list[tuple[str, str]] = [(folder, "")]
        while pending and not self.stopped:
            directory, prefix = pending.pop()
            try:
                # Entries are taken as the OS lists them, never sorted first: sorting
                # would mean listing a huge folder to the end before any cap applies.
                with os.scandir(directory) as entries:
                    for entry in entries:
                        if self.stopped:
                            break
                        subfolder = self._visit(entry, prefix)
                        if subfolder is not None:
                            pending.append(subfolder)
            except OSError as error:
                shown = _shown(prefix.rstrip("/")) or "."
                self._add("unreadable", f"cannot list the folder: {error.strerror}", file=shown)

    def _visit(self, entry: os.DirEntry[str], prefix: str) -> tuple[str, str] | None:
        """Handle one directory entry; return a subfolder still to walk, if it is one."""
        name = entry.name
        relative = prefix + name
        if name in _SKIPPED_NAMES or (not prefix and name in self.exclude):
            return None
        name_problem = _name_problem(relative)
        if name_problem is not None:
            # Counted like a file, so a flood of bad names still stops the walk.
            if self._count_file():
                self.problems.append(name_problem)
            return None
        try:
            entry_stat = entry.stat(follow_symlinks=False)
        except OSError as error:
            self._add("unreadable", f"cannot read it: {error.strerror}", file=relative)
            return None
        if stat.S_ISDIR(entry_stat.st_mode):
            return self._enter(entry.path, relative)
        if stat.S_ISLNK(entry_stat.st_mode):
            self._visit_link(entry.path, relative)
            return None
        self.visit_file(entry.path, relative, entry_stat)
        return None

    def _enter(self, path: str, relative: str) -> tuple[str, str] | None:
        """Decide whether to walk into a subfolder, enforcing the depth cap."""
        self.seen_folders += 1
        if self.seen_folders > self.limits.max_files:
            # Folders cost a listing each; a flood of them is refused like a flood of files.
            self._stop(
                "too-many-folders",
                f"the bundle has more than {self.limits.max_files} folders; "
                f"the limit is {self.limits.max_files}",
            )
            return None
        depth = relative.count("/") + 1
        if depth > self.limits.max_depth:
            self._add(
                "too-deep",
                f"this folder is nested {depth} levels deep; the limit is {self.limits.max_depth}",
                file=relative,
                fix="flatten the folder structure",
            )
            return None
        return path, relative + "/"

    def _visit_link(self, link: str, relative: str) -> None:
        """Follow a symlink only when it stays inside the bundle and reaches a file."""
        try:
            target = os.readlink(link)
        except OSError as error:
            self._add("unreadable", f"cannot read the symlink: {error.strerror}", file=relative)
            return
        resolved = os.path.realpath(link)
        if not _is_within(resolved, self.real_root):
            self._add(
                "symlink-outside",
                f"is a symlink to {target}, which is outside the bundle folder",
                file=relative,
                fix="copy the file into the folder instead of linking to it",
            )
            return
        try:
            target_stat = os.stat(resolved)
        except OSError as error:
            reason = "does not exist" if error.errno == errno.ENOENT else error.strerror
            self._add(
                "symlink-dangling",
                f"is a symlink to {target}, which {reason}",
                file=relative,
                fix="remove the link or point it at a file inside the folder",
            )
            return
        if stat.S_ISDIR(target_stat.st_mode):
            self._add(
                "symlink-folder",
                f"is a symlink to the folder {target}; links to folders are not followed",
                file=relative,
                fix="replace the link with the files it points to",
            )
            return
        self.visit_file(resolved, relative, target_stat)

    def visit_file(self, source: str, relative: str, file_stat: os.stat_result) -> None:
        """Read one file (already lstat'ed) if it is regular and within the size caps."""
        if not self._count_file():
            return
        if not stat.S_ISREG(file_stat.st_mode):
            self._add(
                "special-file",
                f"is {_describe_mode(file_stat.st_mode)}; only regular files can be submitted",
                file=relative,
                fix="remove it from the folder",
            )
            return
        if file_stat.st_size > self.limits.max_file_bytes:
            self._add_too_large(relative, file_stat.st_size)
            return
        self.seen_bytes += file_stat.st_size
        if self.seen_bytes > self.limits.max_total_bytes:
            return  # Reported once by finish(); reading more would be wasted work.
        try:
            data = _read_regular(source, max_bytes=self.limits.max_file_bytes)
        except _ChangedWhileReadingError as error:
            self._add("unreadable", str(error), file=relative)
            return
        except OSError as error:
            self._add("unreadable", f"cannot read it: {error.strerror}", file=relative)
            return
        executable = bool(stat.S_IMODE(file_stat.st_mode) & 0o111)
        self.files.append(BundleFile(path=relative, data=data, executable=executable))

    def finish(self, *, root_name: str, single_file: bool) -> Bundle:
        """Return the bundle, or raise every problem found."""
        if self.seen_bytes > self.limits.max_total_bytes:
            self._add_total_too_large(self.seen_bytes, partial=self.stopped)
        if not self.files and not self.problems:
            self._add("empty", f"{root_name} holds no files")
        if self.problems:
            raise BundleError(_sorted_problems(self.problems))
        ordered = tuple(sorted(self.files, key=lambda bundle_file: bundle_file.path))
        return Bundle(root_name=root_name, files=ordered, single_file=single_file)

    def _count_file(self) -> bool:
        """Count one more file; False (and stop the walk) once past the cap."""
        self.seen_files += 1
        if self.seen_files <= self.limits.max_files:
            return True
        self._stop(
            "too-many-files",
            f"the bundle has more than {self.limits.max_files} files; "
            f"the limit is {self.limits.max_files}",
            fix="remove what the asset does not need (build output, virtualenvs, node_modules)",
        )
        return False

    def _stop(self, check: str, message: str, *, fix: str | None = None) -> None:
        if not self.stopped:
            self._add(check, message, fix=fix)
        self.stopped = True

    def _add(
        self, check: str, message: str, *, file: str | None = None, fix: str | None = None
    ) -> None:
        self.problems.append(_problem(check, message, file=file, fix=fix))

    def _add_too_large(self, relative: str, size: int) -> None:
        self.problems.append(_file_too_large(relative, size, self.limits))

    def _add_total_too_large(self, size: int, *, partial: bool) -> None:
        self.problems.append(_total_too_large(size, self.limits, partial=partial))


class _ChangedWhileReadingError(Exception):
    """A file changed between the lstat and the read (swapped for a FIFO, or grew)."""


def _read_regular(path: str, *, max_bytes: int) -> bytes:
    """Read a file that an lstat said is regular, without trusting that it still is."""
    descriptor = os.open(path, _OPEN_FLAGS)
    with open(descriptor, "rb") as stream:  # Owns the descriptor from here on.
        mode = os.fstat(stream.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise _ChangedWhileReadingError(f"became {_describe_mode(mode)} while being read")
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _ChangedWhileReadingError(f"grew past {max_bytes:,} bytes while being read")
    return data


def _name_problem(relative: str) -> Finding | None:
    """Refuse names other systems would mangle: non-UTF-8 bytes and backslashes."""
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return _problem(
            "bad-name",
            "the file name is not valid UTF-8",
            file=_shown(relative),
            fix="rename it using UTF-8 characters",
        )
    if "\\" in relative:
        return _problem(
            "bad-name",
            "the file name contains a backslash, which Windows reads as a folder separator",
            file=relative,
            fix="rename it without backslashes",
        )
    return None


def _shown(relative: str) -> str:
    r"""A printable form of a path whose bytes may not be UTF-8 (shown as ``\xff``)."""
    try:
        raw = os.fsencode(relative)
    except UnicodeEncodeError:
        return relative.encode("utf-8", "backslashreplace").decode("ascii")
    return raw.decode("utf-8", "backslashreplace")


def _is_within(path: str, root: str) -> bool:
    """Tell whether a resolved path is the root or below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _describe_mode(mode: int) -> str:
    """Name a file type the way a user knows it."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def _problem(
    check: str, message: str, *, file: str | None = None, fix: str | None = None
) -> Finding:
    return Finding(
        check_id=f"bundle.{check}", severity=Severity.BLOCK, message=message, file=file, fix=fix
    )


def _file_too_large(relative: str, size: int, limits: BundleLimits) -> Finding:
    return _problem(
        "file-too-large",
        f"is {size:,} bytes; the limit for one file is {limits.max_file_bytes:,} bytes",
        file=relative,
        fix="remove the file or make it smaller; large data does not belong in an asset",
    )


def _total_too_large(size: int, limits: BundleLimits, *, partial: bool) -> Finding:
    amount = f"at least {size:,}" if partial else f"{size:,}"
    return _problem(
        "too-large",
        f"the files add up to {amount} bytes; the limit is {limits.max_total_bytes:,} bytes",
        fix="remove files the asset does not need",
    )


def _sorted_problems(problems: list[Finding]) -> list[Finding]:
    """Problems in a stable order: bundle-wide ones first, then by file."""
    return sorted(problems, key=lambda problem: (problem.file or "", problem.check_id))


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
        raise BundleError(_sorted_problems(reader.problems)) from None
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
            self.problems.append(_file_too_large(name, member.size, self.limits))
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
        self.problems.append(_problem(check, message, file=file))

    def finish(self) -> Bundle:
        """Assemble the bundle, or raise every problem found."""
        if self.total_bytes > self.limits.max_total_bytes:
            self.problems.append(
                _total_too_large(self.total_bytes, self.limits, partial=self.stopped)
            )
        if not self.files and not self.problems:
            self.add("empty", "the archive holds no files")
        bundle = None if self.problems else self._assemble()
        if bundle is None:
            raise BundleError(_sorted_problems(self.problems))
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
    return None


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
