from __future__ import annotations

import logging

import pytest

from agent_registry.assets.manifests import FalsePositiveMark
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.evals import content, hygiene, intent, scope, secrets, spec
from agent_registry.evals.runner import CATALOG, CHECK_FAMILIES, EvalReport, evaluate
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.policy.loader import load_policy
from agent_registry.policy.model import Policy
from agent_registry.vocabulary.findings import Finding, Severity

from .builders import DEFAULT_SKILL, DEFAULT_SUBAGENT, fake_token, mcp_server, skill, subagent


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(None)


def with_checks(policy: Policy, **checks: Severity) -> Policy:
    """The policy with ``[checks]`` entries added (keyword names use _ for . and -)."""
    extra = {key.replace("__", ".").replace("_", "-"): value for key, value in checks.items()}
    return policy.model_copy(update={"checks": {**policy.checks, **extra}})


def test_families_run_in_a_stable_order() -> None:
    families = (
        spec.check,
        secrets.check,
        scope.check,
        hygiene.check,
        content.check,
        intent.check,
    )
    assert families == CHECK_FAMILIES


def test_clean_assets_pass_at_low_risk(policy: Policy) -> None:
    for asset in (skill(), subagent(), mcp_server()):
        report = evaluate(asset, policy)
        assert report.findings == []
        assert report.passed
        assert report.risk_tier is RiskTier.LOW
        assert report.tier_reasons == []
        assert report.summary_line() == "no findings"
        assert report.policy_version == "2026-11-24"


def test_report_sorts_block_warn_info_then_file_and_line(policy: Policy) -> None:
    asset = skill(
        frontmatter={**DEFAULT_SKILL, "description": "Too short", "allowed-tools": "Bash"},
        body="See [missing](references/nope.md).\n",
        files={
            "scripts/run.sh": "#!/bin/sh\ntoken=ghp_" + fake_token(36) + "\n",
            "b.key": "k\n",
        },
    )
    report = evaluate(asset, policy)
    order = [(f.severity.value, f.file, f.line, f.check_id) for f in report.findings]
    assert order == [
        ("block", "SKILL.md", 6, "hygiene.missing-reference"),
        ("block", "b.key", None, "hygiene.sensitive-file"),
        ("block", "scripts/run.sh", 2, "secrets.github-token"),
        ("warn", "SKILL.md", 3, "spec.description-too-short"),
        ("warn", "SKILL.md", 4, "scope.unrestricted-shell"),
        ("info", "scripts/run.sh", None, "scope.skill-scripts"),
    ]
    assert not report.passed
    assert report.summary_line() == "3 blocking, 2 warnings, 1 info"
    assert [f.check_id for f in report.blocking] == [
        "hygiene.missing-reference",
        "hygiene.sensitive-file",
        "secrets.github-token",
    ]
    assert len(report.warnings) == 2
    assert len(report.infos) == 1


def test_policy_can_turn_a_blocking_check_off(policy: Policy) -> None:
    asset = skill(files={"tls/site.pem": "not really a key\n"})
    assert not evaluate(asset, policy).passed
    relaxed = with_checks(policy, hygiene__sensitive_file=Severity.OFF)
    report = evaluate(asset, relaxed)
    assert report.passed
    assert report.findings == []


def test_policy_can_make_a_warning_block(policy: Policy) -> None:
    asset = subagent(frontmatter={**DEFAULT_SUBAGENT, "description": "Reviews code"})
    report = evaluate(asset, policy)
    assert report.passed
    assert report.summary_line() == "1 warning"
    strict = with_checks(policy, spec__description_too_short=Severity.BLOCK)
    report = evaluate(asset, strict)
    assert not report.passed
    assert report.summary_line() == "1 blocking"


def test_tier_counts_findings_policy_hides(policy: Policy) -> None:
    asset = subagent(frontmatter={**DEFAULT_SUBAGENT, "tools": "Read, Bash"})
    quiet = with_checks(policy, scope__unrestricted_shell=Severity.OFF)
    report = evaluate(asset, quiet)
    assert report.findings == []
    assert report.risk_tier is RiskTier.HIGH
    assert report.tier_reasons == [
        "scope.unrestricted-shell: tools grants 'Bash', which runs any shell command "
        "(code-reviewer.md:4 (tools))"
    ]


def test_mcp_tier_comes_from_declared_effects(policy: Policy) -> None:
    asset = mcp_server(
        tools=[
            {"name": "search_tickets", "effects": ["read"]},
            {"name": "create_ticket", "effects": ["write"]},
        ]
    )
    report = evaluate(asset, policy)
    assert report.passed
    assert report.risk_tier is RiskTier.MEDIUM
    assert len(report.tier_reasons) == 1
    assert report.tier_reasons[0].startswith(
        "scope.mcp-effect.write: MCP tool 'create_ticket' writes (scope.yaml:"
    )


