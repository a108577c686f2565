"""Policy as code: the eval bar, risk tiers, approvals, SLAs and lifetimes in one file.

The policy file (``policy.toml``) is versioned and its ``version`` is recorded on every
eval run and decision, so that a later reader knows which bar an asset was held to.
Loading is strict (unknown keys are errors) because a typo in a governance file must not
silently relax the bar.

Check ids and risk keys may be exact ids (``scope.bypass-permissions``) or ``fnmatch``
globs (``secrets.*``). When several keys match one check id the most specific wins:

1. an exact key always wins;
2. otherwise, of the matching globs, the one with the longest literal prefix (the text
   before its first ``*``, ``?`` or ``[``) wins, so ``scope.mcp-effect.*`` beats
   ``scope.*`` and ``scope.*`` beats ``*.write``;
3. ties go to the glob with more literal characters, then to the alphabetically first
   pattern, so the result never depends on the order of the file.
"""

from __future__ import annotations

import fnmatch
import importlib.resources
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agent_registry.evals.findings import Finding, Severity
from agent_registry.lifecycle import RiskTier

DEFAULT_POLICY_RESOURCE = "default_policy.toml"
"""Name of the packaged default policy inside the ``agent_registry`` package."""

MAX_TIER_REASONS = 5
"""How many findings a tier explanation names before it says "and N more"."""

_DURATION_PATTERN = re.compile(r"^(\d+)([smhd])$")
_DURATION_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION_FORMS = "an integer and one unit: 30s, 15m, 36h or 90d"

# Check ids are lowercase and dotted; globs add fnmatch's wildcards. Anything else in a
# key (spaces, capitals) is a typo that would silently match nothing.
_CHECK_KEY_PATTERN = re.compile(r"^[a-z0-9_.*?\[\]!-]+$")
_GLOB_CHARS = re.compile(r"[*?\[]")

# Slack user-group ids look like ``S0614TZR7``. Written in uppercase and starting with
# "S", they cannot be confused with an email; a lowercase user name never matches.
_SLACK_GROUP_PATTERN = re.compile(r"^S[A-Z0-9]{2,}$")
ANYONE = "*"
"""A group entry that admits every identity (the embedded default policy uses it)."""

_CHANNEL_PATTERN = re.compile(r"^(#[^\s#]+|[CG][A-Z0-9]{6,})$")

_T = TypeVar("_T")


class PolicyError(Exception):
    """A policy file that cannot be read or does not validate.

    The message names the file, the field path and what is wrong, one problem per line,
    ready to show to the operator as is.

    Attributes:
        source: The file (or other source) the policy came from.
        problems: One ``field: what is wrong`` line per problem.
    """

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.problems))


def parse_duration(text: str) -> timedelta:
    """Parse a policy duration such as ``30s``, ``15m``, ``36h`` or ``90d``.

    One integer and one unit keeps durations unambiguous for operators and reviewers
    alike; compound forms such as ``1d12h`` are written ``36h``.

    Args:
        text: The duration as written in the policy file.

    Returns:
        The duration.

    Raises:
        ValueError: If the text is not an integer followed by ``s``, ``m``, ``h`` or ``d``.
    """
    match = _DURATION_PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a duration; write {_DURATION_FORMS}")
    return timedelta(seconds=int(match[1]) * _DURATION_UNITS[match[2]])


def format_duration(value: timedelta) -> str:
    """Write a duration in the policy's own form, using the largest unit that is exact.

    This is how durations serialise to JSON, so a policy survives a round trip through
    Temporal's data converter and reads the way the operator wrote it.

    Args:
        value: The duration; sub-second parts are dropped (policies cannot express them).

    Returns:
        The duration as ``<integer><unit>``, e.g. ``2d`` or ``36h``.
    """
    seconds = int(value.total_seconds())
    for unit, unit_seconds in _DURATION_UNITS.items():
        if seconds % unit_seconds == 0:
            return f"{seconds // unit_seconds}{unit}"
    return f"{seconds}s"  # unreachable: every integer is a whole number of seconds


