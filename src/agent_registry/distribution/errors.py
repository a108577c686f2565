"""What distribution refuses, each phrased for the person who asked.

The CLI turns these into one line on stderr; nothing here is a bug.
"""

from __future__ import annotations


class DistributionError(Exception):
    """Base of every refusal to install or export; the message says what to do."""


class BundleMismatchError(DistributionError):
    """The bundle the registry served is not the content the version was approved with.

    Installing it would put unreviewed content on someone's machine, so nothing is
    written.

    Attributes:
        ref: The version, ``kind/name@version``.
        expected: The version's content hash.
        actual: The sha256 of the bytes served, when they were served at all.
    """

    def __init__(self, *, ref: str, expected: str, actual: str | None, detail: str = "") -> None:
        self.ref = ref
        self.expected = expected
        self.actual = actual
        found = f"has sha256 {actual[:12]}" if actual else f"is damaged ({detail})"
        super().__init__(
            f"the bundle of {ref} {found}, not its content hash {expected[:12]}; it is not "
            "the reviewed content, so nothing was written"
        )


class NotInstallableError(DistributionError):
    """The version exists but may not be installed (retired, or never published)."""


class ConflictError(DistributionError):
    """Something else already sits where the asset would go; ``--force`` replaces it."""


class UnsupportedServerError(DistributionError):
    """An MCP server has no launch Claude Code can run (say, an OCI image only)."""


class UntrustedSignatureError(DistributionError):
    """The publication statement is missing, or not signed by a trusted key for this content."""
