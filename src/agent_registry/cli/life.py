"""``agentreg attest`` and ``agentreg deprecate``: a published version's life from the terminal.

Both send a workflow update and print what the lifecycle answered. The lifecycle's
validators decide who may do what and when; their refusal comes back with its reason and
the error boundary prints it as one line. What could never be accepted (a malformed
replacement, a date that is not a date) is refused here first, before anything is sent.
As with the review commands, ``--as`` is taken on trust: the CLI serves the embedded
default, and the Slack app is where identities are verified.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated

import typer

from agent_registry.assets.refs import AssetRef, InvalidRefError
from agent_registry.cli.errors import CliError
from agent_registry.cli.lifecycle_client import (
    LifecycleHandle,
    is_running,
    lifecycle_handle,
    query_status,
)
from agent_registry.cli.render import plain
from agent_registry.cli.submit import AsOption, current_user
from agent_registry.contract import (
    ATTEST_UPDATE,
    DEPRECATE_UPDATE,
    AttestInput,
    DeprecateInput,
    VoteResult,
)
from agent_registry.temporal import connect

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
    request = AttestInput(attester=current_user(as_user), source="cli")
    asyncio.run(_send(target, ATTEST_UPDATE, request, closed="there is nothing to attest"))


def deprecate(
    ref: RefArgument,
    reason: ReasonOption,
    replacement: ReplacementOption = None,
    sunset: SunsetOption = None,
    as_user: AsOption = None,
) -> None:
    """Deprecate a published version: it retires at the sunset date (owner or platform team)."""
    target = AssetRef.parse(ref)
    request = DeprecateInput(
        actor=current_user(as_user),
        reason=parse_reason(reason),
        replacement=parse_replacement(replacement, ref=target),
        sunset=parse_sunset(sunset, today=datetime.now(UTC).date()),
        source="cli",
    )
    closed = "its lifecycle is over; there is nothing left to deprecate"
    asyncio.run(_send(target, DEPRECATE_UPDATE, request, closed=closed))


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


async def _send(
    ref: AssetRef, update: str, request: AttestInput | DeprecateInput, *, closed: str
) -> None:
    handle = await _open_lifecycle(ref, closed=closed)
    result = await handle.execute_update(
        update,
        request,
        # A fresh id per invocation: a second attempt is then judged by the validator and
        # refused with its reason, where a reused id would be silently deduplicated.
        id=f"cli/{update}/{uuid.uuid4()}",
        result_type=VoteResult,
    )
    plain(f"{ref}: {result.message}")


async def _open_lifecycle(ref: AssetRef, *, closed: str) -> LifecycleHandle:
    """The lifecycle's handle, once it is known to still take input.

    Raises:
        CliError: If the lifecycle has ended; the message names the stage it ended in.
    """
    client = await connect()
    handle = await lifecycle_handle(client, ref)
    if not await is_running(handle):
        status = await query_status(handle)
        raise CliError(f"{ref} is {status.stage.value}; {closed}")
    return handle
