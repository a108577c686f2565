"""The eval bar: run every check family, let policy judge the findings, derive the tier."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence

from pydantic import BaseModel

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.evals import client, content, hygiene, intent, marks, scope, secrets, spec
from agent_registry.evals.base import CHECK_CRASHED, CheckFunction, check_name, crash_finding
from agent_registry.lifecycle.stages import RiskTier
from agent_registry.mcp_probe.compare import CATALOG as PROBE_CATALOG
from agent_registry.policy.model import Policy
from agent_registry.reuse.findings import CATALOG as REUSE_CATALOG
from agent_registry.vocabulary.findings import Finding, Severity

CHECK_FAMILIES: tuple[CheckFunction, ...] = (
    spec.check,
    secrets.check,
    scope.check,
    hygiene.check,
    content.check,
    intent.check,
)
"""The check families, in the order their findings are gathered."""

CATALOG: dict[str, Severity] = {
    **spec.CATALOG,
    **secrets.CATALOG,
    **scope.CATALOG,
    **hygiene.CATALOG,
    **content.CATALOG,
    **intent.CATALOG,
    **client.CATALOG,
    **PROBE_CATALOG,
    **REUSE_CATALOG,
    **marks.CATALOG,
    CHECK_CRASHED: Severity.BLOCK,
}
"""Every check id the bar raises, with the severity each proposes before policy.

That is the families', the outside-world checks' (``probe.``, ``reuse.``) and the
false-positive marks' (``marks.``). Parse problems are the exception: the loader names
those (all under ``spec.``).
"""

CLIENT_SUPERSEDES = frozenset({"spec.unknown-field"})
"""Fallback checks whose question Claude Code's validator answers when it runs."""

_SCOPE_FACTS = frozenset(
    {
        "scope.bypass-permissions",
        "scope.mcp-effect.delete",
        "scope.mcp-effect.exec",
        "scope.mcp-effect.write",
        "scope.mcp-effect.network",
        "scope.skill-scripts",
    }
)
"""Facts about what an asset may do (info, not warnings): they set the bar's tier."""

_SEVERITY_ORDER = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2, Severity.OFF: 3}

_log = logging.getLogger(__name__)


class EvalReport(BaseModel):
    """The outcome of one eval run, as policy judged it.

    Attributes:
        policy_version: The policy the asset was held to.
        findings: Findings with the severity policy gave them, ``off`` ones dropped,
            sorted block, warn, info, then by file and line.
        risk_tier: The tier derived from all findings, including those policy hides.
        tier_reasons: Short lines naming the findings that set the tier.
    """

    policy_version: str
    findings: list[Finding]
    risk_tier: RiskTier
    tier_reasons: list[str]

    @property
    def blocking(self) -> list[Finding]:
        """Findings that stop the asset from going to review."""
        return self._with(Severity.BLOCK)

    @property
    def warnings(self) -> list[Finding]:
        """Findings shown to submitter and reviewers that do not stop the asset."""
        return self._with(Severity.WARN)

    @property
    def infos(self) -> list[Finding]:
        """Recorded facts, e.g. the effects that raised the risk tier."""
        return self._with(Severity.INFO)

    @property
    def passed(self) -> bool:
        """True when nothing blocks."""
        return not self.blocking

    def summary_line(self) -> str:
        """Counts for a status line, e.g. ``2 blocking, 1 warning``; ``no findings`` if none."""
        counts = [
            (len(self.blocking), "blocking", "blocking"),
            (len(self.warnings), "warning", "warnings"),
            (len(self.infos), "info", "infos"),
        ]
        parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
        return ", ".join(parts) if parts else "no findings"

    def _with(self, severity: Severity) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity is severity]


