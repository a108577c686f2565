"""Sending the spool to the registry: only when worth it, and never for long.

A flush is due when the oldest spooled event is older than ``max_age_seconds``, when
more than ``max_events`` wait, or when an earlier send left a batch behind. The send
runs in a daemon thread that the hook waits for at most ``budget_seconds``; past that
the hook returns and the process exits, the batch stays on disk, and the next hook sends
it again (the registry ignores event ids it has already counted).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from agent_registry.catalog.models import UsageEvent
from agent_registry.usage import spool
from agent_registry.usage.paths import UsagePaths

logger = logging.getLogger(__name__)

MAX_BATCH_AGE_SECONDS = 7 * 24 * 3600.0
"""A batch nobody could send for a week is dropped, so one bad batch cannot wedge the queue."""


class UsageSink(Protocol):
    """Where a batch goes: ``HttpCatalog`` or ``DatabaseCatalog``, as far as the hook needs."""

    def record_usage(self, events: list[UsageEvent]) -> int:
        """Count uses; returns how many were recorded."""
        ...


@dataclass(frozen=True)
class FlushPolicy:
    """When to send and how long to try.

    Attributes:
        max_age_seconds: Send once the oldest waiting event is this old.
        max_events: Send once more than this many events wait.
        budget_seconds: The most the hook waits for a send.
        chunk_size: Events per ``record_usage`` call.
    """

    max_age_seconds: float = 60.0
    max_events: int = 50
    budget_seconds: float = 0.3
    chunk_size: int = 200


class FlushOutcome(StrEnum):
    """How a flush attempt ended."""

    NOT_DUE = "not-due"
    BUSY = "busy"
    SENT = "sent"
    FAILED = "failed"
    TIMED_OUT = "timed-out"


def flush_due(paths: UsagePaths, policy: FlushPolicy, now: datetime) -> bool:
    """Tell whether the spool should be sent now.

    Never within ``max_age_seconds`` of a failed send (see :func:`back_off`).

    Args:
        paths: The usage folder.
        policy: The thresholds.
        now: The current time (aware).
    """
    if _backing_off(paths, policy, now):
        return False
    current = spool.state(paths)
    if current.batches or current.unreadable:
        return True
    if current.events > policy.max_events:
        return True
    if current.oldest_at is None:
        return False
    return (now - current.oldest_at).total_seconds() >= policy.max_age_seconds


def send_pending(paths: UsagePaths, open_sink: Callable[[], UsageSink], policy: FlushPolicy) -> int:
    """Claim the spool and send every waiting batch, oldest first, stopping at a failure.

    Only one process sends at a time (``flush.lock``); another hook finding it taken
    leaves the work to it.

    Args:
        paths: The usage folder.
        open_sink: Opens the registry (API or database) the batch goes to.
        policy: Chunk size for each call.

    Returns:
        How many events the registry reported recorded.

    Raises:
        spool.SpoolBusyError: Another process is sending.
        Exception: Whatever the sink raised; the batch stays for next time.
    """
    with spool.locked(paths.flush_lock, wait_seconds=0):
        spool.claim(paths, wait_seconds=spool.LOCK_WAIT_SECONDS)
        batches = _drop_stale(paths.batches())
        if not batches:
            return 0
        sink = open_sink()
        recorded = 0
        for batch in batches:
            events = spool.read_batch(batch)
            for start in range(0, len(events), policy.chunk_size):
                recorded += sink.record_usage(events[start : start + policy.chunk_size])
            batch.unlink(missing_ok=True)
        return recorded


def flush_within(
    paths: UsagePaths,
    open_sink: Callable[[], UsageSink],
    policy: FlushPolicy,
    *,
    now: datetime,
) -> FlushOutcome:
    """Send the spool if due, waiting at most ``policy.budget_seconds`` for it.

    Never raises: every failure is logged and the spool is left for the next hook.

    Args:
        paths: The usage folder.
        open_sink: Opens the registry; called in the sending thread.
        policy: Thresholds and budget.
        now: The current time (aware).

    Returns:
        What happened; a timed-out send may still finish if the process lives on.
    """
    try:
        if not flush_due(paths, policy, now):
            return FlushOutcome.NOT_DUE
    except OSError:
        logger.exception("cannot read the usage spool")
        return FlushOutcome.FAILED
    result: list[FlushOutcome] = []

    def run() -> None:
        started = time.monotonic()
        try:
            recorded = send_pending(paths, open_sink, policy)
        except spool.SpoolBusyError:
            result.append(FlushOutcome.BUSY)
            return
        except Exception:  # a hook must survive any sink failure; the log keeps it
            logger.exception("usage flush failed; the spool is kept for the next attempt")
            result.append(FlushOutcome.FAILED)
            return
        logger.info("sent usage: %d recorded in %.3fs", recorded, time.monotonic() - started)
        result.append(FlushOutcome.SENT)

    sender = threading.Thread(target=run, name="usage-flush", daemon=True)
    sender.start()
    sender.join(policy.budget_seconds)
    if sender.is_alive():
        logger.warning("usage flush gave up after %.3fs; the spool is kept", policy.budget_seconds)
        outcome = FlushOutcome.TIMED_OUT
    else:
        outcome = result[0] if result else FlushOutcome.FAILED
    if outcome in (FlushOutcome.FAILED, FlushOutcome.TIMED_OUT):
        back_off(paths, now)
    elif outcome is FlushOutcome.SENT:
        paths.backoff.unlink(missing_ok=True)
    return outcome


def back_off(paths: UsagePaths, now: datetime) -> None:
    """Remember a failed send, so the next attempt waits for the flush interval.

    A registry that is down would otherwise cost every hook call a connection attempt.
    """
    try:
        paths.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        paths.backoff.write_text(now.isoformat(), encoding="utf-8")
    except OSError:
        logger.warning("cannot record the failed send in %s", paths.backoff)


def _backing_off(paths: UsagePaths, policy: FlushPolicy, now: datetime) -> bool:
    try:
        failed_at = datetime.fromisoformat(paths.backoff.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return False
    if failed_at.tzinfo is None:
        return False
    return 0 <= (now - failed_at).total_seconds() < policy.max_age_seconds


def _drop_stale(batches: list[Path]) -> list[Path]:
    now = time.time()
    kept: list[Path] = []
    for batch in batches:
        if spool.batch_age_seconds(batch, now) > MAX_BATCH_AGE_SECONDS:
            logger.warning("dropping %s: unsent for over a week", batch.name)
            batch.unlink(missing_ok=True)
        else:
            kept.append(batch)
    return kept
