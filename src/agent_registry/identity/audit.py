"""Refusals in the audit log: who tried what, and why it was refused.

A refused token or decision changes no asset, but a security reviewer still wants to
see it next to the decisions that were made: the same tamper-evident chain records it,
naming the principal that tried (or, for a token that proves nobody, the subject the
token claims, marked as unverified).
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import Engine

from agent_registry.registry.db import session_scope
from agent_registry.registry.store.refusals import record_refusal


class DatabaseRefusalLog:
    """Writes each refusal to the registry's audit log (a :class:`RefusalLog`)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def refused(self, *, actor: str, action: str, reason: str, status: int) -> None:
        """Append one ``refused`` audit event (off the event loop)."""
        await asyncio.to_thread(self._write, actor, action, reason, status)

    def _write(self, actor: str, action: str, reason: str, status: int) -> None:
        with session_scope(self._engine) as session:
            record_refusal(
                session,
                event_key=f"refused/{uuid.uuid4()}",
                actor=actor,
                action=action,
                reason=reason,
                status=status,
            )
