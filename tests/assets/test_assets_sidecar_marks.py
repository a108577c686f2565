"""False-positive marks in the registry sidecar and in SKILL.md's metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.manifests import FalsePositiveMark
from agent_registry.assets.sidecar import read_sidecar

LIMITS = BundleLimits()

SKILL = """---
name: pdf-report
description: Builds monthly PDF reports from CSV exports. Use when asked for a report.
---
# PDF reports
"""

MARKS = """owner-team: docs
false-positives:
  - check: secrets.high-entropy
    file: tests/fixtures.py
    line: 12
    reason: a made-up key the tests feed to the parser
  - {check: secrets.generic-assignment, file: ./config.yaml, reason: documented example}
"""


def skill_folder(tmp_path: Path, *, sidecar: str | None = None, skill: str = SKILL) -> Path:
    root = tmp_path / "pdf-report"
    root.mkdir()
    (root / "SKILL.md").write_text(skill)
    if sidecar is not None:
        (root / "agentreg.yaml").write_text(sidecar)
    return root


def test_sidecar_marks_are_read_with_where_they_are_written(tmp_path: Path) -> None:
    draft, problems = read_sidecar(skill_folder(tmp_path, sidecar=MARKS))

    assert problems == []
    assert draft.owner_team == "docs"
    assert draft.false_positives == [
        FalsePositiveMark(
            check="secrets.high-entropy",
            file="tests/fixtures.py",
            line=12,
            reason="a made-up key the tests feed to the parser",
            source_file="agentreg.yaml",
            source_line=3,
        ),
        FalsePositiveMark(
            check="secrets.generic-assignment",
            file="config.yaml",
            reason="documented example",
            source_file="agentreg.yaml",
            source_line=7,
        ),
    ]


def test_a_subagent_sidecar_names_itself(tmp_path: Path) -> None:
    agent = tmp_path / "code-reviewer.md"
    agent.write_text("---\nname: code-reviewer\ndescription: Reviews.\n---\n")
    marks = MARKS.replace("tests/fixtures.py", "code-reviewer.md")
    (tmp_path / "code-reviewer.agentreg.yaml").write_text(marks)

    parsed = load_path(agent, limits=LIMITS)

    assert parsed.problems == []
    marks_read = parsed.registry_metadata.false_positives or []
    assert [(m.file, m.source_file, m.source_line) for m in marks_read] == [
        ("code-reviewer.md", "code-reviewer.agentreg.yaml", 3),
        ("config.yaml", "code-reviewer.agentreg.yaml", 7),
    ]


@pytest.mark.parametrize(
    ("entry", "check_id", "field", "words"),
    [
        (
            "{check: secrets.high-entropy, file: a.py}",
            "spec.invalid-field",
            "agentreg.yaml.false-positives[1]",
            "reason is missing",
        ),
        (
            "{check: secrets.high-entropy, file: a.py, reason: '  '}",
            "spec.invalid-field",
            "agentreg.yaml.false-positives[1].reason",
            "must say",
        ),
        (
            "{check: secrets.high-entropy, file: a.py, line: '12', reason: r}",
            "spec.invalid-field",
            "agentreg.yaml.false-positives[1].line",
            "(it is '12')",
        ),
        (
            "{check: secrets.high-entropy, file: a.py, line: 0, reason: r}",
            "spec.invalid-field",
            "agentreg.yaml.false-positives[1].line",
            "line number",
        ),
        (
            "{check: Secrets High Entropy, file: a.py, reason: r}",
            "spec.invalid-field",
            "agentreg.yaml.false-positives[1].check",
            "check id",
        ),
        (
            "{check: [secrets.high-entropy], file: a.py, reason: r}",
            "spec.invalid-field",
            "agentreg.yaml.false-positives[1].check",
            "check id",
        ),
        (
            "{check: secrets.high-entropy, file: /etc/passwd, reason: r}",
            "spec.invalid-field",
            "agentreg.yaml.false-positives[1].file",
            "bundle path",
        ),
        (
            "{check: secrets.high-entropy, file: a.py, reason: r, lines: 3}",
            "spec.unknown-key",
            "agentreg.yaml.false-positives[1].lines",
            "lines is not a key of a mark; known keys: check, file, line, reason",
        ),
        (
            "secrets.high-entropy in a.py",
            "spec.invalid-field",
            "agentreg.yaml.false-positives[1]",
            "must be a mark with check, file, reason",
        ),
    ],
)
def test_a_malformed_mark_is_a_spec_problem_at_its_line(
    tmp_path: Path, entry: str, check_id: str, field: str, words: str
) -> None:
    sidecar = MARKS.split("  - {")[0] + f"  - {entry}\n"

    draft, problems = read_sidecar(skill_folder(tmp_path, sidecar=sidecar))

    [problem] = problems
    assert (problem.check_id, problem.file, problem.line, problem.field) == (
        check_id,
        "agentreg.yaml",
        7,
        field,
    )
    assert words in problem.message
    assert problem.fix
    # The good mark is kept, so one problem does not hide another.
    assert [m.check for m in draft.false_positives or []] == ["secrets.high-entropy"]


def test_a_mark_never_repeats_its_reason_in_a_problem(tmp_path: Path) -> None:
    reason = "r" * 501
    sidecar = f"false-positives:\n  - {{check: a.b, file: a.py, reason: {reason}}}\n"

    _, [problem] = read_sidecar(skill_folder(tmp_path, sidecar=sidecar))

    assert problem.field == "agentreg.yaml.false-positives[0].reason"
    assert reason not in problem.message


@pytest.mark.parametrize("value", ["secrets.high-entropy", "{check: a.b}", "12"])
def test_false_positives_must_be_a_list(tmp_path: Path, value: str) -> None:
    _, [problem] = read_sidecar(skill_folder(tmp_path, sidecar=f"false-positives: {value}\n"))

    assert (problem.check_id, problem.line) == ("spec.invalid-field", 1)
    assert problem.field == "agentreg.yaml.false-positives"


@pytest.mark.parametrize("value", ["", "[]", "''"])
def test_blank_false_positives_are_not_set(tmp_path: Path, value: str) -> None:
    draft, problems = read_sidecar(skill_folder(tmp_path, sidecar=f"false-positives: {value}\n"))

    assert problems == []
    assert draft.false_positives is None


SKILL_WITH_MARKS = """---
name: pdf-report
description: Builds monthly PDF reports from CSV exports. Use when asked for a report.
metadata:
  owner-team: docs
  false-positives: |
    - check: secrets.high-entropy
      file: tests/fixtures.py
      line: 12
      reason: a made-up key
    - check: secrets.generic-assignment
      file: config.yaml
      reson: typo
