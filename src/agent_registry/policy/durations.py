"""Durations as policies write them: one integer and one unit, ``30s``, ``15m``, ``36h``, ``90d``.

:data:`Duration` is the pydantic type policy models use: it parses that form and writes it
back the same way, so a policy survives a round trip through Temporal's data converter.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_DURATION_PATTERN = re.compile(r"^(\d+)([smhd])$")
_DURATION_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION_FORMS = "an integer and one unit: 30s, 15m, 36h or 90d"


def parse_duration(text: str) -> timedelta:
    """Parse a policy duration such as ``30s``, ``15m``, ``36h`` or ``90d``.

    One integer and one unit keeps durations unambiguous for operators and reviewers
    alike; compound forms such as ``1d12h`` are written ``36h``.

    Args:
        text: The duration as written in the policy file.

    Returns:
        The duration.

    Raises:
        ValueError: If the text is not an integer followed by ``s``, ``m``, ``h`` or ``d``.
    """
    match = _DURATION_PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a duration; write {_DURATION_FORMS}")
    return timedelta(seconds=int(match[1]) * _DURATION_UNITS[match[2]])


def format_duration(value: timedelta) -> str:
    """Write a duration in the policy's own form, using the largest unit that is exact.

    This is how durations serialise to JSON, so a policy survives a round trip through
    Temporal's data converter and reads the way the operator wrote it.

    Args:
        value: The duration; sub-second parts are dropped (policies cannot express them).

    Returns:
        The duration as ``<integer><unit>``, e.g. ``2d`` or ``36h``.
    """
    seconds = int(value.total_seconds())
    for unit, unit_seconds in _DURATION_UNITS.items():
        if seconds % unit_seconds == 0:
            return f"{seconds // unit_seconds}{unit}"
    return f"{seconds}s"  # unreachable: every integer is a whole number of seconds


def _coerce_duration(value: object) -> object:
    """Accept a duration string from the file, or a timedelta from code."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"write the duration as a quoted string, {_DURATION_FORMS}")


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
"""A policy duration: parsed from ``30s``/``15m``/``36h``/``90d``, written back the same way."""