def _coerce_duration(value: object) -> object:
    """Accept a duration string from the file, or a timedelta from code."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"write the duration as a quoted string, {_DURATION_FORMS}")


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
"""A policy duration: parsed from ``30s``/``15m``/``36h``/``90d``, written back the same way."""


class _PolicyModel(BaseModel):
    """Base of the policy models: immutable, and strict about unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
    """

    approvals: Annotated[int, Field(ge=1)]
    require_groups: list[str] = Field(default_factory=list)
    recertify_every: Duration

    @field_validator("recertify_every")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
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
        risk: Check id or glob to the tier a finding of that id raises the asset to.
    """

    version: Annotated[str, Field(min_length=1)]
    review: ReviewPolicy
    # ``groups`` is declared before ``tiers`` so the tier validator can see it.
    groups: dict[str, list[str]]
    tiers: dict[RiskTier, TierPolicy]
    recertification: RecertificationPolicy
    deprecation: DeprecationPolicy
    checks: dict[str, Severity] = Field(default_factory=dict)
    risk: dict[str, RiskTier] = Field(default_factory=dict)

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

    @field_validator("checks", "risk")
    @classmethod
    def _check_keys(cls, value: dict[str, _T]) -> dict[str, _T]:
        bad = [key for key in value if not _CHECK_KEY_PATTERN.match(key)]
        if bad:
            raise ValueError(
                f"{', '.join(repr(key) for key in bad)} is not a check id or glob; "
                "check ids are lowercase and dotted, e.g. secrets.aws-access-key or secrets.*"
            )
        return value

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

    def severity_for(self, check_id: str, proposed: Severity) -> Severity:
        """The severity policy gives a finding of ``check_id``.

        Args:
            check_id: The finding's check id.
            proposed: The severity the check proposed; kept when no key matches.

        Returns:
            The severity of the most specific matching ``[checks]`` key (see the module
            docstring for the rule), else ``proposed``.
        """
        severity = _lookup(self.checks, check_id)
        return proposed if severity is None else severity

    def tier_of(self, check_id: str) -> RiskTier | None:
        """The tier a finding of ``check_id`` raises an asset to, or None if it does not."""
        return _lookup(self.risk, check_id)

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


def members_include(
    members: Sequence[str], identity: str, *, verified_groups: Sequence[str] = ()
) -> bool:
    """Tell whether a group's member list admits ``identity``.

    The one membership rule, used by :meth:`Policy.is_member` and by the workflow's
    vote validators (which get member lists, not the policy, through their plan).

    Args:
        members: The group's entries: identities, Slack user-group ids, or ``*``.
        identity: An email or user name; compared case-insensitively.
        verified_groups: Slack user-group ids the caller verified the identity is in.

    Returns:
        True if the list admits anyone, lists the identity, or lists a Slack user group
        in ``verified_groups``. A Slack group id never matches as a user name.
    """
    wanted = identity.strip().casefold()
    verified = set(verified_groups)
    for member in members:
        if member == ANYONE:
            return True
        if is_slack_group_id(member):
            if member in verified:
                return True
        elif wanted and member.strip().casefold() == wanted:
            return True
    return False


def is_slack_group_id(entry: str) -> bool:
    """Tell whether a group entry is a Slack user-group id (``S`` + uppercase/digits)."""
    return _SLACK_GROUP_PATTERN.match(entry) is not None


def _specificity(pattern: str) -> tuple[int, int, str]:
    """Sort key: longer literal prefix, then more literal characters, then alphabetical."""
    glob = _GLOB_CHARS.search(pattern)
    prefix = len(pattern) if glob is None else glob.start()
    literal = len(_GLOB_CHARS.sub("", pattern))
    # Negated so that the most specific pattern sorts first; the pattern breaks ties.
    return (-prefix, -literal, pattern)