---
# PDF reports
"""


def test_skill_metadata_holds_marks_as_yaml_text(tmp_path: Path) -> None:
    parsed = load_path(skill_folder(tmp_path, skill=SKILL_WITH_MARKS), limits=LIMITS)

    assert parsed.manifest is not None  # metadata values stay strings, as the spec says
    assert [
        (m.check, m.line, m.source_file, m.source_line)
        for m in parsed.registry_metadata.false_positives or []
    ] == [("secrets.high-entropy", 12, "SKILL.md", 7)]
    assert [(p.check_id, p.file, p.line, p.field) for p in parsed.problems] == [
        ("spec.unknown-key", "SKILL.md", 11, "frontmatter.metadata.false-positives[1].reson"),
        ("spec.invalid-field", "SKILL.md", 11, "frontmatter.metadata.false-positives[1]"),
    ]


def test_skill_metadata_marks_on_one_line(tmp_path: Path) -> None:
    text = SKILL.replace(
        "---\n#",
        "metadata:\n  false-positives: '[{check: secrets.high-entropy, file: a.py, "
        "reason: fixture}]'\n---\n#",
    )

    parsed = load_path(skill_folder(tmp_path, skill=text), limits=LIMITS)

    assert parsed.problems == []
    assert [(m.file, m.source_line) for m in parsed.registry_metadata.false_positives or []] == [
        ("a.py", 5)
    ]


def test_skill_metadata_marks_that_are_not_yaml(tmp_path: Path) -> None:
    text = SKILL.replace("---\n#", "metadata:\n  false-positives: '[{check: a'\n---\n#")

    parsed = load_path(skill_folder(tmp_path, skill=text), limits=LIMITS)

    [problem] = parsed.problems
    assert (problem.check_id, problem.line) == ("spec.invalid-field", 5)
    assert "cannot be read as a YAML list of marks" in problem.message
    assert parsed.registry_metadata.false_positives is None


def test_sidecar_marks_replace_the_skill_metadata_marks(tmp_path: Path) -> None:
    root = skill_folder(
        tmp_path,
        skill=SKILL_WITH_MARKS.replace("      reson: typo\n", "      reason: ok\n"),
        sidecar=MARKS,
    )

    parsed = load_path(root, limits=LIMITS)

    assert {m.source_file for m in parsed.registry_metadata.false_positives or []} == {
        "agentreg.yaml"
    }


def test_a_mark_model_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        FalsePositiveMark.model_validate(
            {"check": "a.b", "file": "a.py", "reason": "r", "severity": "info"}
        )
