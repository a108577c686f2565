"""The behavioural eval activity without a model credential: a recorded finding, not silence."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

import agent_registry
from activities.behaviour import BehaviourActivities, eval_client
from activities.models import BehaviourInput
from agent_registry.assets.archive import canonical_archive, content_hash
from agent_registry.assets.bundle import Bundle, BundleFile, BundleLimits
from agent_registry.assets.refs import AssetRef
from agent_registry.behaviour.gates import CASES_MISSING, NOT_RUN
from agent_registry.config import Settings
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.policy.loader import load_policy
from agent_registry.vocabulary.findings import Severity

SKILL = AssetRef.parse("skill/release-notes@1.0.0")
CASE = b'schema_version: "1.0"\nname: a\ngraders: [{type: llm, name: j, criteria: ok}]\n'


def _request(files: dict[str, bytes], *, tier: RiskTier = RiskTier.LOW) -> BehaviourInput:
    bundle = Bundle(
        root_name="release-notes",
        files=tuple(BundleFile(p, d) for p, d in sorted(files.items())),
    )
    return BehaviourInput(
        ref=SKILL,
        content_hash=content_hash(bundle),
        archive=canonical_archive(bundle),
        description="Notes.",
        tier=tier,
    )


def _activities() -> BehaviourActivities:
    return BehaviourActivities(policy_path=None, limits=BundleLimits(), client=None)


SKILL_MD = b"---\nname: release-notes\ndescription: Notes.\n---\nBody.\n"


def test_without_a_credential_the_cases_are_reported_not_run() -> None:
    request = _request({"SKILL.md": SKILL_MD, "evals/a/case.yaml": CASE})
    output = ActivityEnvironment().run(_activities().run_behaviour_evals, request)
    [finding] = output.findings
    assert finding.check_id == NOT_RUN
    assert "AGENT_REGISTRY_MODEL_API_KEY" in finding.message
    assert output.figures is None
    policy = load_policy(None)
    assert policy.severity_for(NOT_RUN, finding.severity) is Severity.WARN


def test_a_high_tier_asset_without_cases_is_told_to_ship_them_when_the_policy_says_so(
    tmp_path: Path,
) -> None:
    default = resources.files(agent_registry).joinpath("default_policy.toml").read_text()
    requiring = tmp_path / "policy.toml"
    requiring.write_text(default.replace("required_tiers = []", 'required_tiers = ["high"]'))
    activities = BehaviourActivities(policy_path=requiring, limits=BundleLimits(), client=None)
    request = _request({"SKILL.md": SKILL_MD}, tier=RiskTier.HIGH)
    output = ActivityEnvironment().run(activities.run_behaviour_evals, request)
    assert [f.check_id for f in output.findings] == [CASES_MISSING]
    low = _request({"SKILL.md": SKILL_MD})
    assert ActivityEnvironment().run(activities.run_behaviour_evals, low).findings == []
    # The default asks no tier for cases (see default_policy.toml's [behaviour]).
    assert ActivityEnvironment().run(_activities().run_behaviour_evals, request).findings == []


def test_an_archive_that_is_not_the_stored_bundle_is_refused_for_good() -> None:
    request = _request({"SKILL.md": SKILL_MD}).model_copy(update={"content_hash": "0" * 64})
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(_activities().run_behaviour_evals, request)
    assert raised.value.non_retryable and raised.value.type == "InvalidBundle"


def test_the_client_needs_a_credential_and_a_binary(tmp_path: Path) -> None:
    binary = tmp_path / "claude"
    binary.write_text("#!/bin/sh\n")
    assert eval_client(Settings(_env_file=None, claude_binary=binary)) is None
    assert (
        eval_client(
            Settings(_env_file=None, model_api_key=SecretStr("k"), claude_binary=tmp_path / "none")
        )
        is None
    )
    client = eval_client(
        Settings(
            _env_file=None,
            model_api_key=SecretStr("k"),
            claude_binary=binary,
            model_base_url="https://gateway.example.com",
        )
    )
    assert client is not None and client.binary == binary
    assert client.base_url == "https://gateway.example.com"
