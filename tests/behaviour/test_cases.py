"""Finding the eval cases an asset ships, in all three formats, and the broken ones."""

from __future__ import annotations

import json

import yaml

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.behaviour.cases import discover_cases
from agent_registry.behaviour.skill_creator import read_evals_json

CASE = {
    "schema_version": "1.0",
    "name": "grouped",
    "execution": {"prompt": "Draft notes."},
    "graders": [{"type": "regex", "name": "features", "pattern": "Features"}],
}


def _bundle(files: dict[str, str]) -> Bundle:
    return Bundle(
        root_name="release-notes",
        files=tuple(BundleFile(path, text.encode()) for path, text in sorted(files.items())),
    )


def test_every_format_is_a_case_and_results_are_not() -> None:
    evals = {"evals": [{"id": 7, "prompt": "Notes?", "expectations": ["Has headings."]}]}
    found = discover_cases(
        _bundle(
            {
                "SKILL.md": "---\nname: release-notes\n---\n",
                "evals/grouped/case.yaml": yaml.safe_dump(CASE),
                "evals/fixes/prompt.md": "Draft notes with fixes.",
                "evals/fixes/graders/fixes.md": "---\ntype: llm\n---\nHas fixes.",
                "evals/evals.json": json.dumps(evals),
                "evals/results/2026/case.yaml": yaml.safe_dump(CASE),
            }
        )
    )
    assert found.problems == ()
    assert sorted(c.name for c in found.cases) == ["fixes", "grouped", "skill-creator-7"]


def test_broken_case_files_are_named_with_what_is_wrong() -> None:
    no_graders = {**CASE, "graders": []}
    found = discover_cases(
        _bundle(
            {
                "evals/a/case.yaml": yaml.safe_dump(no_graders),
                "evals/b/case.yaml": "schema_version: [unclosed",
                "evals/c/prompt.md": "A prompt with nothing to grade it.",
                "evals/d/case.yaml": yaml.safe_dump({**CASE, "schema_version": 1}),
                "evals/evals.json": '{"evals": [{"id": 1}]}',
            }
        )
    )
    assert found.cases == ()
    problems = {p.path: p.message for p in found.problems}
    assert problems["evals/a/case.yaml"] == "needs a non-empty graders list"
    assert problems["evals/b/case.yaml"].startswith("is not YAML")
    assert problems["evals/c/prompt.md"] == "has no graders/*.md beside it"
    assert "schema_version" in problems["evals/d/case.yaml"]
    assert problems["evals/evals.json"] == "evals[0].prompt: must be a non-empty string"


def test_a_scaffold_script_is_noticed() -> None:
    case = {**CASE, "context": {"scaffold_script": "setup.sh"}}
    found = discover_cases(_bundle({"evals/grouped/case.yaml": yaml.safe_dump(case)}))
    assert [(c.name, c.scaffold_script) for c in found.scaffolded] == [("grouped", "setup.sh")]


def test_skill_creator_entries_become_llm_graded_cases() -> None:
    text = json.dumps(
        {
            "skill_name": "release-notes",
            "evals": [
                {
                    "id": 1,
                    "prompt": "Draft notes for v2.",
                    "expected_output": "Grouped notes.",
                    "files": ["evals/files/log.txt"],
                    "expectations": ["Lists features.", "Lists fixes."],
                }
            ],
        }
    )
    [case] = read_evals_json(text.encode())
    loaded = yaml.safe_load(case.case_yaml)
    assert loaded["name"] == "skill-creator-1"
    assert loaded["execution"] == {"prompt": "Draft notes for v2."}
    assert [g["criteria"] for g in loaded["graders"]] == [
        "Lists features.",
        "Lists fixes.",
        "The result matches this description: Grouped notes.",
    ]
    assert {g["type"] for g in loaded["graders"]} == {"llm"}


def test_skill_creator_mistakes_name_the_entry() -> None:
    for text, message in [
        ("[1, 2]", 'needs an "evals" list (skill-creator\'s format)'),
        ('{"evals": [{"id": true, "prompt": "x"}]}', "evals[0].id: must be an integer"),
        ('{"evals": [{"id": 1, "prompt": "x"}]}', "evals[0]: has neither expectations"),
        (
            '{"evals": [{"id": 1, "prompt": "x", "expectations": ["a"]},'
            ' {"id": 1, "prompt": "y", "expectations": ["b"]}]}',
            "evals[1]: id repeats",
        ),
        ('{"evals": [{"id": 1, "prompt": "x", "expectations": [3]}]}', "evals[0].expectations"),
    ]:
        found = discover_cases(_bundle({"evals/evals.json": text}))
        assert len(found.problems) == 1, text
        assert found.problems[0].message.startswith(message), found.problems[0].message
