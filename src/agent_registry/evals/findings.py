"""What a check reports: findings with a place, a severity and a fix."""

from __future__ import annotations

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