def evaluate(
    asset: ParsedAsset,
    policy: Policy,
    *,
    families: Sequence[CheckFunction] = CHECK_FAMILIES,
    external: Sequence[Finding] = (),
) -> EvalReport:
    """Run the eval bar over one asset: its check families, then policy's judgement.

    Args:
        asset: The parsed asset.
        policy: The policy that judges the findings and derives the tier.
        families: The check families to run; the default is the full bar (tests pass
            their own to exercise the runner).
        external: Findings of checks that need the outside world (the live MCP probe,
            reuse against the published catalog), gathered by the caller; policy
            judges them exactly like the pure checks' findings.

    Returns:
        The report. A family that raises does not stop the run: it becomes a blocking
        ``eval.check-crashed`` finding, since an asset that was not fully checked must
        not pass.
    """
    return judge_findings(asset, policy, run_families(asset, families), external=external)


def run_families(
    asset: ParsedAsset, families: Sequence[CheckFunction] = CHECK_FAMILIES
) -> list[Finding]:
    """The check families' findings, before policy judges them.

    Kept apart from :func:`judge_findings` because the families are most of the bar's
    cost and depend on the asset alone: a caller that learns more findings later (a
    probe, a behavioural run) judges again without checking the asset again.
    """
    raw: list[Finding] = []
    for family in families:
        try:
            raw.extend(family(asset))
        except Exception as error:
            # Frames only: the exception message may quote file content.
            _log.error(
                "check family %s crashed with %s:\n%s",
                check_name(family),
                type(error).__name__,
                "".join(traceback.format_tb(error.__traceback__)),
            )
            raw.append(crash_finding(family, error))
    return raw


def judge_findings(
    asset: ParsedAsset,
    policy: Policy,
    checked: Sequence[Finding],
    *,
    external: Sequence[Finding] = (),
) -> EvalReport:
    """Policy's judgement of ``checked`` (from :func:`run_families`) and ``external``.

    ``checked`` is left as it is, so one run of the families can be judged again.
    """
    raw = list(checked)
    if any(finding.check_id == "spec.client-validated" for finding in external):
        # Claude Code judged the format itself: the hand-kept fallback stands down.
        raw = [finding for finding in raw if finding.check_id not in CLIENT_SUPERSEDES]
    raw = _dedupe([*raw, *external])
    # The tier comes from every finding: hiding a finding from the report must not
    # lower the review an asset gets.
    tier, reasons = policy.tier_for(raw)
    raw.extend(hygiene.over_cap(asset, policy.bundle_cap(asset.kind, tier), tier=tier.value))
    # Severities are judged at the tier the non-warning findings set: a warning that
    # raises the tier (an unrestricted shell, an installer link) must not turn the
    # asset's other warnings into blocks, or a warning would block after all.
    bar_tier, _ = policy.tier_for(
        [
            finding
            for finding in raw
            if policy.severity_for(finding.check_id, finding.severity, kind=asset.kind)
            not in (Severity.WARN, Severity.INFO, Severity.OFF)
            or finding.check_id in _SCOPE_FACTS
        ]
    )
    judged = [
        finding.model_copy(
            update={
                "severity": policy.severity_for(
                    finding.check_id, finding.severity, kind=asset.kind, tier=bar_tier
                )
            }
        )
        for finding in raw
    ]
    # Marks come after policy, or policy would undo them; what they say about
    # themselves (a stale or disallowed mark) is judged like any other finding.
    marked = [
        finding
        if finding.check_id not in marks.CATALOG
        else finding.model_copy(
            update={
                "severity": policy.severity_for(
                    finding.check_id, finding.severity, kind=asset.kind, tier=bar_tier
                )
            }
        )
        for finding in marks.apply_marks(
            judged,
            asset.registry_metadata.false_positives or [],
            markable=policy.is_markable,
        )
    ]
    kept = [finding for finding in _dedupe(marked) if finding.severity is not Severity.OFF]
    kept.sort(key=_order)
    return EvalReport(
        policy_version=policy.version, findings=kept, risk_tier=tier, tier_reasons=reasons
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop findings identical in every field, keeping the first of each."""
    unique: dict[tuple[object, ...], Finding] = {}
    for finding in findings:
        unique.setdefault(tuple(finding.model_dump().values()), finding)
    return list(unique.values())


def _order(finding: Finding) -> tuple[int, str, int, str, str]:
    return (
        _SEVERITY_ORDER[finding.severity],
        finding.file or "",
        finding.line or 0,
        finding.check_id,
        finding.message,
    )
