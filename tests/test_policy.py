from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent_registry.assets.refs import AssetKind
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.policy.durations import format_duration, parse_duration
from agent_registry.policy.loader import PolicyError, load_policy, parse_policy
from agent_registry.policy.model import MAX_TIER_REASONS, Policy
from agent_registry.vocabulary.findings import Finding, Severity

MINIMAL = """\
version = "test-1"

[review]
sla = "2d"
escalate_after = "4d"
channel = "#agent-registry-reviews"

[tiers.low]
approvals = 1
recertify_every = "180d"
[tiers.medium]
approvals = 1
recertify_every = "90d"
[tiers.high]
approvals = 2
require_groups = ["security"]
recertify_every = "90d"

[groups]
reviewers = ["*"]
security = ["S0SECURITY", "Sec.Lead@Example.com"]

[recertification]
grace = "14d"

[deprecation]
sunset_after = "30d"
"""


def policy_with(
    *, checks: dict[str, str] | None = None, risk: dict[str, str] | None = None
) -> Policy:
    text = MINIMAL
    if checks:
        text += "\n[checks]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in checks.items())
    if risk:
        text += "\n[risk]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in risk.items())
    return parse_policy(text, source="test.toml")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def finding(check_id: str, message: str = "something", **where: object) -> Finding:
    return Finding(check_id=check_id, severity=Severity.INFO, message=message, **where)


# Durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("36h", timedelta(hours=36)),
        ("90d", timedelta(days=90)),
        ("0d", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["2 days", "1d12h", "1.5d", "-1d", "2w", "d", "", "P2D"])
def test_parse_duration_refuses_other_forms_and_says_which_are_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"30s, 15m, 36h or 90d"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["30s", "15m", "36h", "2d", "90d"])
def test_format_duration_writes_what_parse_reads(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


# Loading


def test_default_policy_loads_with_the_documented_shape() -> None:
    policy = load_policy(None)
    assert policy.version == "2026-11-24"
    assert policy.review.sla == timedelta(days=2)
    assert policy.review.escalate_after == timedelta(days=4)
    assert policy.review.channel == "#agent-registry-reviews"
    assert policy.review.platform_channel == "#agent-registry-platform"
    assert policy.review.revision_window == timedelta(days=30)
    assert policy.tiers[RiskTier.LOW].approvals == 1
    assert policy.tiers[RiskTier.LOW].recertify_every == timedelta(days=180)
    assert policy.tiers[RiskTier.HIGH].approvals == 2
    assert policy.tiers[RiskTier.HIGH].require_groups == ["security"]
    assert policy.recertification.grace == timedelta(days=14)
    assert policy.deprecation.sunset_after == timedelta(days=30)
    assert policy.groups == {"reviewers": ["*"], "security": ["*"], "platform": ["*"]}


def test_default_policy_risk_table_maps_scope_signals_to_tiers() -> None:
    policy = load_policy(None)
    expected = {
        "scope.bypass-permissions": RiskTier.HIGH,
        "scope.unrestricted-shell": RiskTier.HIGH,
        "scope.mcp-effect.delete": RiskTier.HIGH,
        "scope.mcp-effect.exec": RiskTier.HIGH,
        "scope.mcp-effect.write": RiskTier.MEDIUM,
        "scope.mcp-effect.network": RiskTier.MEDIUM,
        "scope.tools-inherited": RiskTier.MEDIUM,
        "scope.skill-scripts": RiskTier.MEDIUM,
        "scope.mcp-effect.read": None,
        "spec.unknown-field": None,
    }
    assert {check_id: policy.tier_of(check_id) for check_id in expected} == expected


def test_load_policy_from_a_file(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, MINIMAL))
    assert policy.version == "test-1"
    assert policy.review.revision_window == timedelta(days=30)  # the default
    assert policy.checks == {}


def test_policy_survives_a_json_round_trip() -> None:
    policy = load_policy(None)
    data = policy.model_dump(mode="json")
    assert data["review"]["sla"] == "2d"
    assert Policy.model_validate(data) == policy


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert str(error.value) == f"{path}: policy file not found"


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('sla = "2d"', "sla = 2d"))
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    message = str(error.value)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 4" in message


