"""The review messages: what a reviewer sees, within Block Kit's limits, safe from injection."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.contract import (
    AssetStatus,
    Deprecation,
    SimilarAsset,
    StageChange,
    Vote,
)
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.slack import messages
from agent_registry.slack.actions import (
    APPROVE_ACTION,
    ATTEST_ACTION,
    DEPRECATE_ACTION,
    DEPRECATE_MODAL_CALLBACK,
    DEPRECATE_REASON_BLOCK,
    DEPRECATE_REPLACEMENT_BLOCK,
    REASON_BLOCK,
    REASON_INPUT,
    REASON_MODAL_CALLBACK,
    REJECT_ACTION,
    REQUEST_CHANGES_ACTION,
)
from agent_registry.vocabulary.findings import Finding, Severity
from tests.slack.factories import HASH, LEAK, NOW, REF, UI, make_eval, make_status

INJECTIONS = ("<!channel>", "<https://evil.example|click>", "<!here>", "<@U0ADMIN>")


def _request(status: AssetStatus | None = None, **kwargs: Any) -> list[Block]:
    args: dict[str, Any] = {
        "ui_link": UI,
        "changes": None,
        "scope_lines": ["get_ticket: read", "delete_ticket: delete"],
        "description": "Read and manage support tickets.",
    }
    return messages.review_request_blocks(status or make_status(), **(args | kwargs))


def _dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    """Serialise like the Web client does; ``to_dict`` raises on any Block Kit violation."""
    return [block.to_dict() for block in blocks]


def _text(blocks: list[Block]) -> str:
    return json.dumps(_dicts(blocks), ensure_ascii=False)


def _texts(value: object) -> list[str]:
    """Every ``text`` string anywhere in a serialised message."""
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        for item in value.values():
            found += _texts(item)
        return found
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def _buttons(blocks: list[Block]) -> list[dict[str, Any]]:
    return [
        element
        for block in _dicts(blocks)
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_request_names_what_a_reviewer_decides_on() -> None:
    text = _text(_request())
    assert "mcp-server io.github.acme/tickets 1.3.0" in text
    assert "support-tools" in text
    assert "ana@acme.io" in text
    assert "ben@acme.io" in text
    assert "Machine-authored" in text
    assert "HIGH" in text
    assert "delete_ticket deletes (scope.yaml:7)" in text
    assert "2 approvals, incl. one from security" in text
    assert HASH[:12] in text
    assert HASH in text
    assert "0 blocking, 1 warning" in text
    assert "`scope.unrestricted-shell` `scope.yaml:12`" in text
    assert "tool run_query executes arbitrary SQL" in text
    assert "Read and manage support tickets." in text
    assert "delete_ticket: delete" in text
    assert f"<{UI}|" in text


def test_header_is_the_asset() -> None:
    header = _dicts(_request())[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Review: mcp-server io.github.acme/tickets 1.3.0"


def test_human_authored_is_said_too() -> None:
    text = _text(_request(make_status(machine_authored=False)))
    assert "Human-authored" in text
    assert "Machine-authored" not in text


def test_three_buttons_carry_the_ref() -> None:
    buttons = _buttons(_request())
    assert [b["action_id"] for b in buttons] == [
        APPROVE_ACTION,
        REQUEST_CHANGES_ACTION,
        REJECT_ACTION,
    ]
    assert {b["value"] for b in buttons} == {"mcp-server/io.github.acme/tickets@1.3.0"}
    approve, request_changes, reject = buttons
    assert approve["style"] == "primary"
    assert "style" not in request_changes
    assert "confirm" not in approve
    assert reject["style"] == "danger"
    assert reject["confirm"]["style"] == "danger"
    assert reject["confirm"]["confirm"]["text"] == "Reject"
    assert "io.github.acme/tickets@1.3.0" in reject["confirm"]["text"]["text"]


def test_new_version_shows_changes_since_the_published_one() -> None:
    changes = ["tool added: delete_ticket (delete)", "update_ticket: +delete"]
    text = _text(_request(changes=changes, previous_version="1.2.0"))
    assert "Changes since 1.2.0" in text
    assert "• tool added: delete_ticket (delete)" in text
    assert "• update_ticket: +delete" in text


def test_first_version_has_no_changes_section() -> None:
    assert "Changes since" not in _text(_request(changes=None))


def test_unchanged_new_version_says_so() -> None:
    text = _text(_request(changes=[], previous_version="1.2.0"))
    assert "Changes since 1.2.0" in text
    assert "No change to the description or the scope" in text


def test_similar_assets_default_to_the_eval() -> None:
    helpdesk = SimilarAsset(
        ref="mcp-server/acme/helpdesk@1.0.0",
        owner_team="support",
        score=0.81,
        description="Files and searches helpdesk tickets.",
    )
    status = make_status(eval=make_eval().model_copy(update={"similar": [helpdesk]}))
    text = _text(_request(status))
    assert "mcp-server/acme/helpdesk@1.0.0" in text
    assert "team support, 81% alike" in text
    assert "Files and searches helpdesk tickets." in text
    other = helpdesk.model_copy(update={"ref": "mcp-server/acme/other@2.0.0"})
    assert "acme/other" in _text(_request(status, similar=[other]))


def test_blocking_findings_come_before_warnings() -> None:
    findings = [
        Finding(check_id="hygiene.todo", severity=Severity.WARN, message="a TODO"),
        Finding(
            check_id=LEAK,
            severity=Severity.BLOCK,
            message="AWS key",
            file="scripts/run.sh",
            line=3,
        ),
    ]
    text = _text(_request(make_status(eval=make_eval(findings, blocking=1, warnings=1))))
    assert text.index(LEAK) < text.index("hygiene.todo")
    assert f"`{LEAK}` `scripts/run.sh:3`" in text


def test_findings_beyond_the_summary_point_at_agentreg_show() -> None:
    assert "more findings" not in _text(_request(make_status(eval=make_eval(warnings=1))))
    text = _text(_request(make_status(eval=make_eval(warnings=30))))
    assert "29 more findings: `agentreg show mcp-server/io.github.acme/tickets@1.3.0`" in text


def test_huge_review_stays_within_block_kit_limits() -> None:
    findings = [
        Finding(
            check_id=f"secrets.key-{i}",
            severity=Severity.BLOCK,
            message="x" * 900,
            file=f"scripts/file_{i}.py",
            line=i + 1,
        )
        for i in range(200)
    ]
    status = make_status(
        ref=AssetRef(kind=AssetKind.SKILL, name="n" * 300, version="1.0.0"),
        eval=make_eval(findings, blocking=200, warnings=0).model_copy(
            update={
                "tier_reasons": ["r" * 500] * 100,
                "similar": [
                    SimilarAsset(
                        ref="s" * 300, owner_team="t" * 300, score=0.5, description="d" * 3000
                    )
                ]
                * 50,
            }
        ),
        authors=["a" * 300] * 40,
        votes=[
            Vote(reviewer=f"r{i}@acme.io" + "&" * 200, decision=Decision.APPROVE, at=NOW)
            for i in range(30)
        ],
    )
    blocks = messages.progress_blocks(
        status,
        ui_link=UI,
        changes=[f"tool added: t{i} " + "&" * 500 for i in range(300)],
        scope_lines=[f"tool_{i}: " + "<" * 500 for i in range(300)],
        previous_version="0.9.0",
        description="d" * 5000,
    )
    serialised = _dicts(blocks)
    assert len(serialised) <= 50
    for block in serialised:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert all(len(field["text"]) <= 2000 for field in block.get("fields", []))
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
    text = _text(blocks)
    assert "more findings: `agentreg show skill/" in text
    assert "more changes" in text
    assert "full text: `agentreg show skill/" in text
    assert len(_buttons(blocks)) == 3
    assert all(len(b["value"]) <= 2000 for b in _buttons(blocks))


def test_block_kit_limits_are_really_checked() -> None:
    """The limit tests mean something only if ``to_dict`` refuses oversized blocks."""
    with pytest.raises(SlackObjectFormationError):
        HeaderBlock(text=PlainTextObject(text="h" * 151)).to_dict()


def test_submitter_content_cannot_mention_or_link() -> None:
    hostile = " ".join(INJECTIONS) + " & @channel @here"
    status = make_status(
        owner_team="support-tools",
        submitter=hostile,
        authors=[hostile],
        eval=make_eval(
            [Finding(check_id="x.y", severity=Severity.WARN, message=hostile, file=hostile)]
        ).model_copy(
            update={
                "tier_reasons": [hostile],
                "similar": [
                    SimilarAsset(ref=hostile, owner_team=hostile, score=0.5, description=hostile)
                ],
            }
        ),
    )
    blocks = _request(
        status,
        description=hostile,
        changes=[hostile],
        scope_lines=[hostile],
        previous_version="<!channel>",
    )
    texts = _texts(_dicts(blocks))
    joined = "\n".join(texts)
    for injection in INJECTIONS:
        assert injection not in joined
    assert "&lt;!channel&gt;" in joined
    assert "&lt;https://evil.example|click&gt;" in joined
    assert "&amp;" in joined
    assert not re.search(r"@(channel|here)\b", joined)
    # Every remaining "<" opens a link or date we wrote ourselves.
    for opening in re.findall(r"<[^>]*>", joined):
        assert opening.startswith((f"<{UI}|", "<!date^")), opening


def test_review_text_is_one_escaped_line() -> None:
    line = messages.review_text(make_status(owner_team="<!channel>"))
    assert "\n" not in line
    assert "mcp-server io.github.acme/tickets 1.3.0" in line
    assert "risk high" in line
    assert "&lt;!channel&gt;" in line


def test_progress_shows_approvals_so_far_and_what_is_missing() -> None:
    votes = [Vote(reviewer="carl@acme.io", decision=Decision.APPROVE, at=NOW)]
    blocks = messages.progress_blocks(
        make_status(votes=votes), ui_link=UI, changes=None, scope_lines=None, similar=None
    )
    text = _text(blocks)
    assert "Approvals so far*: carl@acme.io" in text
    assert "Still needed*: 1 more approval and an approver from security" in text
    assert len(_buttons(blocks)) == 3


def test_request_without_votes_has_no_progress_line() -> None:
    assert "Approvals so far" not in _text(_request())


@pytest.mark.parametrize(
    ("outcome", "reason", "expected"),
    [
        (Decision.APPROVE, None, "✅ *Approved* by *sec@acme.io*"),
        (Decision.REJECT, "leaks <!channel> & more", "❌ *Rejected* by *sec@acme.io*"),
        (Decision.REQUEST_CHANGES, "pin the version", "✏️ *Changes requested* by *sec@acme.io*"),
    ],
)
def test_decided_message_replaces_buttons_with_the_decision(
    outcome: Decision, reason: str | None, expected: str
) -> None:
    status = make_status(
        stage=Stage.PUBLISHED if outcome is Decision.APPROVE else Stage.REJECTED,
        votes=[Vote(reviewer="sec@acme.io", decision=outcome, reason=reason, at=NOW)],
    )
    blocks = messages.decided_blocks(
        status,
        ui_link=UI,
        decided_by="sec@acme.io",
        decided_at=NOW,
        outcome=outcome,
        reason=reason,
    )
    text = _text(blocks)
    assert expected in text
    assert "2026-11-24 10:30 UTC" in text
    # The review buttons are gone; a published version keeps only Deprecate.
    expected_buttons = [DEPRECATE_ACTION] if outcome is Decision.APPROVE else []
    assert [b["action_id"] for b in _buttons(blocks)] == expected_buttons
    assert "io.github.acme/tickets 1.3.0" in text
    assert "support-tools" in text
    assert "HIGH" in text
    assert HASH in text
    if reason is not None:
        assert "<!channel>" not in text
        assert "> leaks &lt;!channel&gt; &amp; more" in text or "> pin the version" in text


def test_decided_reason_of_any_length_fits() -> None:
    blocks = messages.decided_blocks(
        make_status(),
        ui_link=UI,
        decided_by="sec@acme.io",
        decided_at=NOW,
        outcome=Decision.REJECT,
        reason="no\n" * 3000,
    )
    assert all(
        len(b.get("text", {}).get("text", "")) <= 3000 for b in _dicts(blocks) if "text" in b
    )


@pytest.mark.parametrize(
    ("decision", "title"),
    [(Decision.REJECT, "Reject"), (Decision.REQUEST_CHANGES, "Request changes")],
)
def test_reason_modal(decision: Decision, title: str) -> None:
    view = messages.reason_modal(
        decision=decision, ref=str(REF), private_metadata='{"ref": "x"}'
    ).to_dict()
    assert view["type"] == "modal"
    assert view["callback_id"] == REASON_MODAL_CALLBACK
    assert view["title"]["text"] == title
    assert len(view["title"]["text"]) <= 24
    assert view["submit"]["text"]
    assert view["close"]["text"]
    assert view["private_metadata"] == '{"ref": "x"}'
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert len(inputs) == 1
    assert inputs[0]["block_id"] == REASON_BLOCK
    assert inputs[0]["optional"] is False
    element = inputs[0]["element"]
    assert element["type"] == "plain_text_input"
    assert element["action_id"] == REASON_INPUT
    assert element["multiline"] is True
    assert element["max_length"] == 2000


def test_no_reason_modal_for_approval() -> None:
    with pytest.raises(ValueError, match="approval"):
        messages.reason_modal(decision=Decision.APPROVE, ref=str(REF), private_metadata="")


# ----- the published life ----------------------------------------------------------------


def _approved(status: AssetStatus) -> list[Block]:
    return messages.decided_blocks(
        status,
        ui_link=UI,
        decided_by="sec@acme.io",
        decided_at=NOW,
        outcome=Decision.APPROVE,
        reason=None,
    )


def test_the_deprecate_button_asks_to_confirm_and_names_the_version() -> None:
    [button] = _buttons(_approved(make_status(stage=Stage.PUBLISHED)))
    assert button["action_id"] == DEPRECATE_ACTION
    assert button["value"] == str(REF)
    assert button["style"] == "danger"
    assert button["confirm"]["confirm"]["text"] == "Deprecate"


def _deprecation(**fields: Any) -> Deprecation:
    base: dict[str, Any] = {
        "reason": "superseded by <!channel> tickets v2",
        "by": "platform-lead@acme.io",
        "at": NOW,
        "sunset_at": NOW + timedelta(days=30),
        "replacement": "mcp-server/io.github.acme/tickets@2.0.0",
    }
    return Deprecation(**(base | fields))


def test_a_deprecated_version_says_why_and_what_replaces_it_without_the_button() -> None:
    blocks = _approved(make_status(stage=Stage.DEPRECATED, deprecation=_deprecation()))
    text = _text(blocks)
    assert _buttons(blocks) == []
    assert "*Deprecated* by *platform-lead@acme.io*" in text
    assert "superseded by &lt;!channel&gt; tickets v2" in text
    assert "<!channel>" not in text
    assert "Use `mcp-server/io.github.acme/tickets@2.0.0` instead." in text
    assert "Retires on" in text and "2026-12-24 10:30 UTC" in text
    assert "✅ *Approved*" in text  # what was decided stays


def test_a_retired_version_says_when_it_retired() -> None:
    retired_at = NOW + timedelta(days=31)
    status = make_status(
        stage=Stage.RETIRED,
        deprecation=_deprecation(replacement=None),
        history=[StageChange(stage=Stage.RETIRED, at=retired_at)],
    )
    blocks = _approved(status)
    text = _text(blocks)
    assert _buttons(blocks) == []
    assert "*Retired* on" in text and "2026-12-25 10:30 UTC" in text
    assert "Use " not in text


def test_a_deprecation_reason_of_any_length_fits() -> None:
    status = make_status(stage=Stage.DEPRECATED, deprecation=_deprecation(reason="x" * 10_000))
    assert all(len(text) <= 3000 for text in _texts(_dicts(_approved(status))))


def test_the_attestation_request_carries_an_attest_button() -> None:
    deadline = NOW + timedelta(days=14)
    blocks = messages.attestation_request_blocks(
        make_status(stage=Stage.RECERTIFYING), ui_link=UI, deadline=deadline
    )
    text = _text(blocks)
    [button] = _buttons(blocks)
    assert (button["action_id"], button["value"]) == (ATTEST_ACTION, str(REF))
    assert "due for re-certification" in text
    assert "support-tools" in text
    assert "2026-12-08 10:30 UTC" in text
    assert f"agentreg attest {REF} --as YOU" in text


def test_the_attestation_reminder_says_it_still_needs_the_attestation() -> None:
    blocks = messages.attestation_request_blocks(
        make_status(stage=Stage.RECERTIFYING), ui_link=UI, deadline=None, reminder=True
    )
    assert "still needs" in _text(blocks)
    assert [b["action_id"] for b in _buttons(blocks)] == [ATTEST_ACTION]


def test_deprecate_modal() -> None:
    view = messages.deprecate_modal(ref=str(REF), private_metadata='{"ref": "x"}').to_dict()
    assert view["callback_id"] == DEPRECATE_MODAL_CALLBACK
    assert len(view["title"]["text"]) <= 24
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs[DEPRECATE_REASON_BLOCK].get("optional") is False
    assert inputs[DEPRECATE_REPLACEMENT_BLOCK]["optional"] is True
    assert view["private_metadata"] == '{"ref": "x"}'
