"""Frontmatter and YAML/JSON parsing: problems land on the line the submitter sees."""

from __future__ import annotations

import time

import pytest

from agent_registry.assets.frontmatter import (
    MAX_YAML_NODES,
    parse_frontmatter,
    parse_json_object,
    parse_yaml_mapping,
)


def test_frontmatter_and_body_are_split_with_lines() -> None:
    text = "---\nname: pdf-report\ndescription: Makes reports.\n---\n# Title\n\nBody.\n"

    result = parse_frontmatter(text, file="SKILL.md")

    assert result.problems == []
    assert result.data == {"name": "pdf-report", "description": "Makes reports."}
    assert result.field_lines == {"name": 2, "description": 3}
    assert result.body == "# Title\n\nBody.\n"
    assert result.body_line == 5


def test_missing_frontmatter() -> None:
    result = parse_frontmatter("# Just a title\n", file="SKILL.md")

    [problem] = result.problems
    assert problem.check_id == "spec.frontmatter-missing"
    assert (problem.file, problem.line) == ("SKILL.md", 1)
    assert "---" in problem.message
    assert result.data == {}
    assert not result.readable


def test_unclosed_frontmatter() -> None:
    result = parse_frontmatter("---\nname: x\ndescription: d\n# Title\n", file="agent.md")

    [problem] = result.problems
    assert problem.check_id == "spec.frontmatter-unclosed"
    assert (problem.file, problem.line) == ("agent.md", 1)
    assert "never closed" in problem.message
    assert problem.fix is not None
    assert "---" in problem.fix


def test_yaml_error_line_is_the_file_line_and_in_plain_words() -> None:
    text = "---\nname: pdf-report\ndescription: Reports: monthly\n---\n"

    [problem] = parse_frontmatter(text, file="SKILL.md").problems

    assert problem.check_id == "spec.yaml-syntax"
    assert (problem.file, problem.line) == ("SKILL.md", 3)
    assert "put the value in quotes" in problem.message
    assert "mapping values are not allowed here" in problem.message


def test_tab_indentation_is_explained() -> None:
    text = "---\nname: x\nmetadata:\n\tversion: '1'\n---\n"

    [problem] = parse_frontmatter(text, file="SKILL.md").problems

    assert problem.line == 4
    assert "tab" in problem.message


def test_duplicate_key_points_at_the_second_occurrence() -> None:
    text = "---\nname: first\ndescription: d\nname: second\n---\n"

    result = parse_frontmatter(text, file="SKILL.md")

    [problem] = result.problems
    assert problem.check_id == "spec.duplicate-key"
    assert (problem.line, problem.field) == (4, "frontmatter.name")
    assert "lines 2 and 4" in problem.message
    assert result.readable


def test_nested_duplicate_key() -> None:
    text = "---\nmetadata:\n  version: '1.0.0'\n  version: '2.0.0'\n---\n"

    [problem] = parse_frontmatter(text, file="SKILL.md").problems

    assert problem.line == 4
    assert problem.field == "frontmatter.metadata.version"


def test_same_key_in_two_mappings_is_not_a_duplicate() -> None:
    text = "---\na:\n  name: x\nb:\n  name: y\n---\n"

    assert parse_frontmatter(text, file="SKILL.md").problems == []


def test_crlf_and_bom_are_tolerated() -> None:
    text = "\ufeff---\r\nname: pdf-report\r\ndescription: d\r\n---\r\nBody\r\n"

    result = parse_frontmatter(text, file="SKILL.md")

    assert result.problems == []
    assert result.data == {"name": "pdf-report", "description": "d"}
    assert result.field_lines["description"] == 3
    assert result.body == "Body\n"
    assert result.body_line == 5


@pytest.mark.parametrize(("yaml_text", "kind"), [("- a\n- b\n", "a list"), ("just text\n", "text")])
def test_frontmatter_must_be_a_mapping(yaml_text: str, kind: str) -> None:
    [problem] = parse_frontmatter(f"---\n{yaml_text}---\n", file="SKILL.md").problems

    assert problem.check_id == "spec.frontmatter-not-mapping"
    assert problem.line == 2
    assert kind in problem.message


def test_empty_frontmatter_is_an_empty_mapping() -> None:
    result = parse_frontmatter("---\n---\nBody\n", file="SKILL.md")

    assert (result.data, result.problems, result.body_line) == ({}, [], 3)