def test_unknown_key_is_an_error_that_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("[review]\n", '[review]\nsla_reminder = "1d"\n'))
    with pytest.raises(PolicyError) as error:
        load_policy(path)
    assert str(error.value) == (
        f"{path}: review.sla_reminder: unknown key (known keys here: channel, escalate_after, "
        "platform_channel, revision_window, sla); check the spelling"
    )


def test_misspelt_table_is_an_error() -> None:
    with pytest.raises(PolicyError, match=r"test\.toml: chekcs: unknown key"):
        parse_policy(MINIMAL + '\n[chekcs]\n"secrets.*" = "off"\n', source="test.toml")


def test_bad_duration_names_the_field() -> None:
    text = MINIMAL.replace('grace = "14d"', 'grace = "two weeks"')
    with pytest.raises(PolicyError) as error:
        parse_policy(text, source="p.toml")
    assert str(error.value) == (
        "p.toml: recertification.grace: 'two weeks' is not a duration; write an integer "
        "and one unit: 30s, 15m, 36h or 90d"
    )


def test_duration_written_as_a_number_says_to_quote_it() -> None:
    with pytest.raises(
        PolicyError, match=r"deprecation\.sunset_after: write the duration as a quoted"
    ):
        parse_policy(MINIMAL.replace('sunset_after = "30d"', "sunset_after = 30"), source="p")


def test_escalation_must_come_after_the_sla() -> None:
    text = MINIMAL.replace('escalate_after = "4d"', 'escalate_after = "36h"')
    with pytest.raises(PolicyError) as error:
        parse_policy(text, source="p.toml")
    assert (
        str(error.value) == "p.toml: review.escalate_after: must be longer than sla (2d), got 36h"
    )


def test_required_group_must_be_defined() -> None:
    text = MINIMAL.replace('security = ["S0SECURITY", "Sec.Lead@Example.com"]\n', "")
    with pytest.raises(PolicyError) as error:
        parse_policy(text, source="p.toml")
    assert str(error.value) == (
        "p.toml: tiers.high.require_groups: 'security' is not defined in [groups] "
        "(defined: reviewers)"
    )


def test_every_tier_is_required() -> None:
    text = MINIMAL.replace('[tiers.medium]\napprovals = 1\nrecertify_every = "90d"\n', "")
    with pytest.raises(PolicyError, match=r"p: tiers: missing \[tiers\.medium\]"):
        parse_policy(text, source="p")


def test_unknown_tier_and_bad_severity_are_named() -> None:
    text = MINIMAL + '\n[tiers.critical]\napprovals = 3\nrecertify_every = "30d"\n'
    text = text.replace("[groups]", '[checks]\n"secrets.*" = "fatal"\n\n[groups]')
    with pytest.raises(PolicyError) as error:
        parse_policy(text, source="p")
    problems = error.value.problems
    assert any(
        p.startswith("tiers.critical: Input should be 'low', 'medium' or 'high'") for p in problems
    )
    assert any(p.startswith('checks."secrets.*": Input should be') for p in problems)


def test_zero_approvals_is_refused() -> None:
    text = MINIMAL.replace("[tiers.low]\napprovals = 1", "[tiers.low]\napprovals = 0")
    with pytest.raises(
        PolicyError, match=r"p: tiers\.low\.approvals: Input should be greater than or equal to 1"
    ):
        parse_policy(text, source="p")


def test_check_keys_must_look_like_check_ids() -> None:
    with pytest.raises(PolicyError, match=r"'Secrets\.\*' is not a check id or glob"):
        policy_with(checks={"Secrets.*": "off"})


# Severity: exact key, then the most specific glob


def test_severity_without_a_matching_key_is_the_proposal() -> None:
    assert policy_with().severity_for("scope.tools-inherited", Severity.WARN) is Severity.WARN


def test_exact_key_beats_any_glob() -> None:
    policy = policy_with(
        checks={"secrets.*": "block", "secrets.generic-assignment": "off", "*": "info"}
    )
    assert policy.severity_for("secrets.generic-assignment", Severity.WARN) is Severity.OFF
    assert policy.severity_for("secrets.github-token", Severity.WARN) is Severity.BLOCK


