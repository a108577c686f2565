"""The local spool: events appended one JSON line at a time, claimed in batches to send.

Appending must be cheap and safe when several sessions' hooks run at once, so every
append takes a short exclusive ``flock`` on a lock file and writes one line with
``O_APPEND``. A sender never reads the live spool: under the same lock it renames it to
``batch-<time>-<pid>.jsonl`` and sends that file at leisure, while new events start a
fresh spool. A batch is deleted only once the registry has taken it; a batch sent again
after a crash or a timeout is harmless because every event carries its ``event_id``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from agent_registry.catalog.models import UsageEvent
from agent_registry.usage.paths import UsagePaths

logger = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 0.1
"""How long an append waits for another process's append or claim before giving up."""

LOCK_POLL_SECONDS = 0.005

MAX_SPOOL_BYTES = 4 * 1024 * 1024
"""A spool this large means nothing has been sent for a long time; new events are dropped
rather than filling the disk."""

MAX_BATCHES = 64
"""As many unsent batches as this also stop new events, for the same reason."""


class SpoolBusyError(TimeoutError):
    """Another process held the spool lock for longer than an append may wait."""


class SpoolFullError(OSError):
    """The spool reached its size cap; the event was not kept."""


@dataclass(frozen=True)
class SpoolState:
    """How much is waiting to be sent.

    Attributes:
        events: Lines in the live spool.
        oldest_at: When its first event happened; None if empty or unreadable.
        batches: Claimed batches left over from an earlier, unfinished send.
        unreadable: The first line could not be read (a corrupt spool is sent, and
            cleaned, as soon as possible).
    """

    events: int
    oldest_at: datetime | None
    batches: int
    unreadable: bool = False


@contextlib.contextmanager
def locked(path: Path, *, wait_seconds: float) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the block.

    Args:
        path: The lock file (created if missing).
        wait_seconds: How long to retry before giving up; 0 tries once.

    Raises:
        SpoolBusyError: The lock stayed taken.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise SpoolBusyError(f"{path} is held by another process")
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":  # Claude Code runs there too; the CLI must at least import
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def append(paths: UsagePaths, event: UsageEvent) -> None:
    """Add one event to the spool.

    Raises:
        SpoolBusyError: The spool stayed locked for :data:`LOCK_WAIT_SECONDS`.
        SpoolFullError: The spool or the unsent batches reached their cap.
        OSError: The folder cannot be written.
    """
    paths.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = event.model_dump_json(exclude_none=True).encode() + b"\n"
    with locked(paths.lock, wait_seconds=LOCK_WAIT_SECONDS):
        if _size(paths.spool) + len(line) > MAX_SPOOL_BYTES or len(paths.batches()) >= MAX_BATCHES:
            raise SpoolFullError(f"usage spool in {paths.folder} is full; dropping a use")
        fd = os.open(paths.spool, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


def state(paths: UsagePaths) -> SpoolState:
    """How many events wait and since when, read without taking the lock.

    A torn read (an append in flight) only miscounts by one line, which moves a flush
    by one hook call at most.
    """
    batches = len(paths.batches())
    try:
        data = paths.spool.read_bytes()
    except FileNotFoundError:
        return SpoolState(events=0, oldest_at=None, batches=batches)
    events = data.count(b"\n")
    if not data:
        return SpoolState(events=0, oldest_at=None, batches=batches)
    first = data.split(b"\n", 1)[0]
    try:
        oldest = UsageEvent.model_validate_json(first).at
    except ValidationError:
        return SpoolState(events=events, oldest_at=None, batches=batches, unreadable=True)
    return SpoolState(events=events, oldest_at=oldest, batches=batches)


def claim(paths: UsagePaths, *, wait_seconds: float) -> Path | None:
    """Move the live spool aside as a batch to send; new events start a new spool.

    Returns:
        The batch file, or None when the spool is empty.

    Raises:
        SpoolBusyError: The spool stayed locked.
    """
    with locked(paths.lock, wait_seconds=wait_seconds):
        if _size(paths.spool) == 0:
            return None
        batch = paths.folder / f"batch-{time.time_ns():020d}-{os.getpid()}.jsonl"
        paths.spool.rename(batch)
        return batch


def read_batch(path: Path) -> list[UsageEvent]:
    """The events of a batch; lines that are not events are logged and skipped.

    Raises:
        OSError: The file cannot be read.
    """
    events: list[UsageEvent] = []
    bad = 0
    for line in path.read_bytes().splitlines():
        if not line.strip():
            continue
        try:
            events.append(UsageEvent.model_validate_json(line))
        except ValidationError:
            bad += 1
    if bad:
        logger.warning("skipped %d unreadable line(s) in %s", bad, path.name)
    return events


def batch_age_seconds(path: Path, now: float) -> float:
    """Seconds since a batch was claimed, from the time in its name (else its mtime)."""
    try:
        claimed_ns = int(path.name.split("-")[1])
        return now - claimed_ns / 1e9
    except (IndexError, ValueError):
        try:
            return now - path.stat().st_mtime
        except OSError:
            return 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