def test_non_string_keys_are_reported_and_left_out() -> None:
    result = parse_frontmatter("---\n1: one\ntrue: yes\nname: x\n---\n", file="SKILL.md")

    assert [(p.check_id, p.line) for p in result.problems] == [
        ("spec.non-string-key", 2),
        ("spec.non-string-key", 3),
    ]
    assert "a number" in result.problems[0].message
    assert result.data == {"name": "x"}


def test_python_tags_are_never_constructed() -> None:
    text = "---\nname: !!python/object/apply:os.system ['echo pwned']\n---\n"

    [problem] = parse_frontmatter(text, file="SKILL.md").problems

    assert problem.check_id == "spec.yaml-syntax"
    assert problem.line == 2
    assert "python/object/apply" in problem.message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        refs = ", ".join([f"*{previous}"] * 10)
        lines.append(f"{name}: &{name} [{refs}]")
    text = "---\n" + "\n".join(lines) + "\n---\n"

    started = time.monotonic()
    result = parse_frontmatter(text, file="SKILL.md")

    assert time.monotonic() - started < 2
    [problem] = result.problems
    assert problem.check_id == "spec.yaml-too-complex"
    assert f"{MAX_YAML_NODES:,}" in problem.message
    assert result.data == {}


def test_invalid_date_is_a_problem_not_a_crash() -> None:
    [problem] = parse_frontmatter("---\nupdated: 2024-13-45\n---\n", file="SKILL.md").problems

    assert problem.check_id == "spec.yaml-syntax"
    assert "month" in problem.message


def test_yaml_mapping_records_nested_lines() -> None:
    text = (
        "tools:\n  - name: search\n    effects: [read]\n"
        "  - name: close\n    effects:\n      - write\n"
    )

    result = parse_yaml_mapping(text, file="scope.yaml")

    assert result.problems == []
    assert result.field_lines["tools"] == 1
    assert result.field_lines["tools[0]"] == 2
    assert result.field_lines["tools[1]"] == 4
    assert result.field_lines["tools[1].name"] == 4
    assert result.field_lines["tools[1].effects[0]"] == 6


def test_yaml_mapping_syntax_error_line() -> None:
    [problem] = parse_yaml_mapping(
        "owner-team: docs\nversion: '1.0\n", file="agentreg.yaml"
    ).problems

    assert problem.check_id == "spec.yaml-syntax"
    assert problem.file == "agentreg.yaml"
    assert problem.line == 2
    assert "never closed" in problem.message


def test_yaml_mapping_duplicate_and_not_mapping() -> None:
    duplicate = parse_yaml_mapping(
        "version: 1\nversion: 2\n", file="agentreg.yaml", field_prefix="agentreg.yaml"
    )
    listed = parse_yaml_mapping("- a\n", file="scope.yaml")

    assert [(p.check_id, p.line, p.field) for p in duplicate.problems] == [
        ("spec.duplicate-key", 2, "agentreg.yaml.version")
    ]
    assert [(p.check_id, p.line) for p in listed.problems] == [("spec.not-mapping", 1)]


def test_empty_yaml_mapping() -> None:
    assert parse_yaml_mapping("", file="agentreg.yaml").data == {}


def test_json_object_lines_and_duplicates() -> None:
    text = (
        '{\n  "name": "io.github.acme/tickets",\n  "packages": [\n    {\n'
        '      "transport": {"type": "stdio"}\n    },\n    "x"\n  ],\n  "name": "again"\n}\n'
    )

    result = parse_json_object(text, file="server.json", field_prefix="server.json")

    assert result.field_lines["name"] == 2
    assert result.field_lines["packages[0]"] == 4
    assert result.field_lines["packages[0].transport.type"] == 5
    assert result.field_lines["packages[1]"] == 7
    [problem] = result.problems
    assert (problem.check_id, problem.line, problem.field) == (
        "spec.duplicate-key",
        9,
        "server.json.name",
    )


def test_json_syntax_error_line() -> None:
    [problem] = parse_json_object(
        '{\n  "name": "x",\n  "version" "1"\n}\n', file="server.json"
    ).problems

    assert problem.check_id == "spec.json-syntax"
    assert (problem.file, problem.line) == ("server.json", 3)
    assert "Expecting ':' delimiter" in problem.message


def test_json_must_be_an_object() -> None:
    [problem] = parse_json_object("[1, 2]", file="server.json").problems

    assert problem.check_id == "spec.not-mapping"
    assert "JSON object" in problem.message
    assert "a list" in problem.message
