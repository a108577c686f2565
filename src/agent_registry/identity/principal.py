"""The principal: a caller the registry server identified, in one comparable form.

Pure (no I/O): workflows carry principals in their update inputs, so this module must be
importable inside the workflow sandbox. Emails are the identity key and are made
canonical (trimmed, case-folded) before anything compares them: ``Alice@Example.com``
from the CLI and ``alice@example.com`` from Slack are the same person, and treating them
as two is how an author could approve their own asset.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

# One "@", something on each side, no whitespace or control characters. Deliberately
# not a full RFC 5322 parser: the value comes from an identity provider or Slack, and
# the point is to refuse what is plainly not an address (a bare user name, ``alice``)
# rather than to judge exotic ones.
_EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")
_MAX_EMAIL_LENGTH = 320


class PrincipalKind(StrEnum):
    """Whether a person or a program holds the credential."""

    HUMAN = "human"
    MACHINE = "machine"


class VerifiedBy(StrEnum):
    """How the server learned who the caller is; ``local-unverified`` proves nothing."""

    OIDC = "oidc"
    SLACK = "slack"
    LOCAL_UNVERIFIED = "local-unverified"


def canonical_email(raw: str) -> str:
    """The canonical form of an email: trimmed and case-folded.

    Raises:
        ValueError: ``raw`` is not an email address; the message quotes it.
    """
    value = raw.strip().casefold()
    if len(value) > _MAX_EMAIL_LENGTH or not _EMAIL_PATTERN.match(value):
        raise ValueError(f"{raw!r} is not an email address (expected name@domain)")
    return value


class Principal(BaseModel):
    """A caller the server identified.

    Attributes:
        email: Canonical email (see :func:`canonical_email`); the identity key.
        display_name: For people to read; never compared.
        kind: ``machine`` for a client-credentials token (a CI bot), else ``human``.
        groups: The group names or ids the identity provider (its groups claim) or Slack
            (the user's user groups) says the caller is in.
        verified_by: How the server learned it (:class:`VerifiedBy`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str
    display_name: str = ""
    kind: PrincipalKind = PrincipalKind.HUMAN
    groups: list[str] = Field(default_factory=list)
    verified_by: VerifiedBy

    @field_validator("email")
    @classmethod
    def _canonical(cls, value: str) -> str:
        return canonical_email(value)

    @property
    def verified(self) -> bool:
        """True unless the identity was merely claimed (local mode)."""
        return self.verified_by != VerifiedBy.LOCAL_UNVERIFIED

    def same_person(self, email: str) -> bool:
        """Whether ``email`` (in any spelling) names this principal."""
        try:
            return canonical_email(email) == self.email
        except ValueError:
            return False
