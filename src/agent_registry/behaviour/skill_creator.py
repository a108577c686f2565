"""skill-creator's ``evals/evals.json``, converted to Claude Code's plugin-eval cases.

skill-creator (Anthropic's skill for writing skills) keeps a skill's evals in one file:
``{"skill_name": ..., "evals": [{"id", "prompt", "expected_output", "files",
"expectations"}]}`` (its ``references/schemas.md``). ``claude plugin eval`` reads
neither that file nor its graders, so each entry becomes a case folder: the prompt as
``execution.prompt``, each expectation as an ``llm`` grader, and the expected output as
one more. ``files`` are left where they are (the prompt names them, relative to the
skill).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import yaml

EVALS_JSON = "evals/evals.json"
CASE_PREFIX = "skill-creator-"
"""Converted case folders are named ``evals/skill-creator-<id>/``."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class SkillCreatorError(ValueError):
    """``evals/evals.json`` is not skill-creator's format; the message names the entry."""


@dataclass(frozen=True)
class ConvertedCase:
    """One converted case: its folder name and its ``case.yaml`` text."""

    name: str
    case_yaml: str


def read_evals_json(data: bytes) -> list[ConvertedCase]:
    """The cases of an ``evals/evals.json``.

    Raises:
        SkillCreatorError: Not JSON, no ``evals`` list, or an entry without a prompt or
            anything to grade it by; the message names the entry.
    """
    try:
        loaded = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise SkillCreatorError(f"is not JSON ({error})") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("evals"), list):
        raise SkillCreatorError('needs an "evals" list (skill-creator\'s format)')
    cases: list[ConvertedCase] = []
    seen: set[str] = set()
    for index, entry in enumerate(loaded["evals"]):
        case = _convert(entry, where=f"evals[{index}]")
        if case.name in seen:
            raise SkillCreatorError(f"evals[{index}]: id repeats an earlier entry's")
        seen.add(case.name)
        cases.append(case)
    return cases


def _convert(entry: object, *, where: str) -> ConvertedCase:
    if not isinstance(entry, dict):
        raise SkillCreatorError(f"{where}: must be an object")
    raw_id = entry.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or not _ID.match(str(raw_id)):
        raise SkillCreatorError(f"{where}.id: must be an integer or a short name, got {raw_id!r}")
    prompt = entry.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise SkillCreatorError(f"{where}.prompt: must be a non-empty string")
    expectations = entry.get("expectations", [])
    if not isinstance(expectations, list) or not all(
        isinstance(e, str) and e.strip() for e in expectations
    ):
        raise SkillCreatorError(f"{where}.expectations: must be a list of non-empty strings")
    expected = entry.get("expected_output")
    if expected is not None and not isinstance(expected, str):
        raise SkillCreatorError(f"{where}.expected_output: must be a string")
    graders: list[dict[str, object]] = [
        {"type": "llm", "name": f"expectation-{n}", "criteria": text.strip()}
        for n, text in enumerate(expectations, start=1)
    ]
    if expected and expected.strip():
        criteria = f"The result matches this description: {expected.strip()}"
        graders.append({"type": "llm", "name": "expected-output", "criteria": criteria})
    if not graders:
        raise SkillCreatorError(f"{where}: has neither expectations nor expected_output to grade")
    name = f"{CASE_PREFIX}{raw_id}"
    case = {
        "schema_version": "1.0",
        "name": name,
        "execution": {"prompt": prompt},
        "graders": graders,
    }
    return ConvertedCase(name=name, case_yaml=yaml.safe_dump(case, sort_keys=False))
