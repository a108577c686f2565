"""Waiting for people, with reminders at set times: one helper for every such wait.

Reviews wait for votes and re-certifications for an attestation, and both remind someone
when a deadline passes. Like the samples' ``UpdatableTimer``, the waiting and its timers
live in a small class, so each phase says only what it waits for and what each alarm does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from temporalio import workflow

AlarmT = TypeVar("AlarmT")


@dataclass(frozen=True)
class Alarm(Generic[AlarmT]):
    """What happens at ``at`` if the wait is still on (``what`` is the phase's own)."""

    at: datetime
    what: AlarmT


class Reminders(Generic[AlarmT]):
    """A wait that rings its alarms in order while a condition stays false."""

    def __init__(self, alarms: list[Alarm[AlarmT]]) -> None:
        self._alarms = list(alarms)

    async def wait(self, condition: Callable[[], bool]) -> Alarm[AlarmT] | None:
        """Wait for ``condition`` or the next alarm, whichever comes first.

        Returns:
            The alarm that rang (it will not ring again), or None when ``condition``
            became true. With no alarm left, waits for ``condition`` alone.
        """
        timeout = None
        if self._alarms:
            timeout = max(self._alarms[0].at - workflow.now(), timedelta(0))
        try:
            await workflow.wait_condition(condition, timeout=timeout)
        except TimeoutError:
            return self._alarms.pop(0)
        return None
