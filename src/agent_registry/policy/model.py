"""Policy as code: the eval bar, risk tiers, approvals, SLAs and lifetimes in one file.

The policy file (``policy.toml``) is versioned and its ``version`` is recorded on every
eval run and decision, so that a later reader knows which bar an asset was held to.
This module holds the policy's models and what they answer (a check's severity, an
asset's risk tier, group membership). Loading the file is :mod:`.loader`; which
``[checks]`` or ``[risk]`` key governs a check id is :mod:`.check_patterns`; durations
are :mod:`.durations`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agent_registry.assets.refs import AssetKind
from agent_registry.lifecycle.membership import is_slack_group_id, members_include
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.policy.behaviour import BehaviourPolicy
from agent_registry.policy.check_patterns import is_check_pattern, most_specific
from agent_registry.policy.durations import Duration, format_duration, parse_duration
from agent_registry.vocabulary.findings import Finding, Severity

MAX_TIER_REASONS = 5
"""How many findings a tier explanation names before it says "and N more"."""

_CHANNEL_PATTERN = re.compile(r"^(#[^\s#]+|[CG][A-Z0-9]{6,})$")

_T = TypeVar("_T")


class _PolicyModel(BaseModel):
    """Base of the policy models: immutable, and strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _validate_check_keys(value: dict[str, _T]) -> dict[str, _T]:
    """Refuse keys that are not check ids or globs, so a typo cannot relax the bar."""
    bad = [key for key in value if not is_check_pattern(key)]
    if bad:
        raise ValueError(
            f"{', '.join(repr(key) for key in bad)} is not a check id or glob; "
            "check ids are lowercase and dotted, e.g. secrets.aws-access-key or secrets.*"
        )
    return value


