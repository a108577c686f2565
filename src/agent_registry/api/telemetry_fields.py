"""What a telemetry event may say, and whose it is.

Installs and uses are counted per person and team on the dashboard, so an event is the
signed-in principal's own: its ``user`` is replaced by the principal's email, whatever
the body said (no more uses attributed to anyone). Every event needs an ``event_id``, so
a resend is counted once, and every text field has a length cap, so a 200 KB asset
name is refused naming the field rather than stored.
"""

from __future__ import annotations

from agent_registry.api.errors import ApiError
from agent_registry.catalog.models import InstallEvent, UsageEvent
from agent_registry.vocabulary.principal import Principal

FIELD_CAPS = {
    "ref": 300,
    "name": 200,
    "version": 64,
    "tool": 200,
    "team": 64,
    "session": 128,
    "event_id": 64,
}
"""The longest value each text field of an event may hold."""


def check_install(event: InstallEvent, principal: Principal) -> InstallEvent:
    """The install event as the principal's own, once its fields are within bounds.

    Raises:
        ApiError: 400 naming the field.
    """
    _check(event.model_dump(), where="")
    return event.model_copy(update={"user": principal.email})


def check_usage(events: list[UsageEvent], principal: Principal) -> list[UsageEvent]:
    """The usage events as the principal's own, once each one's fields are within bounds.

    Raises:
        ApiError: 400 naming the event's index and the field.
    """
    for index, event in enumerate(events):
        _check(event.model_dump(), where=f"{index}.")
    return [event.model_copy(update={"user": principal.email}) for event in events]


def _check(fields: dict[str, object], *, where: str) -> None:
    if not fields.get("event_id"):
        raise ApiError(
            400,
            f"{where}event_id: every event needs an id, so a resend is counted once",
            {"field": f"{where}event_id"},
        )
    for name, cap in FIELD_CAPS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > cap:
            raise ApiError(
                400,
                f"{where}{name}: {len(value)} characters; the most it may hold is {cap}",
                {"field": f"{where}{name}"},
            )
