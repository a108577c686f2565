"""Filesystem primitives for reading folders nobody vouches for.

A read that re-checks what it actually opened, containment of resolved paths, and file
types named the way a user knows them. The rules about what a bundle may hold are
:mod:`agent_registry.assets.bundle_reader`'s.
"""

from __future__ import annotations

import os
import stat

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