def test_longest_literal_prefix_wins_among_globs() -> None:
    policy = policy_with(
        checks={"*.write": "block", "scope.*": "warn", "scope.mcp-effect.*": "info", "*": "off"}
    )
    assert policy.severity_for("scope.mcp-effect.write", Severity.BLOCK) is Severity.INFO
    assert policy.severity_for("scope.tools-inherited", Severity.BLOCK) is Severity.WARN
    assert policy.severity_for("hygiene.write", Severity.WARN) is Severity.BLOCK
    assert policy.severity_for("hygiene.large-file", Severity.WARN) is Severity.OFF


def test_glob_order_in_the_file_does_not_matter() -> None:
    one = policy_with(checks={"scope.mcp-*": "warn", "scope.mcp-effect.*": "off"})
    two = policy_with(checks={"scope.mcp-effect.*": "off", "scope.mcp-*": "warn"})
    for policy in (one, two):
        assert policy.severity_for("scope.mcp-effect.exec", Severity.INFO) is Severity.OFF
        assert policy.severity_for("scope.mcp-no-tools", Severity.BLOCK) is Severity.WARN


# Per-kind and per-tier bars


def layered_policy() -> Policy:
    text = MINIMAL.replace(
        'require_groups = ["security"]\nrecertify_every = "90d"\n',
        'require_groups = ["security"]\nrecertify_every = "90d"\n'
        '[tiers.high.checks]\n"secrets.generic-assignment" = "block"\n"content.*" = "block"\n',
    )
    text += (
        '\n[checks]\n"secrets.generic-assignment" = "warn"\n"content.*" = "warn"\n'
        '"probe.*" = "warn"\n'
        '\n[kinds.mcp-server.checks]\n"probe.*" = "block"\n"secrets.generic-assignment" = "off"\n'
    )
    return parse_policy(text, source="test.toml")


def test_kind_table_beats_the_general_bar_for_that_kind_only() -> None:
    policy = layered_policy()
    for_server = policy.severity_for("probe.failed", Severity.WARN, kind=AssetKind.MCP_SERVER)
    assert for_server is Severity.BLOCK
    assert (
        policy.severity_for("probe.failed", Severity.BLOCK, kind=AssetKind.SKILL) is Severity.WARN
    )
    assert policy.severity_for("probe.failed", Severity.BLOCK) is Severity.WARN


def test_tier_table_beats_kind_and_general_bar() -> None:
    policy = layered_policy()
    assignment = "secrets.generic-assignment"
    high = policy.severity_for(
        assignment, Severity.WARN, kind=AssetKind.MCP_SERVER, tier=RiskTier.HIGH
    )
    assert high is Severity.BLOCK
    low = policy.severity_for(
        assignment, Severity.WARN, kind=AssetKind.MCP_SERVER, tier=RiskTier.LOW
    )
    assert low is Severity.OFF
    assert policy.severity_for("content.zero-width", Severity.WARN, tier=RiskTier.HIGH) is (
        Severity.BLOCK
    )
    assert policy.severity_for("content.zero-width", Severity.BLOCK, tier=RiskTier.LOW) is (
        Severity.WARN
    )


def test_unknown_kind_and_bad_keys_in_layered_tables_are_named() -> None:
    with pytest.raises(PolicyError) as unknown_kind:
        parse_policy(MINIMAL + '\n[kinds.plugin.checks]\n"probe.*" = "off"\n', source="p.toml")
    assert "kinds.plugin" in str(unknown_kind.value)
    with pytest.raises(PolicyError) as bad_key:
        parse_policy(MINIMAL + '\n[tiers.low.checks]\n"Probe.*" = "off"\n', source="p.toml")
    assert "tiers.low.checks" in str(bad_key.value)
    assert "'Probe.*' is not a check id or glob" in str(bad_key.value)


