"""Comparing an installed copy on disk with the files its publication signed.

A skill edited after install, a bundled MCP server swapped at its path, or a local
folder that only borrows a published name: each shows as files whose sha256 differ
from the signed list. The comparison is by path inside the bundle, so it does not
depend on where the copy was installed; a single-file asset (a subagent) is compared
by content alone, since install renames it after the asset.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

SKIPPED_NAMES = frozenset({".git", "__pycache__", ".DS_Store"})
"""Litter tools leave beside an asset; the bundle reader skips it too."""

MAX_FILES = 2000
MAX_BYTES = 16 * 1024 * 1024


class LocalCopyError(ValueError):
    """The installed copy cannot be read (missing, too large, not a file or folder)."""


def installed_files(path: Path, *, single_file: bool) -> dict[str, str]:
    """sha256 of every file of the copy at ``path``, by path relative to it.

    Symlinks are not followed: a link in an installed copy is itself a change.

    Raises:
        LocalCopyError: Nothing readable there, or more than a copy could hold.
    """
    if single_file:
        if not path.is_file() or path.is_symlink():
            raise LocalCopyError(f"{path} is not a regular file")
        return {path.name: _digest(path)}
    if not path.is_dir() or path.is_symlink():
        raise LocalCopyError(f"{path} is not a folder")
    found: dict[str, str] = {}
    total = 0
    for folder, folders, files in os.walk(path, followlinks=False):
        folders[:] = [name for name in folders if name not in SKIPPED_NAMES]
        for name in files:
            if name in SKIPPED_NAMES:
                continue
            file = Path(folder) / name
            relative = file.relative_to(path).as_posix()
            if file.is_symlink() or not file.is_file():
                found[relative] = "not-a-regular-file"
                continue
            total += file.stat().st_size
            if len(found) >= MAX_FILES or total > MAX_BYTES:
                raise LocalCopyError(f"{path} holds more than an installed asset can")
            found[relative] = _digest(file)
    return found


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise LocalCopyError(f"cannot read {path}: {error.strerror}") from None


def drift(
    installed: Mapping[str, str], signed: Mapping[str, str], *, single_file: bool
) -> str | None:
    """How the installed files differ from the signed ones, or None when they match.

    Returns:
        A sentence naming the changed, missing and added files (at most a few of each).
    """
    if single_file:
        if sorted(installed.values()) == sorted(signed.values()):
            return None
        return "its content differs from the published file"
    changed = sorted(p for p in signed if p in installed and installed[p] != signed[p])
    missing = sorted(p for p in signed if p not in installed)
    added = sorted(p for p in installed if p not in signed)
    parts = [
        f"{label} {', '.join(paths[:5])}{' …' if len(paths) > 5 else ''}"
        for label, paths in (("changed:", changed), ("missing:", missing), ("added:", added))
        if paths
    ]
    return "; ".join(parts) if parts else None


def tree_digest(files: Mapping[str, str], *, single_file: bool) -> str:
    """One sha256 naming a set of files by path and content (content only when single).

    What the guard's signed snapshot lists per published version, so the guard can tell
    a copy on disk is a published one with one hash of its files.
    """
    if single_file:
        lines = sorted(f"{digest}  \n" for digest in files.values())
    else:
        lines = sorted(f"{digest}  {path}\n" for path, digest in files.items())
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
