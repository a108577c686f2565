"""Writing into a project so that a reader never sees half an asset.

Claude Code may start while an install runs; every file is written to a temporary name
beside its target and renamed into place, and a folder is assembled beside its target
and swapped in with renames, so each path holds either the old content or the new.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from agent_registry.assets.bundle import Bundle
from agent_registry.assets.unpack import write_bundle


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Args:
        path: The target; its folder is created if missing.
        data: The whole new content.
        mode: Permission bits of the new file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def staging_dir(beside: Path) -> Iterator[Path]:
    """A fresh folder next to ``beside`` (same file system, so renames are atomic).

    The folder is removed on exit unless it was renamed away.
    """
    beside.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{beside.name}.", dir=beside.parent))
    try:
        yield staged
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)


def swap_in_dir(staged: Path, target: Path) -> None:
    """Put the folder ``staged`` at ``target``, replacing what was there.

    The old folder is first renamed aside, then the new one renamed in, then the old one
    removed; a crash in between leaves either the old or the new folder at ``target``
    (and a hidden leftover beside it), never a mix.
    """
    if not target.exists() and not target.is_symlink():
        staged.replace(target)
        return
    aside = target.with_name(f".{target.name}.old-{os.getpid()}")
    remove_path(aside)
    target.replace(aside)
    try:
        staged.replace(target)
    except BaseException:
        aside.replace(target)
        raise
    remove_path(aside)


def remove_path(path: Path) -> None:
    """Delete a file or a folder tree, whichever ``path`` is; nothing if it is gone."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def write_bundle_dir(bundle: Bundle, target: Path) -> None:
    """Replace the folder ``target`` with exactly the files of ``bundle``, atomically."""
    with staging_dir(target) as staged:
        write_bundle(bundle, staged)
        swap_in_dir(staged, target)


def file_digests(root: Path) -> dict[str, str]:
    """sha256 of every regular file under ``root``, by POSIX path relative to it.

    Used to tell whether a folder still holds exactly what an install wrote.
    """
    digests: dict[str, str] = {}
    if not root.is_dir():
        return digests
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            relative = path.relative_to(root).as_posix()
            digests[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def bundle_digests(bundle: Bundle) -> dict[str, str]:
    """sha256 of every file of ``bundle``, by its bundle path."""
    return {f.path: hashlib.sha256(f.data).hexdigest() for f in bundle.files}
