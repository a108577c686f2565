"""Filesystem primitives for reading folders nobody vouches for.

A read that re-checks what it actually opened, containment of resolved paths, and file
types named the way a user knows them. The rules about what a bundle may hold are
:mod:`agent_registry.assets.bundle_reader`'s.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Iterable

# O_NOFOLLOW refuses a symlink swapped in after the lstat; O_NONBLOCK keeps the open of a
# FIFO swapped in after the lstat from hanging (the fstat that follows then refuses it).
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
)


class ChangedWhileReadingError(Exception):
    """A file changed between the lstat and the read (swapped for a FIFO, or grew)."""


def read_regular(path: str, *, max_bytes: int) -> bytes:
    """Read a file that an lstat said is regular, without trusting that it still is."""
    descriptor = os.open(path, _OPEN_FLAGS)
    with open(descriptor, "rb") as stream:  # Owns the descriptor from here on.
        mode = os.fstat(stream.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise ChangedWhileReadingError(f"became {describe_mode(mode)} while being read")
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ChangedWhileReadingError(f"grew past {max_bytes:,} bytes while being read")
    return data


def is_within(path: str, root: str) -> bool:
    """Tell whether a resolved path is the root or below it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def describe_mode(mode: int) -> str:
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


# --- names every file system can hold once -------------------------------------------

_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in "123456789¹²³"}
    | {f"lpt{n}" for n in "123456789¹²³"}
)
"""Device names Windows refuses as a file name, whatever the extension (``nul.txt`` too)."""

_WINDOWS_FORBIDDEN = frozenset('<>:"|?*')
"""Characters Windows refuses in a name (the backslash is refused separately)."""


def portable_name_problem(relative: str) -> str | None:
    """Why a bundle path cannot be written as-is on Linux, macOS and Windows alike, if so.

    A reviewed file whose name one system cannot hold is installed there under another
    name, or not at all, so a reviewer would not see what runs. Control characters also
    let a name print as something it is not.

    Args:
        relative: The POSIX path inside the bundle.

    Returns:
        The reason, phrased to follow the path, or None.
    """
    for part in relative.split("/"):
        bad = sorted({f"U+{ord(c):04X}" for c in part if unicodedata.category(c) == "Cc"})
        if bad:
            return f"holds the control character(s) {', '.join(bad)}"
        forbidden = sorted({c for c in part if c in _WINDOWS_FORBIDDEN})
        if forbidden:
            return f"holds {' '.join(forbidden)}, which Windows does not allow in a file name"
        if part.rstrip(" .") != part:
            return f"has the name {part!r} ending in a dot or space, which Windows drops"
        stem = part.split(".", 1)[0].rstrip(" ").casefold()
        if stem in _WINDOWS_RESERVED:
            return f"uses {part!r}, a device name Windows reserves"
    return None


def fold_key(relative: str) -> str:
    """The form under which a case-insensitive, normalising file system stores a path.

    macOS (APFS, HFS+) and Windows compare names case-insensitively, and macOS also
    treats composed and decomposed Unicode as the same name: two paths with one key are
    one file there.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", relative).casefold())


def colliding_names(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of paths (or their parent folders) that one file system would merge.

    Folders count too: ``Scripts/a`` and ``scripts/b`` would land in one folder on
    macOS, so the reviewed layout is not the installed one.

    Returns:
        ``(first, second)`` pairs, each naming the spelling seen first and the other one.
    """
    seen: dict[str, str] = {}
    collisions: list[tuple[str, str]] = []
    for path in sorted(paths):
        parts = path.split("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for candidate in candidates:
            key = fold_key(candidate)
            first = seen.setdefault(key, candidate)
            if first != candidate:
                collisions.append((first, candidate))
                break
    return collisions


def collision_message(first: str, second: str) -> str:
    """Why two bundle paths cannot both be installed, naming both."""
    return (
        f"'{second}' and '{first}' are one name on macOS and Windows (case or Unicode "
        "normalisation differs only), so only one would be installed there"
    )