def test_markable_checks_come_from_policy() -> None:
    policy = parse_policy(
        MINIMAL + '\n[false_positives]\nmarkable = ["content.*"]\n', source="p.toml"
    )
    assert policy.is_markable("content.zero-width")
    assert not policy.is_markable("secrets.high-entropy")
    default = load_policy(None)
    assert default.is_markable("secrets.high-entropy")
    assert not default.is_markable("secrets.aws-access-key")


def test_probe_limits_are_bounded() -> None:
    with pytest.raises(PolicyError) as error:
        parse_policy(MINIMAL + '\n[probe]\ntimeout = "2h"\n', source="p.toml")
    assert "probe.timeout: must be between 1s and 2m" in str(error.value)


# Tier derivation


def test_tier_without_risky_findings_is_low() -> None:
    policy = policy_with(risk={"scope.mcp-effect.write": "medium"})
    assert policy.tier_for([finding("spec.unknown-field")]) == (RiskTier.LOW, [])


def test_highest_tier_wins_and_only_its_findings_are_reasons() -> None:
    policy = load_policy(None)
    findings = [
        finding(
            "scope.mcp-effect.write", "MCP tool 'create_ticket' writes", file="scope.yaml", line=3
        ),
        finding("scope.mcp-effect.delete", "MCP tool 'purge' deletes.", file="scope.yaml", line=7),
        finding("spec.unknown-field"),
    ]
    tier, reasons = policy.tier_for(findings)
    assert tier is RiskTier.HIGH
    assert reasons == ["scope.mcp-effect.delete: MCP tool 'purge' deletes (scope.yaml:7)"]


def test_medium_reasons_name_each_finding() -> None:
    tier, reasons = load_policy(None).tier_for(
        [
            finding(
                "scope.mcp-effect.write",
                "MCP tool 'create_ticket' writes",
                file="scope.yaml",
                line=3,
            ),
            finding("scope.skill-scripts", "skill ships a script the agent may run: run.sh"),
        ]
    )
    assert tier is RiskTier.MEDIUM
    assert reasons == [
        "scope.mcp-effect.write: MCP tool 'create_ticket' writes (scope.yaml:3)",
        "scope.skill-scripts: skill ships a script the agent may run: run.sh",
    ]


def test_risk_globs_follow_the_same_precedence() -> None:
    policy = policy_with(risk={"scope.*": "high", "scope.mcp-effect.*": "medium"})
    assert policy.tier_for([finding("scope.mcp-effect.write")])[0] is RiskTier.MEDIUM
    assert policy.tier_for([finding("scope.tools-inherited")])[0] is RiskTier.HIGH


def test_tier_reasons_are_capped() -> None:
    findings = [
        finding(
            "scope.mcp-effect.exec", f"MCP tool 't{n}' executes code", file="scope.yaml", line=n
        )
        for n in range(8)
    ]
    tier, reasons = load_policy(None).tier_for(findings)
    assert tier is RiskTier.HIGH
    assert len(reasons) == MAX_TIER_REASONS + 1
    assert reasons[-1] == "… and 3 more"


# Membership


def test_anyone_is_a_member_of_a_star_group() -> None:
    assert policy_with().is_member("new.hire@example.com", "reviewers")


def test_listed_identity_matches_case_insensitively() -> None:
    policy = policy_with()
    assert policy.is_member("sec.lead@example.com", "security")
    assert policy.is_member("  SEC.LEAD@EXAMPLE.COM ", "security")
    assert not policy.is_member("someone@example.com", "security")


def test_slack_user_group_needs_verified_membership() -> None:
    policy = policy_with()
    assert not policy.is_member("ana@example.com", "security")
    assert policy.is_member("ana@example.com", "security", verified_groups=["S0SECURITY"])
    assert not policy.is_member("ana@example.com", "security", verified_groups=["S0OTHER"])
    assert policy.slack_groups("security") == ["S0SECURITY"]


def test_slack_group_id_is_not_an_identity() -> None:
    # Someone whose user name happens to equal the group id is not thereby in the group.
    assert not policy_with().is_member("S0SECURITY", "security")


def test_undefined_group_admits_nobody() -> None:
    assert not policy_with().is_member("anyone@example.com", "platform")
