"""The notice events named in code are the ones recorded in lifecycle histories.

Running lifecycles replay with the event strings they recorded, and the notice activity
and the Slack wording pick their behaviour by them: an enum value that drifted from the
recorded string would leave old notices without their wording.
"""

from __future__ import annotations

import json
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from agent_registry.lifecycle.notices import NoticeEvent

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*/*.json"))


def _recorded_events() -> set[str]:
    """The ``event`` of every ``send_notice`` call in the recorded histories."""
    found: set[str] = set()
    for path in HISTORIES:
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        for event in history.events:
            if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                continue
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name != "send_notice":
                continue
            for payload in scheduled.input.payloads:
                found.add(json.loads(payload.data)["event"])
    return found


def test_every_recorded_notice_event_is_a_member() -> None:
    recorded = _recorded_events()
    assert "eval-failed" in recorded  # the histories do hold notices
    assert recorded <= {event.value for event in NoticeEvent}


def test_members_read_as_their_recorded_strings() -> None:
    assert NoticeEvent("attestation-reminder") is NoticeEvent.ATTESTATION_REMINDER
    assert f"{NoticeEvent.REVIEW_ESCALATED}" == "review-escalated"
    assert json.dumps({"event": NoticeEvent.EVAL_FAILED}) == '{"event": "eval-failed"}'
