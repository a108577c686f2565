"""What a check reports: findings with a place, a severity and a fix."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel


class Severity(StrEnum):
    """How much a finding matters, after policy has had its say.

    ``info`` findings are not problems: they record a fact the risk tier is derived from
    (an MCP tool that writes, a skill that ships scripts).
    """

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"
    OFF = "off"


class Finding(BaseModel):
    """One problem a check found.

    Attributes:
        check_id: Stable dotted id, e.g. ``secrets.aws-access-key``; policy keys on it.
        severity: The severity the check proposes; policy may override it.
        message: What is wrong, in one sentence a submitter understands.
        file: Path inside the bundle, when the problem is in one file.
        line: 1-based line in that file, when known.
        field: Manifest field path (e.g. ``frontmatter.name``), when the problem is a field.
        fix: How to fix it.
    """

    check_id: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    fix: str | None = None

    @property
    def location(self) -> str:
        """``file:line`` (or whatever of it is known) for display."""
        if self.file is None:
            return self.field or ""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} ({self.field})" if self.field else where


def make_finding(
    catalog: Mapping[str, Severity],
    check_id: str,
    *,
    message: str,
    file: str | None = None,
    line: int | None = None,
    field: str | None = None,
    fix: str | None = None,
) -> Finding:
    """Build a finding with the severity its family's catalog proposes.

    Taking the severity from the catalog keeps one place per family that says which ids
    exist and how much they matter; an id missing from it fails loudly in tests.

    Args:
        catalog: The family's check ids and proposed severities.
        check_id: The id of the finding; must be in ``catalog``.
        message: What is wrong, naming the thing.
        file: Bundle path, when the finding is in one file.
        line: 1-based line in ``file``, when known.
        field: Manifest field path, when the finding is about a field.
        fix: How to fix it.

    Returns:
        The finding.
    """
    return Finding(
        check_id=check_id,
        severity=catalog[check_id],
        message=message,
        file=file,
        line=line,
        field=field,
        fix=fix,
    )
