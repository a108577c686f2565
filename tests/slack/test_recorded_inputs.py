"""Notice and review-message inputs scheduled by an older build still render the same.

Builds before the snapshot sent the lifecycle's whole ``status`` with every ``send_notice``
and ``post_review_request`` call; such a call may still be pending when a newer worker
takes it. ``recorded_inputs.json`` holds inputs copied from recorded histories
(``history`` names the one), each with what the build that recorded it rendered from its
``status`` (``rendered``, written by that build). They must read into the new models and
render exactly that, from the snapshot alone.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.models import Notice, ReviewMessageUpdate, ReviewRequestInput
from agent_registry.lifecycle.contract import SlackMessageRef, Vote
from agent_registry.lifecycle.notices import NoticeEvent
from agent_registry.lifecycle.stages import Decision
from agent_registry.slack import messages
from agent_registry.slack.notice_texts import attestation_text, notice_text
from agent_registry.slack.snapshot import ReviewSnapshot, review_snapshot

RECORDED = json.loads((Path(__file__).parent / "recorded_inputs.json").read_text())
UI: str = RECORDED["ui_link"]
CASES: list[dict[str, Any]] = RECORDED["cases"]


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['history']}:{case['input'].get('event', case['activity'])}"


def _decoded(raw: dict[str, Any], model: type[Any]) -> Any:
    """The input as a worker decodes it: the recorded JSON payload, through the converter."""
    payload = Payload(
        metadata={"encoding": b"json/plain"}, data=json.dumps(raw, separators=(",", ":")).encode()
    )
    [value] = pydantic_data_converter.payload_converter.from_payloads([payload], [model])
    return value


def _dicts(blocks: list[Any]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _rendered(case: dict[str, Any], snapshot: ReviewSnapshot, raw: dict[str, Any]) -> Any:
    """What the activities render from the snapshot, in the shape the fixture recorded."""
    if case["activity"] == "post_review_request":
        return {
            "text": messages.review_text(snapshot),
            "blocks": _dicts(messages.progress_blocks(snapshot, ui_link=UI, similar=None)),
        }
    event = raw["event"]
    rendered: dict[str, Any] = {"text": notice_text(event, snapshot, ui_link=UI, waited=None)}
    if event in (NoticeEvent.ATTESTATION_REQUESTED, NoticeEvent.ATTESTATION_REMINDER):
        deadline = datetime.fromisoformat(raw["deadline"]) if raw.get("deadline") else None
        reminder = event == NoticeEvent.ATTESTATION_REMINDER
        rendered["text"] = attestation_text(snapshot, deadline=deadline, reminder=reminder)
        rendered["blocks"] = _dicts(
            messages.attestation_request_blocks(
                snapshot, ui_link=UI, deadline=deadline, reminder=reminder
            )
        )
    if event in (NoticeEvent.RETIRED, NoticeEvent.DEPRECATED):
        approval = next(
            Vote.model_validate(vote)
            for vote in raw["status"]["votes"]
            if vote["decision"] == Decision.APPROVE.value
        )
        rendered["blocks"] = _dicts(
            messages.decided_blocks(
                snapshot,
                ui_link=UI,
                decided_by=approval.reviewer,
                decided_at=approval.at,
                outcome=approval.decision,
                reason=approval.reason,
            )
        )
    return rendered


def test_the_fixture_covers_every_worded_kind_of_input() -> None:
    events = {case["input"].get("event", case["activity"]) for case in CASES}
    assert events >= {
        "post_review_request",
        "published",
        "eval-failed",
        "changes-requested",
        "attestation-requested",
        "attestation-reminder",
        "retired",
    }
    assert all(case["input"]["status"] is not None for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_an_old_input_reads_into_the_snapshot_and_renders_the_same(case: dict[str, Any]) -> None:
    raw = case["input"]
    model = Notice if case["activity"] == "send_notice" else ReviewRequestInput
    decoded = _decoded(raw, model)
    assert decoded.snapshot is not None
    assert str(decoded.snapshot.ref) == "{kind}/{name}@{version}".format(**raw["status"]["ref"])
    assert _rendered(case, decoded.snapshot, raw) == case["rendered"]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_the_new_input_carries_no_status_and_is_smaller(case: dict[str, Any]) -> None:
    raw = case["input"]
    model = Notice if case["activity"] == "send_notice" else ReviewRequestInput
    [payload] = pydantic_data_converter.payload_converter.to_payloads([_decoded(raw, model)])
    sent = json.loads(payload.data)
    assert "status" not in sent
    assert len(payload.data) < len(json.dumps(raw, separators=(",", ":")))


def test_an_old_review_message_update_reads_too() -> None:
    raw = next(c["input"] for c in CASES if c["activity"] == "post_review_request")
    old = {"status": raw["status"], "message": {"channel": "C1", "ts": "1.2"}, "decision": None}
    update = _decoded(old, ReviewMessageUpdate)
    assert update.message == SlackMessageRef(channel="C1", ts="1.2")
    assert update.snapshot.content_hash == raw["status"]["content_hash"]


def test_an_old_notice_without_a_status_has_no_snapshot() -> None:
    raw = next(c["input"] for c in CASES if c["activity"] == "send_notice")
    notice = _decoded(raw | {"status": None, "key": ""}, Notice)
    assert notice.snapshot is None
    assert notice.text == raw["text"]


def test_a_snapshot_is_its_own_snapshot() -> None:
    raw = next(c["input"] for c in CASES if c["activity"] == "send_notice")
    snapshot = _decoded(raw, Notice).snapshot
    assert review_snapshot(snapshot) is snapshot
