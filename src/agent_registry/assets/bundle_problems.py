"""Bundle problems: :class:`BundleError` and the ``bundle.*`` findings it carries.

A bundle is read from disk (:mod:`agent_registry.assets.bundle_reader`) and from an
archive (:mod:`agent_registry.assets.archive`); both report through these helpers, so a
broken limit reads the same whichever way the bundle came in.
"""

from __future__ import annotations

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.errors import ProblemsError
from agent_registry.vocabulary.findings import Finding, Severity


class BundleError(ProblemsError):
    """Raised when a bundle cannot be read safely or breaks a limit.

    Attributes:
        problems: ``bundle.*`` findings (severity BLOCK), each naming the offending path
            relative to the bundle root when there is one.
    """


def bundle_problem(
    check: str, message: str, *, file: str | None = None, fix: str | None = None
) -> Finding:
    """A ``bundle.<check>`` finding (severity BLOCK)."""
    return Finding(
        check_id=f"bundle.{check}", severity=Severity.BLOCK, message=message, file=file, fix=fix
    )


def file_too_large(relative: str, size: int, limits: BundleLimits) -> Finding:
    """The finding for one file over ``limits.max_file_bytes``."""
    return bundle_problem(
        "file-too-large",
        f"is {size:,} bytes; the limit for one file is {limits.max_file_bytes:,} bytes",
        file=relative,
        fix="remove the file or make it smaller; large data does not belong in an asset",
    )


def total_too_large(size: int, limits: BundleLimits, *, partial: bool) -> Finding:
    """The finding for files adding up past ``limits.max_total_bytes``.

    ``partial`` says the walk stopped early, so ``size`` is a lower bound.
    """
    amount = f"at least {size:,}" if partial else f"{size:,}"
    return bundle_problem(
        "too-large",
        f"the files add up to {amount} bytes; the limit is {limits.max_total_bytes:,} bytes",
        fix="remove files the asset does not need",
    )


def sorted_problems(problems: list[Finding]) -> list[Finding]:
    """Problems in a stable order: bundle-wide ones first, then by file."""
    return sorted(problems, key=lambda problem: (problem.file or "", problem.check_id))


class InvalidBundleError(ValueError):
    """A bundle archive offered for staging that the registry would never accept.

    Raised by the catalog (an archive that is no bundle within the limits) and by the
    submission-text check (a credential in a changelog), so it lives with the bundle.
    """