def test_crashing_check_becomes_a_blocking_finding(
    policy: Policy, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "ghp_" + fake_token(36)

    def exploding(asset: ParsedAsset) -> list[Finding]:
        raise KeyError(secret)

    with caplog.at_level(logging.ERROR):
        report = evaluate(skill(), policy, families=(spec.check, exploding))
    [finding] = report.findings
    assert finding.check_id == "eval.check-crashed"
    assert finding.severity is Severity.BLOCK
    assert "exploding" in finding.message
    assert "KeyError" in finding.message
    assert "Traceback" not in finding.message
    assert not report.passed
    # The exception message can quote file content: it reaches neither report nor log.
    assert secret not in report.model_dump_json()
    assert secret not in caplog.text
    assert "exploding" in caplog.text


def test_crash_inside_a_family_keeps_the_other_checks_findings(
    policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(asset: ParsedAsset) -> list[Finding]:
        raise RuntimeError("boom")

    monkeypatch.setattr(secrets, "CHECKS", (broken, *secrets.CHECKS))
    asset = skill(files={"run.sh": "token=ghp_" + fake_token(36) + "\n"})
    report = evaluate(asset, policy)
    assert {f.check_id for f in report.blocking} == {"eval.check-crashed", "secrets.github-token"}


def test_identical_findings_are_reported_once(policy: Policy) -> None:
    finding = Finding(check_id="custom.same", severity=Severity.WARN, message="same")

    def twice(asset: ParsedAsset) -> list[Finding]:
        return [finding, finding.model_copy()]

    report = evaluate(skill(), policy, families=(twice, twice))
    assert report.findings == [finding]


def test_report_round_trips_through_json(policy: Policy) -> None:
    report = evaluate(subagent(frontmatter={**DEFAULT_SUBAGENT, "tools": "Bash"}), policy)
    assert EvalReport.model_validate_json(report.model_dump_json()) == report


def test_default_policy_keeps_every_proposed_severity(policy: Policy) -> None:
    # The default file restates each check's own proposal, so globs like "spec.*" = block
    # cannot quietly turn a warning into a blocker.
    changed = {
        check_id: (proposed, policy.severity_for(check_id, proposed))
        for check_id, proposed in CATALOG.items()
        if policy.severity_for(check_id, proposed) is not proposed
    }
    assert changed == {}


# Policy per kind and tier, false-positive marks, findings from outside


def _entropy_line_skill(marks: list[FalsePositiveMark]) -> ParsedAsset:
    asset = skill(files={"config/settings.ini": f"session_salt = {HIGH_ENTROPY}\n"})
    asset.registry_metadata = asset.registry_metadata.model_copy(update={"false_positives": marks})
    return asset


HIGH_ENTROPY = "q8Zr2Lx0VbN4pT7sWe1YhK9mUc3JfD6gA5oRtXi"


def test_a_marked_false_positive_stays_visible_as_info(policy: Policy) -> None:
    unmarked = evaluate(_entropy_line_skill([]), policy)
    assert [f.check_id for f in unmarked.warnings] == ["secrets.high-entropy"]
    mark = FalsePositiveMark(
        check="secrets.high-entropy", file="config/settings.ini", line=1, reason="test salt"
    )
    report = evaluate(_entropy_line_skill([mark]), policy)
    assert report.warnings == []
    [info] = report.infos
    assert info.check_id == "secrets.high-entropy"
    assert info.message.startswith('marked as a false positive ("test salt")')


def test_a_mark_on_a_certain_check_does_not_hide_it(policy: Policy) -> None:
    token = "ghp_" + fake_token(36)
    asset = skill(files={"run.sh": f"token={token}\n"})
    asset.registry_metadata = asset.registry_metadata.model_copy(
        update={
            "false_positives": [
                FalsePositiveMark(check="secrets.github-token", file="run.sh", reason="test")
            ]
        }
    )
    report = evaluate(asset, policy)
    assert "secrets.github-token" in {f.check_id for f in report.blocking}
    assert "marks.not-markable" in {f.check_id for f in report.warnings}


def test_external_findings_are_judged_with_the_kind_and_tier(policy: Policy) -> None:
    not_probed = Finding(
        check_id="probe.not-probed", severity=Severity.INFO, message="remote server"
    )
    server = evaluate(mcp_server(), policy, external=[not_probed])
    assert [f.check_id for f in server.warnings] == ["probe.not-probed"]
    undeclared = Finding(
        check_id="probe.undeclared-tool", severity=Severity.BLOCK, message="drop_table"
    )
    risky = evaluate(mcp_server(), policy, external=[undeclared])
    assert risky.risk_tier is RiskTier.HIGH
    assert [f.check_id for f in risky.blocking] == ["probe.undeclared-tool"]


def test_a_high_risk_asset_is_held_to_the_stricter_tier_bar(policy: Policy) -> None:
    assignment = {"config.ini": "password = Summer2026Secure\n"}
    low = evaluate(skill(files=assignment), policy)
    assert "secrets.generic-assignment" in {f.check_id for f in low.warnings}
    tools = [{"name": "run_query", "effects": ["exec"]}]
    high = evaluate(mcp_server(tools=tools, files=assignment), policy)
    assert high.risk_tier is RiskTier.HIGH
    assert "secrets.generic-assignment" in {f.check_id for f in high.blocking}


def test_a_warning_that_raises_the_tier_does_not_make_other_warnings_block(
    policy: Policy,
) -> None:
    # An unrestricted Bash only warns; it raises the tier (review gets stricter) but
    # must not turn the asset's other warnings into blocks.
    assignment = {"config.ini": "password = Summer2026Secure\n"}
    shell = {**DEFAULT_SKILL, "allowed-tools": "Bash"}
    report = evaluate(skill(frontmatter=shell, files=assignment), policy)
    assert report.risk_tier is RiskTier.HIGH
    assert report.blocking == []
    assert "secrets.generic-assignment" in {f.check_id for f in report.warnings}
