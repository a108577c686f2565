"""Reading a bundle from disk safely: the files of a submitted folder or file.

Submitted folders come from users' machines and repositories, so nothing on disk is
trusted: see :func:`read_bundle` for what is refused and why.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from agent_registry.assets.bundle import SIDECAR_NAMES, Bundle, BundleFile, BundleLimits
from agent_registry.assets.bundle_problems import (
    BundleError,
    bundle_problem,
    file_too_large,
    sorted_problems,
    total_too_large,
)
from agent_registry.assets.safe_files import (
    ChangedWhileReadingError,
    colliding_names,
    collision_message,
    describe_mode,
    is_within,
    portable_name_problem,
    read_regular,
)
from agent_registry.vocabulary.findings import Finding

_SKIPPED_NAMES = frozenset({".git", "__pycache__", ".DS_Store"})
"""Tooling litter that is never part of an asset, at any depth."""


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
        raise BundleError([bundle_problem("not-found", f"{path} does not exist")]) from None
    except OSError as error:
        raise BundleError(
            [bundle_problem("unreadable", f"cannot read {path}: {error.strerror}")]
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
            bundle_problem(
                "special-file",
                f"{path} is {describe_mode(root_stat.st_mode)}; submit a folder or a file",
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
        if not is_within(resolved, self.real_root):
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
            if error.errno == errno.ENOENT:
                reason = "does not exist"
            elif error.errno == errno.ELOOP:
                reason = "leads back to itself (a symlink loop)"
            else:
                reason = f"cannot be read ({error.strerror})"
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
                f"is {describe_mode(file_stat.st_mode)}; only regular files can be submitted",
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
            data = read_regular(source, max_bytes=self.limits.max_file_bytes)
        except ChangedWhileReadingError as error:
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
        for first, second in colliding_names(f.path for f in self.files):
            self._add("name-collision", collision_message(first, second), file=second)
        if self.problems:
            raise BundleError(sorted_problems(self.problems))
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
        self.problems.append(bundle_problem(check, message, file=file, fix=fix))

    def _add_too_large(self, relative: str, size: int) -> None:
        self.problems.append(file_too_large(relative, size, self.limits))

    def _add_total_too_large(self, size: int, *, partial: bool) -> None:
        self.problems.append(total_too_large(size, self.limits, partial=partial))


def _name_problem(relative: str) -> Finding | None:
    """Refuse names other systems would mangle: non-UTF-8 bytes and backslashes."""
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return bundle_problem(
            "bad-name",
            "the file name is not valid UTF-8",
            file=_shown(relative),
            fix="rename it using UTF-8 characters",
        )
    if "\\" in relative:
        return bundle_problem(
            "bad-name",
            "the file name contains a backslash, which Windows reads as a folder separator",
            file=relative,
            fix="rename it without backslashes",
        )
    portable = portable_name_problem(relative)
    if portable is not None:
        return bundle_problem(
            "bad-name",
            f"the file name {portable}",
            file=relative.encode("unicode_escape").decode("ascii"),
            fix="rename it with printable characters Windows and macOS accept",
        )
    return None


def _shown(relative: str) -> str:
    r"""A printable form of a path whose bytes may not be UTF-8 (shown as ``\xff``)."""
    try:
        raw = os.fsencode(relative)
    except UnicodeEncodeError:
        return relative.encode("utf-8", "backslashreplace").decode("ascii")
    return raw.decode("utf-8", "backslashreplace")
