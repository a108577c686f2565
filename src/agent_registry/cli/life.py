"""``agentreg attest`` and ``agentreg deprecate``: a published version's life from the terminal.

Both go to the registry server, which names the caller from their credential (``--as``
only in local mode, on trust) and sends the lifecycle its update; the lifecycle's
validators decide who may do what and when, and their refusal comes back as the
server's one-line 403. What could never be accepted (a malformed replacement, a date
that is not a date) is refused here first, before anything is sent.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from agent_registry.api.write_schemas import ATTESTATIONS_PATH, DEPRECATIONS_PATH
from agent_registry.assets.refs import AssetRef, InvalidRefError
from agent_registry.cli.errors import CliError
from agent_registry.cli.registry_writes import acted_as, send_write
from agent_registry.cli.render import plain
from agent_registry.cli.submit import AsOption
from agent_registry.config import Settings

_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")

RefArgument = Annotated[str, typer.Argument(help="The version, kind/name@version.")]
ReasonOption = Annotated[
    str, typer.Option(help="Why it is deprecated; shown to everyone who uses it.")
]
ReplacementOption = Annotated[
    str | None, typer.Option(help="The version to use instead, kind/name@version.")
]
SunsetOption = Annotated[
    str | None,
    typer.Option(help="The day it retires, YYYY-MM-DD (UTC); the policy's default if omitted."),
]


def attest(ref: RefArgument, as_user: AsOption = None) -> None:
    """Attest, for the owner team, that a version due for re-certification is still fit."""
    target = AssetRef.parse(ref)
    reply = send_write(Settings(), ATTESTATIONS_PATH, {"ref": str(target)}, as_user=as_user)
    plain(f"{target}: {reply.message} {acted_as(reply)}")


def deprecate(
    ref: RefArgument,
    reason: ReasonOption,
    replacement: ReplacementOption = None,
    sunset: SunsetOption = None,
    as_user: AsOption = None,
) -> None:
    """Deprecate a published version: it retires at the sunset date (owner or platform team)."""
    target = AssetRef.parse(ref)
    day = parse_sunset(sunset, today=datetime.now(UTC).date())
    body = {
        "ref": str(target),
        "reason": parse_reason(reason),
        "replacement": parse_replacement(replacement, ref=target),
        "sunset": day.isoformat() if day is not None else None,
    }
    reply = send_write(Settings(), DEPRECATIONS_PATH, body, as_user=as_user)
    plain(f"{target}: {reply.message} {acted_as(reply)}")


def parse_reason(text: str) -> str:
    """The deprecation reason, trimmed.

    Raises:
        CliError: If it is blank: users of the version would be told nothing.
    """
    reason = text.strip()
    if not reason:
        raise CliError("--reason must say why the version is deprecated")
    return reason


def parse_replacement(text: str | None, *, ref: AssetRef) -> str | None:
    """The replacement as ``kind/name@version``, checked before it reaches the lifecycle.

    Args:
        text: What the user passed as ``--replacement``, if anything.
        ref: The version being deprecated.

    Returns:
        The normalised reference, or None when no replacement was given.

    Raises:
        CliError: If it is not an exact reference, or names the deprecated version itself.
    """
    if text is None:
        return None
    try:
        parsed = AssetRef.parse(text)
    except InvalidRefError as error:
        raise CliError(f"--replacement: {error}") from None
    if parsed == ref:
        raise CliError(f"--replacement: {ref} cannot replace itself")
    return str(parsed)


def parse_sunset(text: str | None, *, today: date) -> datetime | None:
    """The sunset day as an aware UTC midnight, the instant the lifecycle's timer aims at.

    Args:
        text: What the user passed as ``--sunset``, if anything.
        today: Today in UTC; the sunset must come after it.

    Returns:
        Midnight UTC at the start of that day, or None for the policy's default.

    Raises:
        CliError: If it is not a real ``YYYY-MM-DD`` date, or not after today.
    """
    if text is None:
        return None
    value = text.strip()
    try:
        # fromisoformat alone also takes 20270115 and 2027-W03-5; keep the one spelling.
        if not _DATE_PATTERN.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise CliError(f"--sunset: '{text}' is not a date; write YYYY-MM-DD") from None
    if day <= today:
        raise CliError(f"--sunset: {day.isoformat()} is not after today ({today.isoformat()})")
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
