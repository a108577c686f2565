"""Slack wording of lifecycle notices: reminders, escalations and the submitter's DMs.

Like the review messages, each text is a pure function of what the lifecycle shows (a
:class:`~agent_registry.slack.snapshot.ReviewSnapshot`, or the status query's full view,
reduced to one), written in Slack mrkdwn with untrusted content escaped.
:func:`notice_text` picks the wording for a notice's event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent_registry.lifecycle.notices import NoticeEvent
from agent_registry.slack.mrkdwn import (
    NAME_LIMIT,
    REASON_MAX_LENGTH,
    TOP_FINDINGS_SHOWN,
    code,
    counts,
    escape_mrkdwn,
    finding_line,
    fit_text,
    link,
    people,
    quote,
    short_hash,
    slack_date,
    still_needed,
)
from agent_registry.slack.snapshot import Shown, review_snapshot
from agent_registry.vocabulary.findings import Severity


def notice_text(
    event: str, status: Shown, *, ui_link: str, waited: timedelta | None = None
) -> str | None:
    """Slack wording for a lifecycle notice, or None when the event has none.

    The caller then sends its plain text, escaped. A decision DM names the reviewer of
    the first vote that is not an approval; without such a vote there is no wording.

    Args:
        event: The notice's event, a :class:`NoticeEvent` value (a plain string when it
            comes back from a workflow history).
        status: What the lifecycle shows.
        ui_link: The workflow's page in the Temporal UI.
        waited: How long the review has waited, for reminders and escalations.

    Returns:
        Slack mrkdwn, escaped; None for an event without Slack wording.
    """
    status = review_snapshot(status)
    if event == NoticeEvent.REVIEW_REMINDER:
        return reminder_text(status, waited=waited or timedelta(0))
    if event == NoticeEvent.REVIEW_ESCALATED:
        return escalation_text(status, waited=waited or timedelta(0), ui_link=ui_link)
    if event == NoticeEvent.PUBLISHED:
        return published_text(status, ui_link=ui_link)
    if event == NoticeEvent.EVAL_FAILED:
        return eval_failed_text(status, ui_link=ui_link)
    if event in (NoticeEvent.CHANGES_REQUESTED, NoticeEvent.REJECTED):
        vote = status.objection
        if vote is None:
            return None
        changes = event == NoticeEvent.CHANGES_REQUESTED
        wording = changes_requested_text if changes else rejected_text
        return wording(status, by=vote.reviewer, reason=vote.reason or "")
    return None


def reminder_text(status: Shown, *, waited: timedelta) -> str:
    """The reminder posted in the review thread once the SLA has passed.

    Args:
        status: What the lifecycle shows.
        waited: How long the review has waited.

    Returns:
        Slack mrkdwn, escaped.
    """
    status = review_snapshot(status)
    return f"⏰ This review has waited {format_wait(waited)}; still needs {still_needed(status)}."


def escalation_text(
    status: Shown, *, waited: timedelta, ui_link: str, message_link: str | None = None
) -> str:
    """The notice to the platform channel when a review sat past the escalation limit.

    Args:
        status: What the lifecycle shows.
        waited: How long the review has waited.
        ui_link: The workflow's page in the Temporal UI.
        message_link: Permalink of the review message, when known.

    Returns:
        Slack mrkdwn, escaped.
    """
    status = review_snapshot(status)
    risk = f", risk *{status.eval.risk_tier.value}*" if status.eval is not None else ""
    links = [link(ui_link, "workflow")]
    if message_link:
        links.append(link(message_link, "review message"))
    return (
        f"🚨 The review of {code(str(status.ref))} (team *{escape_mrkdwn(status.owner_team)}*"
        f"{risk}) has waited {format_wait(waited)} without a decision; still needs "
        f"{still_needed(status)}. {' · '.join(links)}"
    )


def published_text(status: Shown, *, ui_link: str) -> str:
    """The DM telling the submitter their version is published.

    Returns:
        Slack mrkdwn, escaped.
    """
    status = review_snapshot(status)
    approvers = f" Approved by {people(status.approvers)}." if status.approvers else ""
    return (
        f"🎉 {code(str(status.ref))} is published.{approvers} Content hash "
        f"{code(short_hash(status.content_hash))}. {link(ui_link, 'workflow')}"
    )


def eval_failed_text(status: Shown, *, ui_link: str) -> str:
    """The DM telling the submitter their version failed its evals, with what to fix.

    Returns:
        Slack mrkdwn, escaped.
    """
    ref = str(status.ref)
    summary = status.eval
    lines = [f"❌ {code(ref)} failed its evals"]
    if summary is not None:
        lines[0] += f": {counts(summary.blocking, summary.warnings)}"
        blocking = [f for f in summary.top_findings if f.severity is Severity.BLOCK]
        lines += [finding_line(f) for f in blocking[:TOP_FINDINGS_SHOWN]]
        if summary.blocking > min(len(blocking), TOP_FINDINGS_SHOWN):
            lines.append(f"…all findings: {code(f'agentreg show {ref}')}")
    lines.append(
        f"Fix them and send a revision: {code(f'agentreg revise {ref} <path>')}. "
        f"{link(ui_link, 'workflow')}"
    )
    return "\n".join(lines)


def changes_requested_text(status: Shown, *, by: str, reason: str) -> str:
    """The DM telling the submitter a reviewer asked for changes, and why.

    Returns:
        Slack mrkdwn, escaped.
    """
    ref = str(status.ref)
    return (
        f"✏️ *{fit_text(by, NAME_LIMIT)}* requested changes to {code(ref)}:\n"
        f"{quote(reason, REASON_MAX_LENGTH + 200)}\n"
        f"Send a revision: {code(f'agentreg revise {ref} <path>')}"
    )


def rejected_text(status: Shown, *, by: str, reason: str) -> str:
    """The DM telling the submitter their version was rejected, and why.

    Returns:
        Slack mrkdwn, escaped.
    """
    return (
        f"❌ {code(str(status.ref))} was rejected by *{fit_text(by, NAME_LIMIT)}*:\n"
        f"{quote(reason, REASON_MAX_LENGTH + 200)}"
    )


def attestation_text(status: Shown, *, deadline: datetime | None, reminder: bool = False) -> str:
    """The DM asking the owner team to attest that a version is still fit for use.

    It says what passed already (the evals, under the policy in force today) and what
    is missing (a person's word), and what happens without it, so an ignored message
    surprises nobody when the version is deprecated.

    Args:
        status: What the lifecycle shows, re-certifying.
        deadline: When the grace period ends; None words it without a date.
        reminder: Word it as the reminder halfway through the grace period.

    Returns:
        Slack mrkdwn, escaped.
    """
    ref = code(str(status.ref))
    team = f"*{fit_text(status.owner_team, NAME_LIMIT)}*"
    by = f"by {slack_date(deadline)}" if deadline is not None else "within the grace period"
    if reminder:
        return (
            f"⏰ {ref} still needs team {team} to attest that it is fit for use, {by}, "
            "or it is deprecated."
        )
    passed = ""
    if status.eval is not None and status.eval.passed:
        passed = (
            f" Its evals passed again under policy {escape_mrkdwn(status.eval.policy_version)}."
        )
    return (
        f"🔁 {ref} is due for re-certification.{passed} Team {team} attests that it is "
        f"still fit for use {by}, or it is deprecated."
    )


def format_wait(value: timedelta) -> str:
    """A wait as people say it: ``2d``, ``1d 6h``, ``36m``.

    Returns:
        The largest two units that are not zero.
    """
    seconds = max(int(value.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return " ".join(parts[:2]) if parts else f"{seconds}s"
