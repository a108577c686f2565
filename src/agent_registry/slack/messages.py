"""Block Kit messages: the review request, its progress and decision, and the published life.

The published life adds the Deprecate button and its modal, and the re-certification DM
with its Attest button.

A reviewer should be able to decide from the message alone, the way a pull request is
reviewed from its page: what the asset is, who answers for it, how risky it is and why,
what the evals found, what it may do, what changed since the published version, and one
click to decide. Everything here is a pure function of what the lifecycle shows, a
:class:`~agent_registry.slack.snapshot.ReviewSnapshot` (the status query's full view is
reduced to one first), so the activity that posts and the one that updates build the same
message. The notices' wording is in
:mod:`agent_registry.slack.notice_texts`; both use :mod:`agent_registry.slack.mrkdwn`.

Two constraints shape the code:

* **Block Kit limits** (50 blocks, 3000 characters per section, 150 per header, 10
  elements per context block). Findings, changes and descriptions are cut to fit, and a
  cut always says so and points at ``agentreg show`` / ``agentreg status``, so nothing is
  silently lost.
* **Submitter content is untrusted.** Descriptions, reasons and finding messages go
  through :func:`~agent_registry.slack.mrkdwn.escape_mrkdwn`, so they cannot open a link
  or ping ``@channel``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from agent_registry.lifecycle.contract import Deprecation, SimilarAsset
from agent_registry.lifecycle.stages import WITHDRAWN, Decision, Stage
from agent_registry.slack.actions import (
    APPROVE_ACTION,
    ATTEST_ACTION,
    DEPRECATE_ACTION,
    DEPRECATE_MODAL_CALLBACK,
    DEPRECATE_REASON_BLOCK,
    DEPRECATE_REASON_INPUT,
    DEPRECATE_REPLACEMENT_BLOCK,
    DEPRECATE_REPLACEMENT_INPUT,
    REASON_BLOCK,
    REASON_INPUT,
    REASON_MODAL_CALLBACK,
    REJECT_ACTION,
    REQUEST_CHANGES_ACTION,
)
from agent_registry.slack.mrkdwn import (
    LINE_LIMIT,
    NAME_LIMIT,
    REASON_MAX_LENGTH,
    SECTION_TEXT_LIMIT,
    TOP_FINDINGS_SHOWN,
    clip,
    code,
    counts,
    escape_mrkdwn,
    finding_line,
    fit_lines,
    fit_text,
    link,
    one_line,
    people,
    quote,
    short_hash,
    slack_date,
    still_needed,
)
from agent_registry.slack.notice_texts import attestation_text
from agent_registry.slack.snapshot import ReviewSnapshot, Shown, review_snapshot
from agent_registry.vocabulary.findings import Severity

HEADER_TEXT_LIMIT = 150
FIELD_TEXT_LIMIT = 2000
CONTEXT_TEXT_LIMIT = 2000
CONFIRM_TEXT_LIMIT = 300
"""Block Kit limits the messages are built to respect, with ``SECTION_TEXT_LIMIT``."""

DESCRIPTION_SHOWN = 700
"""Characters of the description a review message quotes."""

REPLACEMENT_MAX_LENGTH = 300
"""Longest replacement reference the deprecation modal accepts (``kind/name@version``)."""

_SEVERITY_ORDER = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2, Severity.OFF: 3}

_OUTCOME_WORDS = {
    Decision.APPROVE: ("✅", "Approved"),
    Decision.REJECT: ("❌", "Rejected"),
    Decision.REQUEST_CHANGES: ("✏️", "Changes requested"),
}


def review_request_blocks(
    status: Shown,
    *,
    ui_link: str,
    changes: list[str] | None,
    similar: Sequence[SimilarAsset] | None = None,
    scope_lines: list[str] | None = None,
    previous_version: str | None = None,
    description: str | None = None,
) -> list[Block]:
    """The message posted to the review channel when a version enters review.

    Args:
        status: What the lifecycle shows, evaluated and planned.
        ui_link: The workflow's page in the Temporal UI.
        changes: Lines from :func:`agent_registry.slack.changes.manifest_changes` for a
            new version of a published asset; None for a first version.
        similar: Published assets this one resembles; defaults to the eval's list.
        scope_lines: The declared scope in words (an MCP server's tools and effects).
        previous_version: The published version ``changes`` compare against.
        description: The asset's own description, quoted so reviewers know what it does.

    Returns:
        Blocks for ``chat.postMessage``, buttons included.
    """
    return progress_blocks(
        status,
        ui_link=ui_link,
        changes=changes,
        scope_lines=scope_lines,
        similar=similar,
        previous_version=previous_version,
        description=description,
    )


def progress_blocks(
    status: Shown,
    *,
    ui_link: str,
    changes: list[str] | None = None,
    scope_lines: list[str] | None = None,
    similar: Sequence[SimilarAsset] | None = None,
    previous_version: str | None = None,
    description: str | None = None,
    probe_stderr: str | None = None,
) -> list[Block]:
    """The review message after a vote that did not decide: who approved, what is missing.

    The buttons stay, since the review goes on. With no votes yet this is the review
    request itself. Arguments are those of :func:`review_request_blocks`, and
    ``probe_stderr``: what the probed MCP server wrote to stderr, already masked and
    capped; it is shown here because this message goes to the reviewers' channel only.
    Each part is one block at most, so the message stays far below Slack's 50 blocks.

    Returns:
        Blocks for ``chat.update`` (or the first ``chat.postMessage``).
    """
    status = review_snapshot(status)
    blocks: list[Block] = [_header(status)]
    if description:
        blocks.append(_description_section(status, description))
    blocks.append(_facts_section(status))
    if status.eval is not None:
        blocks.append(_risk_section(status))
        blocks.append(_eval_section(status))
        similar = status.eval.similar if similar is None else similar
    if similar:
        blocks.append(_similar_section(similar))
    if scope_lines:
        blocks.append(_scope_section(status, scope_lines))
    if changes is not None:
        blocks.append(_changes_section(status, changes, previous_version))
    if probe_stderr and probe_stderr.strip():
        blocks.append(_probe_stderr_section(probe_stderr))
    if status.votes_cast:
        blocks.append(_progress_section(status))
    blocks.extend(_reference_context(status, ui_link=ui_link))
    blocks.append(DividerBlock())
    blocks.append(_buttons(status))
    return blocks


def review_text(status: Shown) -> str:
    """One line for the ``text`` of the review message: notifications and screen readers.

    Returns:
        Slack mrkdwn, escaped.
    """
    status = review_snapshot(status)
    ref = status.ref
    risk = f", risk {status.eval.risk_tier.value}" if status.eval is not None else ""
    needs = ""
    if status.needs is not None:
        needs = f"; needs {_approvals_needed(status)}"
    line = (
        f"Review requested: {ref.kind.value} {ref.name} {ref.version} "
        f"from team {status.owner_team}{risk}{needs}"
    )
    return escape_mrkdwn(one_line(line))


def decided_blocks(
    status: Shown,
    *,
    ui_link: str,
    decided_by: str,
    decided_at: datetime,
    outcome: Decision,
    reason: str | None,
) -> list[Block]:
    """The review message once decided: buttons replaced by who decided, when and why.

    What was reviewed (version, team, risk, content hash) stays, so the thread below
    still makes sense to someone who arrives later. An approved version keeps one
    button, Deprecate, since the review message is where the platform team finds it
    again; once the version is deprecated or retired, the button gives way to what
    happened, so nobody is offered an action the lifecycle would refuse.

    Args:
        status: What the lifecycle shows after the decision (or after a deprecation).
        ui_link: The workflow's page in the Temporal UI.
        decided_by: The deciding reviewer's identity.
        decided_at: When the decision was recorded.
        outcome: What was decided.
        reason: Why (required for reject and request changes, optional for approve).

    Returns:
        Blocks for ``chat.update``; the Deprecate button is the only interactive element.
    """
    status = review_snapshot(status)
    mark, word = _OUTCOME_WORDS[outcome]
    line = f"{mark} *{word}* by *{fit_text(decided_by, NAME_LIMIT)}* at {slack_date(decided_at)}"
    if reason and reason.strip():
        line += "\n" + quote(reason, SECTION_TEXT_LIMIT - len(line) - 1)
    blocks: list[Block] = [_header(status), SectionBlock(text=_mrkdwn(line))]
    approved = outcome is Decision.APPROVE
    if approved and status.deprecation is not None:
        blocks.append(_deprecation_section(status, status.deprecation))
    blocks.append(_facts_section(status))
    if approved and status.approvers:
        blocks.append(ContextBlock(elements=[_mrkdwn(f"Approvals: {people(status.approvers)}")]))
    blocks.extend(_reference_context(status, ui_link=ui_link))
    if approved and status.deprecation is None and status.stage not in WITHDRAWN:
        blocks.append(DividerBlock())
        blocks.append(_deprecate_button(status))
    return blocks


def attestation_request_blocks(
    status: Shown, *, ui_link: str, deadline: datetime | None, reminder: bool = False
) -> list[Block]:
    """The DM asking the owner team to attest that a published version is still fit for use.

    Re-certification passes only with a person's word; one click here gives it, and
    the command line stays named for whoever prefers it (or has no Slack account).

    Args:
        status: What the lifecycle shows, re-certifying.
        ui_link: The workflow's page in the Temporal UI.
        deadline: When the grace period ends and the version is deprecated unattested.
        reminder: Word it as the reminder sent halfway through the grace period.

    Returns:
        Blocks for ``chat.postMessage``: the request, the Attest button, the alternatives.
    """
    ref = str(status.ref)
    text = attestation_text(status, deadline=deadline, reminder=reminder)
    return [
        SectionBlock(text=_mrkdwn(clip(text, SECTION_TEXT_LIMIT))),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=PlainTextObject(text="Attest"),
                    action_id=ATTEST_ACTION,
                    value=ref,
                    style="primary",
                )
            ]
        ),
        ContextBlock(
            elements=[
                _mrkdwn(f"Or: {code(f'agentreg attest {escape_mrkdwn(ref)} --as YOU')}"),
                _mrkdwn(link(ui_link, "Workflow in Temporal UI")),
            ]
        ),
    ]


def reason_modal(*, decision: Decision, ref: str, private_metadata: str) -> View:
    """The modal that asks a reviewer why they reject or request changes.

    The reason reaches the submitter, so it is required and long enough to be useful.

    Args:
        decision: Reject or request changes.
        ref: The asset version, ``kind/name@version``.
        private_metadata: Carried back on submission (the ref and the message's place).

    Returns:
        A view for ``views.open``.

    Raises:
        ValueError: If the decision is an approval, which needs no reason.
    """
    if decision is Decision.APPROVE:
        raise ValueError("an approval needs no reason; only reject and request changes do")
    rejecting = decision is Decision.REJECT
    question = (
        f"Why do you reject `{escape_mrkdwn(ref)}`?"
        if rejecting
        else f"What must change in `{escape_mrkdwn(ref)}` before it can be approved?"
    )
    return View(
        type="modal",
        callback_id=REASON_MODAL_CALLBACK,
        title=PlainTextObject(text="Reject" if rejecting else "Request changes"),
        submit=PlainTextObject(text="Reject" if rejecting else "Send"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(text=_mrkdwn(f"{question}\nThe submitter receives this reason.")),
            InputBlock(
                block_id=REASON_BLOCK,
                label=PlainTextObject(text="Reason"),
                element=PlainTextInputElement(
                    action_id=REASON_INPUT,
                    multiline=True,
                    min_length=1,
                    max_length=REASON_MAX_LENGTH,
                ),
                optional=False,
            ),
        ],
    )


def deprecate_modal(*, ref: str, private_metadata: str) -> View:
    """The modal that asks why a version is deprecated and what replaces it.

    The reason reaches every user of the version, so it is required; the replacement is
    optional, since not every deprecated asset has a successor.

    Args:
        ref: The asset version, ``kind/name@version``.
        private_metadata: Carried back on submission (the ref and the message's place).

    Returns:
        A view for ``views.open``.
    """
    return View(
        type="modal",
        callback_id=DEPRECATE_MODAL_CALLBACK,
        title=PlainTextObject(text="Deprecate"),
        submit=PlainTextObject(text="Deprecate"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(
                text=_mrkdwn(
                    f"Deprecate `{escape_mrkdwn(ref)}`? Its owner and its users are told why "
                    "and what to use instead; it retires at the policy's sunset date."
                )
            ),
            InputBlock(
                block_id=DEPRECATE_REASON_BLOCK,
                label=PlainTextObject(text="Reason"),
                element=PlainTextInputElement(
                    action_id=DEPRECATE_REASON_INPUT,
                    multiline=True,
                    min_length=1,
                    max_length=REASON_MAX_LENGTH,
                ),
                optional=False,
            ),
            InputBlock(
                block_id=DEPRECATE_REPLACEMENT_BLOCK,
                label=PlainTextObject(text="Replacement (optional)"),
                element=PlainTextInputElement(
                    action_id=DEPRECATE_REPLACEMENT_INPUT,
                    placeholder=PlainTextObject(text="kind/name@version"),
                    max_length=REPLACEMENT_MAX_LENGTH,
                ),
                hint=PlainTextObject(text="The version its users should move to, if any."),
                optional=True,
            ),
        ],
    )


# --- sections -------------------------------------------------------------------------


def _header(status: ReviewSnapshot) -> HeaderBlock:
    ref = status.ref
    text = f"Review: {ref.kind.value} {ref.name} {ref.version}"
    return HeaderBlock(text=PlainTextObject(text=clip(text, HEADER_TEXT_LIMIT)))


def _description_section(status: ReviewSnapshot, description: str) -> SectionBlock:
    text = quote(description, DESCRIPTION_SHOWN)
    if len(" ".join(description.split())) > DESCRIPTION_SHOWN:
        text += f"\n_Shortened; full text: {code(f'agentreg show {status.ref}')}_"
    return SectionBlock(text=_mrkdwn(text))


def _facts_section(status: ReviewSnapshot) -> SectionBlock:
    """Who answers for the asset and how much review it needs, as two-column fields."""
    authorship = "🤖 *Machine-authored*" if status.machine_authored else "👤 Human-authored"
    risk = status.eval.risk_tier.value.upper() if status.eval is not None else "not evaluated"
    fields = [
        f"*Owner team*\n{fit_text(status.owner_team, NAME_LIMIT)}",
        f"*Submitted by*\n{fit_text(status.submitter, NAME_LIMIT)}",
        f"*Authors*\n{people(status.authors) or '—'}",
        f"*Authorship*\n{authorship}",
        f"*Risk tier*\n{risk}",
        f"*Approvals needed*\n{_approvals_needed(status)}",
    ]
    if status.revision:
        fields.append(f"*Revision*\n{status.revision}")
    return SectionBlock(fields=[_mrkdwn(clip(field, FIELD_TEXT_LIMIT)) for field in fields])


def _risk_section(status: ReviewSnapshot) -> SectionBlock:
    assert status.eval is not None
    head = f"*Risk: {status.eval.risk_tier.value}*"
    reasons = [f"• {fit_text(reason, LINE_LIMIT)}" for reason in status.eval.tier_reasons]
    if not reasons:
        return SectionBlock(text=_mrkdwn(f"{head} (no finding raised it)"))
    text = fit_lines(
        f"{head}, because:",
        reasons,
        more=lambda n: f"_…{n} more reasons: {code(f'agentreg show {status.ref}')}_",
    )
    return SectionBlock(text=_mrkdwn(text))


def _eval_section(status: ReviewSnapshot) -> SectionBlock:
    """Counts first, then the top findings; a cut points at the full list."""
    summary = status.eval
    assert summary is not None
    verdict = "passed" if summary.passed else "failed"
    head = (
        f"*Evals {verdict}*: {counts(summary.blocking, summary.warnings)} "
        f"(policy {escape_mrkdwn(summary.policy_version)})"
    )
    ordered = sorted(summary.top_findings, key=lambda f: _SEVERITY_ORDER[f.severity])
    shown = ordered[:TOP_FINDINGS_SHOWN]
    hint = code(f"agentreg show {status.ref}")
    problems_shown = sum(1 for f in shown if f.severity in (Severity.BLOCK, Severity.WARN))
    unlisted = max(len(ordered) - len(shown), summary.blocking + summary.warnings - problems_shown)
    lines = [finding_line(f) for f in shown]
    if summary.behaviour is not None:
        head += "\n*Behaviour*: " + escape_mrkdwn(summary.behaviour.summary_line())
    text = fit_lines(
        head,
        lines,
        more=lambda n: f"_…{n + unlisted} more findings: {hint}_",
        always_more=unlisted > 0,
    )
    return SectionBlock(text=_mrkdwn(text))


def _similar_section(similar: Sequence[SimilarAsset]) -> SectionBlock:
    lines = [
        f"• {code(fit_text(match.ref, NAME_LIMIT))} "
        f"(team {fit_text(match.owner_team, NAME_LIMIT)}, {round(match.score * 100)}% alike): "
        f"{fit_text(one_line(match.description), 150)}"
        for match in similar
    ]
    text = fit_lines(
        "*Similar published assets* — could one of these be reused instead?",
        lines,
        more=lambda n: f"_…and {n} more_",
    )
    return SectionBlock(text=_mrkdwn(text))


def _scope_section(status: ReviewSnapshot, scope_lines: Sequence[str]) -> SectionBlock:
    text = fit_lines(
        "*Declared scope*",
        [f"• {fit_text(line, LINE_LIMIT)}" for line in scope_lines],
        more=lambda n: f"_…{n} more: {code(f'agentreg show {status.ref}')}_",
    )
    return SectionBlock(text=_mrkdwn(text))


def _probe_stderr_section(probe_stderr: str) -> SectionBlock:
    """The probed server's stderr, quoted: untrusted, masked by the probe, cut to fit."""
    head = "*What the server wrote to stderr during the live probe* (secrets masked)"
    return SectionBlock(
        text=_mrkdwn(f"{head}\n{quote(probe_stderr, SECTION_TEXT_LIMIT - len(head) - 1)}")
    )


def _changes_section(
    status: ReviewSnapshot, changes: Sequence[str], previous_version: str | None
) -> SectionBlock:
    """The diff against the published version: what a reviewer of N+1 must re-judge."""
    since = escape_mrkdwn(previous_version) if previous_version else "the published version"
    head = f"*Changes since {since}*"
    if not changes:
        return SectionBlock(text=_mrkdwn(f"{head}\nNo change to the description or the scope."))
    ref = status.ref
    compare = code(f"agentreg show {ref}")
    if previous_version:
        earlier = escape_mrkdwn(f"{ref.kind.value}/{ref.name}@{previous_version}")
        compare += f" with {code(f'agentreg show {earlier}')}"
    text = fit_lines(
        head,
        [f"• {fit_text(line, LINE_LIMIT)}" for line in changes],
        more=lambda n: f"_…{n} more changes; compare {compare}_",
    )
    return SectionBlock(text=_mrkdwn(text))


def _progress_section(status: ReviewSnapshot) -> SectionBlock:
    approvals = people(status.approvers) or "none yet"
    text = f"*Approvals so far*: {approvals}\n*Still needed*: {still_needed(status)}"
    return SectionBlock(text=_mrkdwn(clip(text, SECTION_TEXT_LIMIT)))


def _reference_context(status: ReviewSnapshot, *, ui_link: str) -> list[Block]:
    """The content hash (short to compare at a glance, full to verify) and where to look."""
    ref = str(status.ref)
    hash_line = (
        f"Content hash {code(short_hash(status.content_hash))} · sha256 {code(status.content_hash)}"
        if status.content_hash
        else "Content hash: not stored yet"
    )
    return [
        ContextBlock(elements=[_mrkdwn(clip(hash_line, CONTEXT_TEXT_LIMIT))]),
        ContextBlock(
            elements=[
                _mrkdwn(link(ui_link, "Workflow in Temporal UI")),
                _mrkdwn(code(f"agentreg status {escape_mrkdwn(ref)}")),
            ]
        ),
    ]


def _buttons(status: ReviewSnapshot) -> ActionsBlock:
    """Approve, Request changes, Reject; each carries the ref the app acts on."""
    ref = str(status.ref)
    confirm_text = clip(
        f"Reject {code(escape_mrkdwn(ref))}? You will be asked for the reason, which the "
        "submitter receives. A rejected version cannot be revised.",
        CONFIRM_TEXT_LIMIT,
    )
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Approve"),
                action_id=APPROVE_ACTION,
                value=ref,
                style="primary",
            ),
            ButtonElement(
                text=PlainTextObject(text="Request changes"),
                action_id=REQUEST_CHANGES_ACTION,
                value=ref,
            ),
            ButtonElement(
                text=PlainTextObject(text="Reject"),
                action_id=REJECT_ACTION,
                value=ref,
                style="danger",
                confirm=ConfirmObject(
                    title=PlainTextObject(text="Reject this version?"),
                    text=_mrkdwn(confirm_text),
                    confirm=PlainTextObject(text="Reject"),
                    deny=PlainTextObject(text="Cancel"),
                    style="danger",
                ),
            ),
        ]
    )


