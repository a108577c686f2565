"""Refused requests, chained into the audit log like every other event.

A refusal is not about one asset version, so its row names what was attempted instead:
kind ``access``, name the request (``POST /api/v1/votes``), version ``-``; the reason
and the HTTP status are in the detail. Reads of one version's log (which filter by
kind, name and version) never see these rows; ``agentreg audit export`` does.
"""

from __future__ import annotations

from sqlmodel import Session

from agent_registry.registry.store.idempotency import _locked_head, chain_after
from agent_registry.registry.tables import AuditEvent, utcnow

REFUSAL_KIND = "access"
REFUSED_ACTION = "refused"


def record_refusal(
    session: Session,
    *,
    event_key: str,
    actor: str,
    action: str,
    reason: str,
    status: int,
) -> AuditEvent:
    """Append a ``refused`` event for ``actor`` attempting ``action``."""
    head = _locked_head(session)
    event = AuditEvent(
        event_key=event_key,
        at=utcnow(),
        actor=actor[:320],
        action=REFUSED_ACTION,
        kind=REFUSAL_KIND,
        name=action[:300],
        version="-",
        detail={"reason": reason, "status": status},
    )
    return chain_after(session, head, event)
