"""Asset identity: kinds and the ``kind/name@version`` reference."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

SEMVER_PATTERN = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
"""Semantic Versioning 2.0.0, exactly as semver.org gives it: no ranges, no ``v`` prefix."""

_REF_PATTERN = re.compile(r"^(?P<kind>[a-z-]+)/(?P<name>[^@\s]+)@(?P<version>\S+)$")
_UNVERSIONED_PATTERN = re.compile(r"^(?P<kind>[a-z-]+)/(?P<name>[^@\s]+)$")


class AssetKind(StrEnum):
    """The three kinds of asset the registry governs."""

    SKILL = "skill"
    SUBAGENT = "subagent"
    MCP_SERVER = "mcp-server"


class InvalidRefError(ValueError):
    """Raised when a ``kind/name@version`` reference cannot be parsed."""


def is_semver(version: str) -> bool:
    """Tell whether ``version`` is an exact semantic version (no range, no ``latest``)."""
    return SEMVER_PATTERN.match(version) is not None


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key that orders versions as semver.org says (a pre-release sorts before its release).

    Args:
        version: An exact semantic version.

    Returns:
        A tuple that compares the way the versions do.
    """
    match = SEMVER_PATTERN.match(version)
    if match is None:
        raise InvalidRefError(f"'{version}' is not a semantic version like 1.2.3")
    major, minor, patch, pre = int(match[1]), int(match[2]), int(match[3]), match[4]
    if pre is None:
        return (major, minor, patch, 1, ())
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    return (major, minor, patch, 0, parts)


class AssetRef(BaseModel):
    """Identity of one asset version: ``kind/name@version``.

    Attributes:
        kind: The asset kind.
        name: The asset name (for MCP servers, ``namespace/name``).
        version: The exact semantic version.
    """

    model_config = ConfigDict(frozen=True)

    kind: AssetKind
    name: str
    version: str

    @classmethod
    def parse(cls, text: str) -> AssetRef:
        """Parse ``kind/name@version``.

        Args:
            text: The reference as a user types it, e.g. ``skill/pdf-report@1.2.0``.

        Returns:
            The parsed reference.

        Raises:
            InvalidRefError: If the text is not a versioned reference of a known kind.
        """
        match = _REF_PATTERN.match(text.strip())
        if match is None:
            raise InvalidRefError(
                f"'{text}' is not an asset reference; write kind/name@version, "
                "e.g. skill/pdf-report@1.2.0"
            )
        kind = _parse_kind(match["kind"], text)
        version = match["version"]
        if not is_semver(version):
            raise InvalidRefError(
                f"'{text}': version '{version}' is not an exact semantic version like 1.2.0"
            )
        return cls(kind=kind, name=match["name"], version=version)

    @property
    def workflow_id(self) -> str:
        """The id of this version's lifecycle workflow."""
        return f"asset/{self.kind.value}/{self.name}/{self.version}"

    def __str__(self) -> str:
        return f"{self.kind.value}/{self.name}@{self.version}"


def parse_unversioned(text: str) -> tuple[AssetKind, str]:
    """Parse ``kind/name`` (no version), e.g. for "the latest published version of".

    Raises:
        InvalidRefError: If the text is not ``kind/name`` of a known kind.
    """
    match = _UNVERSIONED_PATTERN.match(text.strip())
    if match is None:
        raise InvalidRefError(f"'{text}' is not kind/name, e.g. skill/pdf-report")
    return _parse_kind(match["kind"], text), match["name"]


def _parse_kind(kind: str, text: str) -> AssetKind:
    try:
        return AssetKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in AssetKind)
        raise InvalidRefError(f"'{text}': unknown kind '{kind}' (known: {known})") from None
