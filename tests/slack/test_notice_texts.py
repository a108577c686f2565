"""The notices' Slack wording: reminders, escalations and the submitter's DMs, escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent_registry.lifecycle.contract import Vote
from agent_registry.lifecycle.stages import Decision, Stage
from agent_registry.slack import notice_texts
from agent_registry.slack.notice_texts import notice_text
from agent_registry.vocabulary.findings import Finding, Severity
from tests.slack.factories import HASH, LEAK, NOW, UI, make_eval, make_status


def test_reminder_says_how_long_and_what_is_missing() -> None:
    text = notice_texts.reminder_text(make_status(), waited=timedelta(days=2))
    assert "waited 2d" in text
    assert "2 more approvals and an approver from security" in text


def test_escalation_links_the_workflow_and_the_message() -> None:
    text = notice_texts.escalation_text(
        make_status(owner_team="<!here>"),
        waited=timedelta(days=4, hours=6),
        ui_link=UI,
        message_link="https://acme.slack.com/archives/C1/p1",
    )
    assert "4d 6h" in text
    assert "mcp-server/io.github.acme/tickets@1.3.0" in text
    assert f"<{UI}|workflow>" in text
    assert "<https://acme.slack.com/archives/C1/p1|review message>" in text
    assert "<!here>" not in text


def test_eval_failed_dm_lists_the_blocking_findings() -> None:
    findings = [
        Finding(
            check_id=LEAK,
            severity=Severity.BLOCK,
            message="AWS key <!channel>",
            file="scripts/run.sh",
            line=3,
        ),
        Finding(check_id="hygiene.todo", severity=Severity.WARN, message="a TODO"),
    ]
    status = make_status(stage=Stage.EVAL_FAILED, eval=make_eval(findings, blocking=7, warnings=1))
    text = notice_texts.eval_failed_text(status, ui_link=UI)
    assert "7 blocking, 1 warning" in text
    assert f"`{LEAK}` `scripts/run.sh:3`" in text
    assert "hygiene.todo" not in text
    assert "<!channel>" not in text
    assert "agentreg show mcp-server/io.github.acme/tickets@1.3.0" in text
    assert "agentreg revise" in text


def test_decision_dms_carry_the_reason_escaped() -> None:
    status = make_status()
    changes = notice_texts.changes_requested_text(
        status, by="sec@acme.io", reason="pin <!here> & retry"
    )
    rejected = notice_texts.rejected_text(status, by="sec@acme.io", reason="<https://evil|no>")
    assert "sec@acme.io" in changes
    assert "> pin &lt;!here&gt; &amp; retry" in changes
    assert "agentreg revise" in changes
    assert "rejected by *sec@acme.io*" in rejected
    assert "> &lt;https://evil|no&gt;" in rejected


def test_published_dm_names_the_hash() -> None:
    status = make_status(
        stage=Stage.PUBLISHED,
        votes=[Vote(reviewer="sec@acme.io", decision=Decision.APPROVE, at=NOW)],
    )
    text = notice_texts.published_text(status, ui_link=UI)
    assert "is published" in text
    assert HASH[:12] in text
    assert "sec@acme.io" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(days=2), "2d"),
        (timedelta(days=1, hours=6, minutes=5), "1d 6h"),
        (timedelta(minutes=36), "36m"),
        (timedelta(seconds=5), "5s"),
    ],
)
def test_format_duration(value: timedelta, expected: str) -> None:
    assert notice_texts.format_wait(value) == expected


# --- notice_text: the wording for each event ------------------------------------------


def _decided(decision: Decision, reason: str | None) -> list[Vote]:
    """An approval first, then the deciding vote, as the workflow records them."""
    return [
        Vote(reviewer="carl@acme.io", decision=Decision.APPROVE, reason="fine by me", at=NOW),
        Vote(reviewer="sec@acme.io", decision=decision, reason=reason, at=NOW),
    ]


def test_reminder_event() -> None:
    text = notice_text("review-reminder", make_status(), ui_link=UI, waited=timedelta(days=2))
    assert text == (
        "⏰ This review has waited 2d; still needs 2 more approvals and an approver from security."
    )


def test_reminder_event_without_a_wait_says_zero() -> None:
    text = notice_text("review-reminder", make_status(), ui_link=UI)
    assert text is not None
    assert "waited 0s" in text


def test_escalation_event() -> None:
    text = notice_text(
        "review-escalated", make_status(), ui_link=UI, waited=timedelta(days=4, hours=6)
    )
    assert text == (
        "🚨 The review of `mcp-server/io.github.acme/tickets@1.3.0` (team *support-tools*, "
        "risk *high*) has waited 4d 6h without a decision; still needs 2 more approvals and "
        f"an approver from security. <{UI}|workflow>"
    )


def test_published_event() -> None:
    status = make_status(
        stage=Stage.PUBLISHED,
        votes=[Vote(reviewer="sec@acme.io", decision=Decision.APPROVE, at=NOW)],
    )
    assert notice_text("published", status, ui_link=UI) == (
        "🎉 `mcp-server/io.github.acme/tickets@1.3.0` is published. Approved by sec@acme.io. "
        f"Content hash `{HASH[:12]}`. <{UI}|workflow>"
    )


def test_eval_failed_event() -> None:
    finding = Finding(
        check_id=LEAK, severity=Severity.BLOCK, message="AWS key", file="run.sh", line=3
    )
    status = make_status(stage=Stage.EVAL_FAILED, eval=make_eval([finding], blocking=1, warnings=0))
    assert notice_text("eval-failed", status, ui_link=UI) == (
        "❌ `mcp-server/io.github.acme/tickets@1.3.0` failed its evals: 1 blocking, 0 warnings\n"
        f"🛑 *block* `{LEAK}` `run.sh:3` — AWS key\n"
        "Fix them and send a revision: "
        "`agentreg revise mcp-server/io.github.acme/tickets@1.3.0 <path>`. "
        f"<{UI}|workflow>"
    )


def test_changes_requested_event_names_the_reviewer_who_asked() -> None:
    status = make_status(votes=_decided(Decision.REQUEST_CHANGES, "pin <!here> & retry"))
    assert notice_text("changes-requested", status, ui_link=UI) == (
        "✏️ *sec@acme.io* requested changes to `mcp-server/io.github.acme/tickets@1.3.0`:\n"
        "> pin &lt;!here&gt; &amp; retry\n"
        "Send a revision: `agentreg revise mcp-server/io.github.acme/tickets@1.3.0 <path>`"
    )


def test_rejected_event_names_the_reviewer_who_rejected() -> None:
    status = make_status(stage=Stage.REJECTED, votes=_decided(Decision.REJECT, "leaks a key"))
    assert notice_text("rejected", status, ui_link=UI) == (
        "❌ `mcp-server/io.github.acme/tickets@1.3.0` was rejected by *sec@acme.io*:\n> leaks a key"
    )


def test_decision_event_without_a_reason_quotes_nothing() -> None:
    status = make_status(stage=Stage.REJECTED, votes=_decided(Decision.REJECT, None))
    text = notice_text("rejected", status, ui_link=UI)
    assert text == notice_texts.rejected_text(status, by="sec@acme.io", reason="")


@pytest.mark.parametrize("event", ["changes-requested", "rejected"])
def test_decision_event_without_a_deciding_vote_has_no_wording(event: str) -> None:
    votes = [Vote(reviewer="carl@acme.io", decision=Decision.APPROVE, at=NOW)]
    assert notice_text(event, make_status(votes=votes), ui_link=UI) is None


@pytest.mark.parametrize("event", ["review-requested", "withdrawn", "", "REJECTED"])
def test_unknown_event_has_no_wording(event: str) -> None:
    assert notice_text(event, make_status(), ui_link=UI, waited=timedelta(days=1)) is None
