"""The example skill with three behavioural eval cases, and a scripted model that grades it.

The cases come in all three forms an asset may ship: ``case.yaml``, ``prompt.md`` with
``graders/*.md``, and skill-creator's ``evals/evals.json``. The scripted model answers
the agent with release notes that have a Features section only when the skill is loaded
(the plugin arm), and a plain sentence otherwise (the baseline arm); the judge passes an
output exactly when it has that section. So with the skill the ``features`` and
``breaking`` cases pass and ``fixes`` fails its regex grader, and without it every case
fails: a pass rate of 2/3 against 0.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.claude_client.messages_stand_in import Answer, RecordedRequest, say
from tests.support import EXAMPLES

JUDGE_OPENING = "You are grading the output of a coding agent"
WITH_SKILL = "## Features\n- Grouped notes for v1.2.0"
WITHOUT_SKILL = "Here are some notes about the release."

CASE_YAML = """\
schema_version: "1.0"
name: features
execution:
  prompt: Draft the release notes for v1.2.0.
  max_turns: 2
graders:
  - type: regex
    name: has-features
    pattern: "## Features"
  - type: llm
    name: grouped
    criteria: The notes group changes under headings.
"""

PROMPT_MD = "---\nmax_turns: 2\n---\n\nDraft the release notes for v1.2.0 with its fixes.\n"
FIXES_GRADER = '---\ntype: regex\npattern: "## Fixes"\n---\n\nThe notes have a Fixes section.\n'

EVALS_JSON = {
    "skill_name": "release-notes",
    "evals": [
        {
            "id": "breaking",
            "prompt": "What changed since v1.1.0? Call out breaking changes.",
            "expected_output": "Notes grouped by kind of change.",
            "expectations": ["The notes are grouped under headings."],
        }
    ],
}


def skill_with_cases(root: Path) -> Path:
    """A copy of the example skill that ships the three cases."""
    skill = root / "release-notes"
    shutil.copytree(EXAMPLES / "skills" / "release-notes", skill)
    (skill / "evals" / "features").mkdir(parents=True)
    (skill / "evals" / "features" / "case.yaml").write_text(CASE_YAML)
    (skill / "evals" / "fixes" / "graders").mkdir(parents=True)
    (skill / "evals" / "fixes" / "prompt.md").write_text(PROMPT_MD)
    (skill / "evals" / "fixes" / "graders" / "fixes.md").write_text(FIXES_GRADER)
    (skill / "evals" / "evals.json").write_text(json.dumps(EVALS_JSON, indent=2))
    return skill


def grading_model(request: RecordedRequest) -> Answer:
    """The scripted model: helps only with the skill loaded; judges by the Features heading."""
    text = request.text()
    if JUDGE_OPENING in text:
        output = text.partition("Agent output")[2]
        return say("PASS" if "## Features" in output else "FAIL")
    listed = request.listed_skills()
    return say(WITH_SKILL if any(s.endswith("release-notes") for s in listed) else WITHOUT_SKILL)