class ReviewPolicy(_PolicyModel):
    """How long reviews may take and where people are told about them.

    Attributes:
        sla: After this, the review thread gets a reminder.
        escalate_after: After this, the platform channel is told; longer than ``sla``.
        channel: Slack channel where review requests are posted.
        platform_channel: Slack channel of the team that runs the registry.
        revision_window: How long an asset in EvalFailed or ChangesRequested waits for
            a revision before its lifecycle ends.
    """

    sla: Duration
    escalate_after: Duration
    channel: str
    platform_channel: str = "#agent-registry-platform"
    revision_window: Duration = Field(default_factory=lambda: parse_duration("30d"))

    @field_validator("sla", "escalate_after", "revision_window")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @field_validator("escalate_after")
    @classmethod
    def _after_sla(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        # Escalating before the first reminder would skip the reminder entirely.
        sla = info.data.get("sla")
        if isinstance(sla, timedelta) and value <= sla:
            raise ValueError(
                f"must be longer than sla ({format_duration(sla)}), got {format_duration(value)}"
            )
        return value

    @field_validator("channel", "platform_channel")
    @classmethod
    def _slack_channel(cls, value: str) -> str:
        if not _CHANNEL_PATTERN.match(value):
            raise ValueError(
                f"'{value}' is not a Slack channel; write '#channel-name' or a channel id"
            )
        return value


class TierPolicy(_PolicyModel):
    """What one risk tier asks of review and re-certification.

    Attributes:
        approvals: Approvals needed to publish.
        require_groups: Groups that must each supply at least one of the approvers.
        recertify_every: How long a publication lasts before it is re-certified.
        checks: Check id or glob to severity for assets of this tier; beats the
            ``[checks]`` and ``[kinds.<kind>.checks]`` tables, so a high-risk asset can be
            held to a stricter bar.
    """

    approvals: Annotated[int, Field(ge=1)]
    require_groups: list[str] = Field(default_factory=list)
    recertify_every: Duration
    checks: dict[str, Severity] = Field(default_factory=dict)

    _check_keys = field_validator("checks")(_validate_check_keys)

    @field_validator("recertify_every")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value


class KindPolicy(_PolicyModel):
    """What differs in the bar for one asset kind.

    Attributes:
        checks: Check id or glob to severity for assets of this kind; beats ``[checks]``.
    """

    checks: dict[str, Severity] = Field(default_factory=dict)

    _check_keys = field_validator("checks")(_validate_check_keys)


class ProbePolicy(_PolicyModel):
    """How MCP servers are started and questioned during evaluation.

    Attributes:
        enabled: Start stdio MCP servers and compare what they expose with scope.yaml.
        timeout: Hard limit for one probe, start to finish; the server is killed after it.
        max_output_bytes: What the server may write (stdout and stderr) before the probe
            stops reading and kills it.
        memory: Memory each process in the sandbox may allocate (``RLIMIT_DATA``), as
            ``"512MiB"``, ``"1GiB"`` or bytes.
        cpu_seconds: CPU time of each process in the sandbox (``RLIMIT_CPU``).
        processes: Processes and threads of the server together (``RLIMIT_NPROC``).
    """

    enabled: bool = True
    timeout: Duration = Field(default_factory=lambda: parse_duration("20s"))
    max_output_bytes: Annotated[int, Field(ge=64 * 1024)] = 4 * 1024 * 1024
    memory: Annotated[int, Field(ge=128 * 1024 * 1024, le=64 * 1024**3)] = 1024**3
    cpu_seconds: Annotated[int, Field(ge=1, le=600)] = 30
    processes: Annotated[int, Field(ge=4, le=4096)] = 64

    @field_validator("memory", mode="before")
    @classmethod
    def _memory_size(cls, value: object) -> object:
        """``"512MiB"`` and ``"1GiB"`` read as bytes; a plain number is bytes already."""
        if isinstance(value, str):
            text = value.strip()
            for suffix, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
                if text.endswith(suffix) and text[: -len(suffix)].strip().isdigit():
                    return int(text[: -len(suffix)]) * factor
            raise ValueError(f"must be a size such as 512MiB or 1GiB, got {value!r}")
        return value

    @field_validator("timeout")
    @classmethod
    def _sane_timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(minutes=2):
            raise ValueError(f"must be between 1s and 2m, got {format_duration(value)}")
        return value


def _size(value: object) -> object:
    """``"512KiB"``, ``"16MiB"`` and ``"1GiB"`` read as bytes; a plain number is bytes."""
    if isinstance(value, str):
        text = value.strip()
        for suffix, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
            if text.endswith(suffix) and text[: -len(suffix)].strip().isdigit():
                return int(text[: -len(suffix)]) * factor
        raise ValueError(f"must be a size such as 512KiB or 16MiB, got {value!r}")
    return value


class BundleCap(_PolicyModel):
    """How big a bundle may be: a policy choice, per kind and tier.

    Attributes:
        max_total: All files together, as ``"16MiB"`` or bytes.
        max_file: Any one file.
        max_files: Number of files.
    """

    max_total: Annotated[int, Field(ge=1024)]
    max_file: Annotated[int, Field(ge=1024)]
    max_files: Annotated[int, Field(ge=1)]

    _sizes = field_validator("max_total", "max_file", mode="before")(_size)


class KindBundleCaps(BundleCap):
    """A kind's caps, and stricter (or looser) ones per risk tier.

    Attributes:
        tiers: ``[bundles.<kind>.tiers.<tier>]``: caps for assets of that tier; keys left
            out keep the kind's.
    """

    tiers: dict[RiskTier, dict[str, int | str]] = Field(default_factory=dict)

    def for_tier(self, tier: RiskTier) -> BundleCap:
        """The caps an asset of this kind and ``tier`` is held to."""
        base = {"max_total": self.max_total, "max_file": self.max_file, "max_files": self.max_files}
        return BundleCap.model_validate({**base, **self.tiers.get(tier, {})})


DEFAULT_BUNDLE_CAPS: dict[AssetKind, KindBundleCaps] = {
    AssetKind.SKILL: KindBundleCaps(max_total=16 * 1024**2, max_file=8 * 1024**2, max_files=500),
    AssetKind.SUBAGENT: KindBundleCaps(max_total=256 * 1024, max_file=256 * 1024, max_files=1),
    AssetKind.MCP_SERVER: KindBundleCaps(max_total=1024**2, max_file=512 * 1024, max_files=200),
}
"""Caps when the policy names none: Anthropic's public skills (document skills of
1.1 MB, a 5.5 MB skill that ships fonts) fit; an MCP bundle stays within what the probe
workers are sent."""


class ReusePolicy(_PolicyModel):
    """How reuse before rebuild looks for published assets like a new submission.

    Attributes:
        min_score: Similarity (0 to 1) from which a published asset is reported.
        limit: How many of the closest published assets are reported.
    """

    min_score: Annotated[float, Field(gt=0, le=1)] = 0.3
    limit: Annotated[int, Field(ge=1, le=20)] = 3


class FalsePositivePolicy(_PolicyModel):
    """Which findings a submitter may mark as false positives in the asset's metadata.

    A marked finding is kept, shown as ``info`` with the submitter's reason, so reviewers
    still see it; checks whose findings are certain (a well-known key format) should not
    be markable.

    Attributes:
        markable: Check ids or globs that may be marked.
    """

    markable: list[str] = Field(
        default_factory=lambda: ["secrets.high-entropy", "secrets.generic-assignment"]
    )

    @field_validator("markable")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        _validate_check_keys(dict.fromkeys(value))
        return value


class RecertificationPolicy(_PolicyModel):
    """Re-certification timing.

    Attributes:
        grace: How long after ``recertify_every`` the owner may still attest before the
            asset is deprecated.
    """

    grace: Duration


class DeprecationPolicy(_PolicyModel):
    """Deprecation timing.

    Attributes:
        sunset_after: How long a deprecated asset stays installable before it retires.
    """

    sunset_after: Duration


class Policy(_PolicyModel):
    """The whole policy file.

    Attributes:
        version: Recorded on every eval run and decision.
        review: Review SLA, escalation and channels.
        groups: Group name to members: identities (emails or user names), Slack
            user-group ids (``S…``), or ``"*"`` for anyone.
        tiers: What each risk tier asks; all three tiers must be present.
        recertification: Re-certification grace.
        deprecation: Sunset period.
        checks: Check id or glob to the severity policy gives it (``off`` drops it).
        kinds: Per-kind overrides of ``checks`` (``[kinds.mcp-server.checks]``).
        risk: Check id or glob to the tier a finding of that id raises the asset to.
        probe: The live MCP probe's limits.
        reuse: Reuse-before-rebuild thresholds.
        false_positives: Which findings a submitter may mark as false positives.
        behaviour: How behavioural evals run and what they gate.
        bundles: Bundle size caps per kind (``[bundles.<kind>]``) and tier
            (``[bundles.<kind>.tiers.<tier>]``); kinds left out keep the defaults.
    """

    version: Annotated[str, Field(min_length=1)]
    review: ReviewPolicy
    # ``groups`` is declared before ``tiers`` so the tier validator can see it.
    groups: dict[str, list[str]]
    tiers: dict[RiskTier, TierPolicy]
    recertification: RecertificationPolicy
    deprecation: DeprecationPolicy
    checks: dict[str, Severity] = Field(default_factory=dict)
    kinds: dict[AssetKind, KindPolicy] = Field(default_factory=dict)
    risk: dict[str, RiskTier] = Field(default_factory=dict)
    probe: ProbePolicy = Field(default_factory=ProbePolicy)
    reuse: ReusePolicy = Field(default_factory=ReusePolicy)
    false_positives: FalsePositivePolicy = Field(default_factory=FalsePositivePolicy)
    behaviour: BehaviourPolicy = Field(default_factory=BehaviourPolicy)
    bundles: dict[AssetKind, KindBundleCaps] = Field(
        default_factory=lambda: dict(DEFAULT_BUNDLE_CAPS)
    )

    @field_validator("tiers")
    @classmethod
    def _every_tier(cls, value: dict[RiskTier, TierPolicy]) -> dict[RiskTier, TierPolicy]:
        missing = [tier.value for tier in RiskTier if tier not in value]
        if missing:
            tables = ", ".join(f"[tiers.{name}]" for name in missing)
            raise ValueError(f"missing {tables}; every tier (low, medium, high) must be set")
        return value

    @field_validator("groups")
    @classmethod
    def _members_not_blank(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, members in value.items():
            if any(not member.strip() for member in members):
                raise ValueError(f"group '{name}' has a blank member")
        return value

    _check_keys = field_validator("checks", "risk")(_validate_check_keys)

    @model_validator(mode="after")
    def _required_groups_exist(self) -> Policy:
        problems = [
            f"tiers.{tier.value}.require_groups: '{group}' is not defined in [groups] "
            f"(defined: {', '.join(sorted(self.groups)) or 'none'})"
            for tier, tier_policy in self.tiers.items()
            for group in tier_policy.require_groups
            if group not in self.groups
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def severity_for(
        self,
        check_id: str,
        proposed: Severity,
        *,
        kind: AssetKind | None = None,
        tier: RiskTier | None = None,
    ) -> Severity:
        """The severity policy gives a finding of ``check_id``.

        Three tables may speak, most particular first: the asset's tier
        (``[tiers.<tier>.checks]``), its kind (``[kinds.<kind>.checks]``), then
        ``[checks]``. The first table with a matching key decides, using its most
        specific key (see :mod:`agent_registry.policy.check_patterns`), so a tier can make a
        check stricter for risky assets whatever the general bar says.

        Args:
            check_id: The finding's check id.
            proposed: The severity the check proposed; kept when no key matches.
            kind: The asset's kind, when known.
            tier: The asset's risk tier, when known.

        Returns:
            The severity the first matching table gives, else ``proposed``.
        """
        tables: list[dict[str, Severity]] = []
        if tier is not None and tier in self.tiers:
            tables.append(self.tiers[tier].checks)
        if kind is not None and kind in self.kinds:
            tables.append(self.kinds[kind].checks)
        tables.append(self.checks)
        for table in tables:
            severity = most_specific(table, check_id)
            if severity is not None:
                return severity
        return proposed

    def is_markable(self, check_id: str) -> bool:
        """Tell whether a submitter may mark a finding of ``check_id`` as a false positive."""
        return most_specific(dict.fromkeys(self.false_positives.markable, True), check_id) is True

    def bundle_cap(self, kind: AssetKind, tier: RiskTier) -> BundleCap:
        """The size caps an asset of ``kind`` at ``tier`` is held to."""
        caps = self.bundles.get(kind) or DEFAULT_BUNDLE_CAPS[kind]
        return caps.for_tier(tier)

    def tier_of(self, check_id: str) -> RiskTier | None:
        """The tier a finding of ``check_id`` raises an asset to, or None if it does not."""
        return most_specific(self.risk, check_id)

    def tier_for(self, findings: Sequence[Finding]) -> tuple[RiskTier, list[str]]:
        """Derive an asset's risk tier from its findings.

        Args:
            findings: Findings of one eval run, before policy drops any: a finding that
                is hidden from the report still says something about the asset's reach.

        Returns:
            The highest tier any finding raises the asset to (low when none does), and
            one short reason per finding that set that tier, e.g.
            ``scope.mcp-effect.write: MCP tool 'create_ticket' writes (scope.yaml:3)``.
            At most :data:`MAX_TIER_REASONS` are named; the rest are counted.
        """
        tier = RiskTier.LOW
        deciding: list[Finding] = []
        for finding in findings:
            raised = self.tier_of(finding.check_id)
            if raised is None:
                continue
            if raised.rank > tier.rank:
                tier, deciding = raised, [finding]
            elif raised is tier and tier is not RiskTier.LOW:
                deciding.append(finding)
        reasons = list(dict.fromkeys(_reason(finding) for finding in deciding))
        if len(reasons) > MAX_TIER_REASONS:
            extra = len(reasons) - MAX_TIER_REASONS
            reasons = [*reasons[:MAX_TIER_REASONS], f"… and {extra} more"]
        return tier, reasons

    def is_member(self, identity: str, group: str, *, verified_groups: Sequence[str] = ()) -> bool:
        """Tell whether ``identity`` belongs to ``group``.

        Args:
            identity: An email or user name; compared case-insensitively.
            group: A group defined in ``[groups]``; an undefined group has no members,
                so a misspelt group denies rather than admits.
            verified_groups: Slack user-group ids the identity is a member of, as the
                caller found out by asking Slack; policy cannot ask Slack itself.

        Returns:
            True if the group admits anyone, lists the identity, or lists a Slack
            user group in ``verified_groups``.
        """
        return members_include(
            self.groups.get(group, []), identity, verified_groups=verified_groups
        )

    def slack_groups(self, group: str) -> list[str]:
        """The Slack user-group ids listed in ``group``: what a caller asks Slack about."""
        return [member for member in self.groups.get(group, []) if is_slack_group_id(member)]


def _reason(finding: Finding) -> str:
    """One short line naming a finding, for the tier explanation."""
    message = finding.message.strip().rstrip(".")
    if len(message) > 100:
        message = message[:99] + "…"
    where = finding.location
    if not where or (finding.file and finding.file in message):
        return f"{finding.check_id}: {message}"
    return f"{finding.check_id}: {message} ({where})"
