"""False-positive marks: findings the submitter says are not problems, kept in sight.

A submitter records a known false positive under ``false-positives`` in the registry
sidecar (or SKILL.md's ``metadata``); see :class:`FalsePositiveMark`. A marked finding is
not dropped: it becomes ``info`` with the submitter's reason in front of its message, so
reviewers see both the finding and the claim and can disagree. Only checks that policy
calls markable can be marked: a heuristic can be wrong about a line, a well-known key
format rarely is.

Marks are checked too, because a mark that matches nothing today would hide a real
finding that lands on that line tomorrow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agent_registry.assets.manifests import FalsePositiveMark
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

CATALOG: dict[str, Severity] = {
    "marks.not-markable": Severity.WARN,
    "marks.unused": Severity.WARN,
}
"""Check ids raised about the marks themselves, and the severity each proposes."""

MARKED_PREFIX = "marked as a false positive"
"""How a marked finding's message starts, before the reason in quotes."""


def apply_marks(
    findings: Sequence[Finding],
    marks: Sequence[FalsePositiveMark],
    *,
    markable: Callable[[str], bool],
) -> list[Finding]:
    """Turn the findings that marks cover into ``info``, and report marks that do not fit.

    A mark covers a finding with the same check id and file, and the same line when the
    mark gives one. A covered finding of a markable check becomes ``info`` (``off``
    stays ``off``: a mark never brings back what policy hid) and its message starts with
    ``marked as a false positive ("<reason>"): ``. A covered finding of a check that is
    not markable keeps its severity.

    Args:
        findings: The findings of one eval run.
        marks: The asset's false-positive marks.
        markable: Tells whether findings of a check id may be marked; policy decides.

    Returns:
        The findings in their order, marked where a mark covers them, followed by one
        warning per mark that names a check that cannot be marked
        (``marks.not-markable``) or covers no finding (``marks.unused``), located where
        the mark is written.
    """
    result = [_marked(finding, marks, markable) for finding in findings]
    for mark in marks:
        if not markable(mark.check):
            result.append(_not_markable(mark))
        elif not any(covers(mark, finding) for finding in findings):
            result.append(_unused(mark))
    return result


def covers(mark: FalsePositiveMark, finding: Finding) -> bool:
    """Whether the mark is about this finding: same check and file, and line if given."""
    return (
        finding.check_id == mark.check
        and finding.file == mark.file
        and (mark.line is None or finding.line == mark.line)
    )


def _marked(
    finding: Finding, marks: Sequence[FalsePositiveMark], markable: Callable[[str], bool]
) -> Finding:
    """The finding as the first mark covering it leaves it (unchanged if none may)."""
    if not markable(finding.check_id):
        return finding
    mark = next((mark for mark in marks if covers(mark, finding)), None)
    if mark is None:
        return finding
    severity = Severity.OFF if finding.severity is Severity.OFF else Severity.INFO
    # One line for Slack and terminals, whatever line breaks the reason was written with.
    reason = " ".join(mark.reason.split())
    return finding.model_copy(
        update={
            "severity": severity,
            "message": f'{MARKED_PREFIX} ("{reason}"): {finding.message}',
        }
    )


def _not_markable(mark: FalsePositiveMark) -> Finding:
    return make_finding(
        CATALOG,
        "marks.not-markable",
        message=f"{mark.check} findings cannot be marked as false positives "
        f"(mark for {_target(mark)}), so the finding keeps its severity",
        file=mark.source_file,
        line=mark.source_line,
        fix="Fix what the finding reports and remove the mark. If the check is wrong "
        "about it, tell the team that runs the registry.",
    )


def _unused(mark: FalsePositiveMark) -> Finding:
    return make_finding(
        CATALOG,
        "marks.unused",
        message=f"the false-positive mark for {mark.check} at {_target(mark)} matches no finding",
        file=mark.source_file,
        line=mark.source_line,
        fix="Remove the mark, or correct its check, file and line: a stale mark would "
        "hide a real finding that lands there later.",
    )


def _target(mark: FalsePositiveMark) -> str:
    return mark.file if mark.line is None else f"{mark.file}:{mark.line}"
