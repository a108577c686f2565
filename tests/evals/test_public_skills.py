"""Real skills as their authors publish them must pass the eval bar.

``tests/corpus/public-skills`` holds skills from github.com/anthropics/skills
(Apache-2.0, each with its LICENSE.txt) as published, plus the ``agentreg.yaml``
sidecar the registry needs. A blocking finding on one of them is a false positive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.runner import evaluate
from agent_registry.policy.loader import load_policy

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "public-skills"
SKILLS = sorted(path.name for path in CORPUS.iterdir() if (path / "SKILL.md").is_file())


def test_the_corpus_holds_several_skills() -> None:
    assert len(SKILLS) >= 4


@pytest.mark.parametrize("name", SKILLS)
def test_public_skill_loads_and_nothing_blocks(name: str) -> None:
    asset = load_path(CORPUS / name, limits=BundleLimits())
    assert asset.kind is AssetKind.SKILL
    assert asset.name == name
    assert asset.registry_metadata.owner_team
    assert asset.registry_metadata.version
    assert sum(len(f.data) for f in asset.bundle.files) < 100 * 1024
    report = evaluate(asset, load_policy(None))
    shown = "\n".join(
        f"  {f.severity.value} {f.check_id} {f.location}: {f.message}" for f in report.findings
    )
    assert report.blocking == [], f"{name} has blocking findings:\n{shown}"
