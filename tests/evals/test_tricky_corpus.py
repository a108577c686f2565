"""The tricky-input corpus: real assets on disk that the eval bar must stop or flag.

Each case folder under ``tests/corpus/tricky`` holds one asset (a skill or MCP server
folder, or a subagent ``.md`` file with its sidecar) and ``expect.yaml``::

    kind: skill            # skill | subagent | mcp-server
    blocks: [check ids]    # each must be among the blocking findings
    warns: [check ids]     # optional; each must be among the warnings
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.evals.runner import evaluate
from agent_registry.policy.loader import load_policy
from agent_registry.vocabulary.findings import Finding

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "tricky"
CASES = sorted(path.name for path in CORPUS.iterdir() if (path / "expect.yaml").is_file())


def expectation(case: str) -> dict[str, Any]:
    data = yaml.safe_load((CORPUS / case / "expect.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    assert data["kind"] in ("skill", "subagent", "mcp-server")
    assert data.get("blocks") or data.get("warns"), "a case must expect something"
    return data


def asset_path(case: str, kind: str) -> Path:
    """The asset in a case folder: its one subagent file, or its one asset folder."""
    folder = CORPUS / case
    if kind == "subagent":
        candidates = [
            path
            for path in folder.glob("*.md")
            if not path.name.endswith(".agentreg.yaml") and path.is_file()
        ]
    else:
        candidates = [path for path in folder.iterdir() if path.is_dir()]
    assert len(candidates) == 1, f"{case} must hold exactly one asset, found {candidates}"
    return candidates[0]


def described(findings: list[Finding]) -> str:
    return "\n".join(
        f"  {f.severity.value} {f.check_id} {f.location}: {f.message}" for f in findings
    )


def test_the_corpus_has_the_cases_the_checks_promise() -> None:
    assert {
        "homoglyph-skill-name",
        "zero-width-in-skill-md",
        "bidi-override-in-script",
        "tag-character-smuggling",
        "hidden-html-comment",
        "subagent-prompt-injection",
        "link-to-exe",
        "missing-reference",
        "secrets-split-across-lines",
    } <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_tricky_case_is_caught(case: str) -> None:
    expected = expectation(case)
    asset = load_path(asset_path(case, expected["kind"]), limits=BundleLimits())
    assert asset.kind.value == expected["kind"]
    assert asset.registry_metadata.owner_team, "the case's sidecar must load"
    report = evaluate(asset, load_policy(None))
    for severity, wanted, found in (
        ("blocking", expected.get("blocks") or [], report.blocking),
        ("warning", expected.get("warns") or [], report.warnings),
    ):
        for check_id in wanted:
            matching = [f for f in found if f.check_id == check_id]
            assert matching, (
                f"{case}: expected a {severity} {check_id} finding; got:\n"
                f"{described(report.findings)}"
            )
            for finding in matching:
                assert finding.message.strip(), finding
                assert finding.fix and finding.fix.strip(), finding
                assert finding.file or finding.field, finding
