from __future__ import annotations

import pytest

from agent_registry.assets.manifests import FalsePositiveMark
from agent_registry.evals.marks import CATALOG, apply_marks
from agent_registry.vocabulary.findings import Finding, Severity

MARKABLE = frozenset({"secrets.high-entropy", "secrets.generic-assignment"})


def markable(check_id: str) -> bool:
    return check_id in MARKABLE


def finding(
    check_id: str = "secrets.high-entropy",
    *,
    file: str | None = "tests/fixtures.py",
    line: int | None = 12,
    severity: Severity = Severity.WARN,
) -> Finding:
    return Finding(
        check_id=check_id,
        severity=severity,
        message=f"something in {file}",
        file=file,
        line=line,
        fix="do something",
    )


def mark(
    check: str = "secrets.high-entropy",
    *,
    file: str = "tests/fixtures.py",
    line: int | None = 12,
    reason: str = "a made-up key the tests use",
    source_line: int = 3,
) -> FalsePositiveMark:
    return FalsePositiveMark(
        check=check,
        file=file,
        line=line,
        reason=reason,
        source_file="agentreg.yaml",
        source_line=source_line,
    )


def test_a_marked_finding_becomes_info_with_the_reason_in_front() -> None:
    [marked] = apply_marks([finding()], [mark()], markable=markable)

    assert marked.severity is Severity.INFO
    assert marked.message == (
        'marked as a false positive ("a made-up key the tests use"): something in tests/fixtures.py'
    )
    assert (marked.check_id, marked.file, marked.line, marked.fix) == (
        "secrets.high-entropy",
        "tests/fixtures.py",
        12,
        "do something",
    )


def test_a_mark_without_a_line_covers_the_whole_file() -> None:
    findings = [finding(line=3), finding(line=40), finding(file="other.py")]

    result = apply_marks(findings, [mark(line=None)], markable=markable)

    assert [f.severity for f in result] == [Severity.INFO, Severity.INFO, Severity.WARN]


def test_a_mark_with_a_line_covers_that_line_only() -> None:
    result = apply_marks([finding(line=12), finding(line=13)], [mark()], markable=markable)

    assert [f.severity for f in result] == [Severity.INFO, Severity.WARN]


@pytest.mark.parametrize(
    "stale",
    [
        mark(line=13),
        mark(file="tests/other.py"),
        mark(check="secrets.generic-assignment"),
    ],
)
def test_a_mark_that_covers_nothing_warns_where_it_is_written(stale: FalsePositiveMark) -> None:
    original = finding()

    result = apply_marks([original], [stale], markable=markable)

    assert result[0] == original
    unused = result[1]
    assert (unused.check_id, unused.severity) == ("marks.unused", Severity.WARN)
    assert (unused.file, unused.line) == ("agentreg.yaml", 3)
    assert stale.check in unused.message
    assert unused.fix is not None


def test_a_mark_for_a_check_that_cannot_be_marked_leaves_the_finding_alone() -> None:
    blocking = finding("secrets.github-token", severity=Severity.BLOCK)

    result = apply_marks(
        [blocking], [mark("secrets.github-token", source_line=7)], markable=markable
    )

    assert result[0] == blocking
    [warning] = result[1:]
    assert (warning.check_id, warning.severity) == ("marks.not-markable", Severity.WARN)
    assert "secrets.github-token" in warning.message
    assert (warning.file, warning.line) == ("agentreg.yaml", 7)


def test_a_mark_for_a_check_that_cannot_be_marked_is_reported_even_if_it_covers_nothing() -> None:
    result = apply_marks([], [mark("hygiene.sensitive-file")], markable=markable)

    assert [f.check_id for f in result] == ["marks.not-markable"]


def test_a_finding_policy_turned_off_stays_off() -> None:
    [marked] = apply_marks([finding(severity=Severity.OFF)], [mark()], markable=markable)

    assert marked.severity is Severity.OFF


def test_the_first_covering_mark_gives_the_reason_and_neither_is_unused() -> None:
    marks = [mark(reason="first"), mark(line=None, reason="second")]

    result = apply_marks([finding()], marks, markable=markable)

    assert [f.check_id for f in result] == ["secrets.high-entropy"]
    assert result[0].message.startswith('marked as a false positive ("first"): ')


def test_a_reason_written_over_several_lines_is_shown_on_one() -> None:
    [marked] = apply_marks(
        [finding()], [mark(reason="a fixture,\n  not a key\n")], markable=markable
    )

    assert marked.message.startswith('marked as a false positive ("a fixture, not a key"): ')


def test_findings_without_a_file_are_never_covered() -> None:
    fieldless = finding(file=None, line=None)

    result = apply_marks([fieldless], [mark(line=None)], markable=markable)

    assert result[0] == fieldless
    assert [f.check_id for f in result[1:]] == ["marks.unused"]


def test_without_marks_nothing_changes() -> None:
    findings = [finding(), finding("secrets.github-token", severity=Severity.BLOCK)]

    assert apply_marks(findings, [], markable=markable) == findings


def test_the_predicate_decides_what_is_markable() -> None:
    asked: list[str] = []

    def everything(check_id: str) -> bool:
        asked.append(check_id)
        return True

    result = apply_marks(
        [finding("secrets.github-token", severity=Severity.BLOCK)],
        [mark("secrets.github-token")],
        markable=everything,
    )

    assert [f.severity for f in result] == [Severity.INFO]
    assert set(asked) == {"secrets.github-token"}


def test_catalog_names_the_marks_checks() -> None:
    assert CATALOG == {"marks.not-markable": Severity.WARN, "marks.unused": Severity.WARN}
