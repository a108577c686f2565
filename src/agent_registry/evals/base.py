"""What every check family shares: the check signature, its catalog and crash isolation."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.vocabulary.findings import Finding, Severity

CheckFunction = Callable[[ParsedAsset], list[Finding]]
"""A check: a pure function from a parsed asset to the findings it raises."""

CHECK_CRASHED = "eval.check-crashed"
"""Check id of the finding that stands in for a check that raised."""

_log = logging.getLogger(__name__)


def check_name(check: Callable[..., object]) -> str:
    """A short, stable name for a check function, e.g. ``secrets.check``."""
    module = getattr(check, "__module__", "") or ""
    qualname = getattr(check, "__qualname__", repr(check))
    return f"{module.rsplit('.', 1)[-1]}.{qualname}" if module else qualname


def crash_finding(check: Callable[..., object], error: BaseException) -> Finding:
    """The finding that replaces the results of a check that raised.

    It names the check and the exception type only: exception messages and tracebacks
    can quote file content, and file content can hold the very secrets we look for.

    Args:
        check: The check that raised.
        error: What it raised.

    Returns:
        A blocking ``eval.check-crashed`` finding.
    """
    return Finding(
        check_id=CHECK_CRASHED,
        severity=Severity.BLOCK,
        message=(
            f"check {check_name(check)} crashed ({type(error).__name__}), so the asset "
            "was not fully evaluated"
        ),
        fix=(
            "Tell the team that runs the registry; submit again once the check is fixed. "
            "Unusual content (encodings, very long lines) is the usual trigger."
        ),
    )


def run_checks(checks: Iterable[CheckFunction], asset: ParsedAsset) -> list[Finding]:
    """Run checks one by one, so that one broken check cannot hide another's findings.

    Args:
        checks: The check functions of one family.
        asset: The asset to check.

    Returns:
        All findings, with an ``eval.check-crashed`` finding for each check that raised.
    """
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(check(asset))
        except Exception as error:
            # The operator's log gets the frames but not the exception message, which
            # may quote file content (and so a secret); the finding gets neither.
            _log.error(
                "check %s crashed with %s:\n%s",
                check_name(check),
                type(error).__name__,
                "".join(traceback.format_tb(error.__traceback__)),
            )
            findings.append(crash_finding(check, error))
    return findings


def unfinished_finding(reason: str) -> Finding:
    """The finding that replaces the checks' results when they never finished.

    A check that never ends on some input (a pathological pattern, a decoder bomb) must
    not hold the submission for good: the asset was not fully checked, so it does not
    pass.

    Args:
        reason: What happened, without file content (e.g. "did not finish within 60 s").
    """
    return Finding(
        check_id=CHECK_CRASHED,
        severity=Severity.BLOCK,
        message=f"{reason}, again, so the asset was not fully evaluated",
        fix=(
            "Tell the team that runs the registry; unusual content (very long lines, "
            "deeply nested or encoded data, a very large bundle) is the usual trigger."
        ),
    )
