"""What the lifecycle says, in words: waiting texts, notices, vote replies, UI details.

Pure functions of the lifecycle's state, kept apart from the workflow so that the
workflow reads as its state diagram and a change of wording is a change here only. The
texts end up in workflow details, notices and update replies; none of them decides
anything, so rewording never changes a recorded history's commands.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent_registry.lifecycle import review_rules
from agent_registry.lifecycle.contract import AssetStatus, EvalSummary, ReviewPlan, Vote
from agent_registry.lifecycle.stages import Decision, Stage


def when(moment: datetime) -> str:
    """A moment as reviewers read it in Slack and the CLI, always in UTC."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def human_duration(span: timedelta) -> str:
    """A span in its largest whole unit (``3d``, ``5h``), as a reminder says how long."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def tier(summary: EvalSummary | None) -> str:
    """The risk tier of the last eval, or ``unknown`` before one ran."""
    return summary.risk_tier.value if summary else "unknown"


def eval_note(summary: EvalSummary | None) -> str:
    """One line of an eval run for the stage history and the submitter's notice."""
    if summary is None:
        return ""
    lines = [f"{summary.blocking} blocking, {summary.warnings} warning(s)"]
    lines += [f"{f.check_id} at {f.location}: {f.message}" for f in summary.top_findings]
    return "; ".join(lines)


def judged_note(summary: EvalSummary) -> str:
    """The stage note of a judged submission: its tier when it passed, else what blocked.

    The same words whichever side records the move (the workflow in older runs, the
    eval's own transaction since the steps were merged), so the history reads alike.
    """
    return f"risk {tier(summary)}" if summary.passed else eval_note(summary)


def eval_details(summary: EvalSummary | None) -> list[str]:
    """The last eval run in Markdown, so the UI answers "why this tier, what was found"."""
    if summary is None:
        return []
    counts = f"{summary.blocking} blocking, {summary.warnings} warning(s)"
    parts = [f"**Eval** (policy {summary.policy_version}): {counts}; risk {tier(summary)}"]
    parts += [f"- {reason}" for reason in summary.tier_reasons]
    findings = [
        f"- {f.severity.value} `{f.check_id}` {f.location}: {f.message}"
        for f in summary.top_findings
    ]
    if findings:
        parts.append("**Top findings**\n" + "\n".join(findings))
    if summary.similar:
        similar = "\n".join(f"- {match.label()}" for match in summary.similar)
        parts.append("**Similar published assets** (reuse before rebuild)\n" + similar)
    return parts


def current_details(stage: Stage, waiting_for: str, summary: EvalSummary | None) -> str:
    """The workflow's current details in the Temporal UI: stage, what it waits for, eval."""
    details = f"**{stage.value}** · {waiting_for}"
    return "\n\n".join([details, *eval_details(summary)])


def review_request(status: AssetStatus, plan: ReviewPlan) -> str:
    """The review request as a plain notice, for lifecycles from before Slack messages."""
    summary = status.eval
    reasons = "; ".join(summary.tier_reasons if summary else []) or "no risk signals"
    return (
        f"Review {status.ref} from team {status.owner_team} (risk {tier(summary)}: {reasons}). "
        f"Needs {plan.approvals_required} approval(s). "
        f"Approve with `agentreg review approve {status.ref} --as YOU`."
    )


def review_waiting(plan: ReviewPlan, votes: list[Vote], deadline: datetime | None) -> str:
    """Who the review still waits for, and when its SLA ends."""
    missing = review_rules.missing_approvals(plan, votes)
    text = "waiting for " + ", ".join(missing)
    if deadline is not None:
        text += f"; SLA ends {when(deadline)}"
    return text


def review_alarm(waited: timedelta, waiting: str) -> str:
    """A reminder or escalation: how long the review has waited and for whom."""
    return f"In review for {human_duration(waited)}; {waiting}"


def vote_reply(
    decided: Decision | None, status: AssetStatus, missing: list[str] | None = None
) -> str:
    """What a reviewer is told once their vote is in."""
    ref = status.ref
    if decided is None:
        return f"approval recorded; {ref} still needs {', '.join(missing or [])}"
    if decided is Decision.APPROVE:
        return f"approved; {ref} has the approvals it needs and is being published"
    if decided is Decision.REJECT:
        return f"rejected; {ref} will not be published"
    return f"changes requested; {ref} waits for a revision from {status.submitter}"


def revision_waiting(until: datetime, submitter: str) -> str:
    """The revision window: until when, and the command that sends one."""
    return f"waiting for a revision until {when(until)} (`agentreg revise PATH --as {submitter}`)"


def published(approvers: list[str]) -> str:
    """The stage note of a publication: who approved it."""
    return "approved by " + ", ".join(approvers)


def attestation_command(status: AssetStatus) -> str:
    """The command an owner team member runs to attest."""
    return f"`agentreg attest {status.ref} --as YOU`"


def attestation_request(status: AssetStatus, deadline: datetime) -> str:
    """The owner team's notice that re-certification is due."""
    return (
        f"{status.ref} is due for re-certification; team {status.owner_team} attests with "
        f"{attestation_command(status)} by {when(deadline)}, or it is deprecated"
    )


def attestation_reminder(status: AssetStatus, deadline: datetime) -> str:
    """The owner team's reminder half way through the grace period."""
    return (
        f"{status.ref} still needs its attestation ({attestation_command(status)}) "
        f"by {when(deadline)}"
    )


def deprecation_notice(
    status: AssetStatus, reason: str, replacement: str | None, sunset: datetime
) -> str:
    """What the submitter and the platform hear when a version is deprecated."""
    use = f"; use {replacement} instead" if replacement else ""
    return f"{status.ref} is deprecated: {reason}{use}. It retires on {when(sunset)}."


def final(status: AssetStatus) -> str:
    """What an ended lifecycle says it is waiting for: nothing, and why."""
    if status.stage is Stage.PUBLISHED:
        return f"published; content hash `{status.content_hash}`"
    if status.stage is Stage.RETIRED and status.deprecation is not None:
        use = (
            f"; replaced by {status.deprecation.replacement}"
            if status.deprecation.replacement
            else ""
        )
        return f"retired: {status.deprecation.reason}{use}"
    return f"ended {status.stage.value}: {status.outcome_reason or 'no further action'}"