def _deprecate_button(status: ReviewSnapshot) -> ActionsBlock:
    """Deprecate, asked twice (confirm, then the modal) since every user is told."""
    ref = str(status.ref)
    confirm_text = clip(
        f"Deprecate {code(escape_mrkdwn(ref))}? You will be asked why and what replaces it; "
        "its owner and users are told, and it retires at the sunset date.",
        CONFIRM_TEXT_LIMIT,
    )
    return ActionsBlock(
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Deprecate"),
                action_id=DEPRECATE_ACTION,
                value=ref,
                style="danger",
                confirm=ConfirmObject(
                    title=PlainTextObject(text="Deprecate this version?"),
                    text=_mrkdwn(confirm_text),
                    confirm=PlainTextObject(text="Deprecate"),
                    deny=PlainTextObject(text="Cancel"),
                    style="danger",
                ),
            )
        ]
    )


def _deprecation_section(status: ReviewSnapshot, deprecation: Deprecation) -> SectionBlock:
    """Deprecated (or retired): why, by whom, what to use instead, and when it goes."""
    use = (
        f" Use {code(fit_text(deprecation.replacement, NAME_LIMIT))} instead."
        if deprecation.replacement
        else ""
    )
    by = fit_text(deprecation.by, NAME_LIMIT)
    if status.stage is Stage.RETIRED:
        retired_at = status.retired_at or deprecation.sunset_at
        head = f"🗄️ *Retired* on {slack_date(retired_at)} (deprecated by *{by}*)"
        tail = use
    else:
        head = f"⛔ *Deprecated* by *{by}* at {slack_date(deprecation.at)}"
        tail = f"{use} Retires on {slack_date(deprecation.sunset_at)}."
    reason = fit_text(one_line(deprecation.reason), SECTION_TEXT_LIMIT - len(head + tail) - 3)
    if not reason.endswith((".", "!", "?", "…")):
        reason += "."
    return SectionBlock(text=_mrkdwn(f"{head}: {reason}{tail}"))


# --- text helpers ---------------------------------------------------------------------


def _approvals_needed(status: ReviewSnapshot) -> str:
    needs = status.needs
    if needs is None:
        return "not planned yet"
    text = f"{needs.approvals_required} approval" + ("" if needs.approvals_required == 1 else "s")
    if needs.require_groups:
        groups = ", ".join(escape_mrkdwn(group) for group in needs.require_groups)
        text += f", incl. one from {groups}"
    return text


def _mrkdwn(text: str) -> MarkdownTextObject:
    """Markdown text that Slack does not preprocess: no auto-links from bare URLs or names."""
    return MarkdownTextObject(text=text, verbatim=True)
