"""Slack messages the registry posted, found again by the key of the call that posted them."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from agent_registry.registry.tables import SlackMessage


def find_message(session: Session, *, key: str) -> SlackMessage | None:
    """The message posted under ``key``, if any."""
    return session.get(SlackMessage, key)


def remember_message(
    session: Session, *, key: str, channel: str, ts: str, purpose: str
) -> SlackMessage:
    """Record a posted message; when another attempt recorded one first, keep that one.

    Returns:
        The message recorded under ``key``.
    """
    try:
        with session.begin_nested():
            row = SlackMessage(key=key, channel=channel, ts=ts, purpose=purpose)
            session.add(row)
        return row
    except IntegrityError:
        existing = session.get(SlackMessage, key)
        assert existing is not None  # the conflicting row is what made the insert fail
        return existing