def _lookup(table: Mapping[str, _T], check_id: str) -> _T | None:
    """Find the value of the most specific key of ``table`` matching ``check_id``."""
    if check_id in table:
        return table[check_id]
    matching = [
        key for key in table if _GLOB_CHARS.search(key) and fnmatch.fnmatchcase(check_id, key)
    ]
    if not matching:
        return None
    return table[min(matching, key=_specificity)]


def _reason(finding: Finding) -> str:
    """One short line naming a finding, for the tier explanation."""
    message = finding.message.strip().rstrip(".")
    if len(message) > 100:
        message = message[:99] + "…"
    where = finding.location
    if not where or (finding.file and finding.file in message):
        return f"{finding.check_id}: {message}"
    return f"{finding.check_id}: {message} ({where})"


def parse_policy(text: str, *, source: str) -> Policy:
    """Parse and validate policy TOML text.

    Args:
        text: The TOML text.
        source: Where the text came from (a path), named in every error.

    Returns:
        The validated policy.

    Raises:
        PolicyError: If the text is not TOML or does not validate.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message carries "(at line N, column M)", which is what the operator needs.
        raise PolicyError(source, [f"not valid TOML: {exc}"]) from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, _describe(exc)) from None


def load_policy(path: Path | None) -> Policy:
    """Load the policy file, or the packaged default when no path is configured.

    Args:
        path: The policy file; None for the default shipped with the package.

    Returns:
        The validated policy.

    Raises:
        PolicyError: If the file cannot be read, is not TOML or does not validate; the
            message names the file, the field path and what is wrong.
    """
    if path is None:
        resource = importlib.resources.files("agent_registry").joinpath(DEFAULT_POLICY_RESOURCE)
        return parse_policy(
            resource.read_text(encoding="utf-8"), source=f"{DEFAULT_POLICY_RESOURCE} (packaged)"
        )
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(source, ["policy file not found"]) from None
    except OSError as exc:
        raise PolicyError(source, [f"cannot read the policy file ({exc.strerror})"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(source, ["not valid TOML: the file is not UTF-8 text"]) from None
    return parse_policy(text, source=source)


def _describe(exc: ValidationError) -> list[str]:
    """Turn pydantic's errors into ``field.path: what is wrong`` lines."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(part for part in error["loc"] if part != "[key]")
        where, what = _field_path(loc), _error_message(error, loc)
        problems.append(f"{where}: {what}" if where else what)
    return problems


def _error_message(error: Mapping[str, Any], loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "value_error":
        # Our own validators' messages, without pydantic's "Value error, " prefix.
        return str(error["ctx"]["error"])
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        hint = f" (known keys here: {', '.join(known)})" if known else ""
        return f"unknown key{hint}; check the spelling"
    if kind == "missing":
        return "is required but missing"
    return str(error["msg"])


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``('checks', 'secrets.*')`` → ``checks."secrets.*"``, like the key is written in TOML."""
    parts = []
    for part in loc:
        text = str(part)
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif re.fullmatch(r"[A-Za-z0-9_-]+", text):
            parts.append(f".{text}")
        else:
            parts.append(f'."{text}"')
    return "".join(parts).lstrip(".")


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the policy model accepts at ``loc``, for "did you mean" hints."""
    model: type[BaseModel] = Policy
    index = 0
    while index < len(loc):
        field = model.model_fields.get(str(loc[index]))
        if field is None:
            return []
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model, index = annotation, index + 1
            continue
        args = get_args(annotation)
        value_type = args[1] if get_origin(annotation) is dict and len(args) == 2 else None
        if isinstance(value_type, type) and issubclass(value_type, BaseModel):
            # A table of models, e.g. [tiers.high]: skip the table key.
            model, index = value_type, index + 2
            continue
        return []
    return sorted(model.model_fields)
