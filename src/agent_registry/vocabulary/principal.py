"""The principal: a caller the registry server identified, in one comparable form.

Pure (no I/O): workflows carry principals in their update inputs, so this module must be
importable inside the workflow sandbox. Emails are the identity key and are made
canonical (trimmed, case-folded) before anything compares them: ``Alice@Example.com``
from the CLI and ``alice@example.com`` from Slack are the same person, and treating them
as two is how an author could approve their own asset.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
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
    hidden = next((c for c in value if unicodedata.category(c) in _HIDDEN_CATEGORIES), None)
    if hidden is not None:
        raise ValueError(
            f"{raw!r} is not an email address (it holds the invisible or control "
            f"character U+{ord(hidden):04X})"
        )
    return value


_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
"""Controls, format characters (zero-width, bidi overrides), private-use, unassigned.

An address holding one shows as another: ``ali\u200bce@example.com`` reads as Alice's,
and a right-to-left override makes a string read backwards. An author listed that way
would look like Alice to every reviewer while no rule matched her, and a C1 control
would reach a terminal reading the log as an escape sequence.
"""


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` with every control character (newlines, escapes) turned into a space.

    For what a caller typed or a token claims that ends up in a log line, the audit log
    or a status line: one refusal must stay one line, and a forged subject must not
    start a second, made-up entry.
    """
    return _UNPRINTABLE.sub(" ", text).strip()


def person_key(raw: str) -> str:
    """What two spellings of one person's address have in common; for refusals only.

    :func:`canonical_email` is the identity a principal carries and the one a group
    admits. Refusing someone's own asset, or a second vote, needs more: one mailbox has
    more spellings than case, and a person holding two of them (their IdP email and a
    Slack profile email, or an author line the submitter typed) must not count as two
    people. Beyond trimming and case-folding this applies NFKC (full-width and other
    compatibility forms), drops a ``+tag`` from the local part (sub-addressing delivers
    to the same mailbox), drops trailing dots from the domain and writes an
    internationalised domain in its ASCII (IDNA) form. Look-alikes from other scripts
    (a Cyrillic ``U+0430`` for ``a``) are other mailboxes, so other people, as
    is any other address.

    Used only where a wider match refuses more (self-approval, voting twice), never
    where it would admit someone (groups, revising, attesting).
    """
    value = unicodedata.normalize("NFKC", raw).strip().casefold()
    local, at, domain = value.rpartition("@")
    if not at:
        return value
    local = local.split("+", 1)[0] or local
    domain = domain.rstrip(".")
    with contextlib.suppress(UnicodeError):  # not a valid IDN label: keep the folded text
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


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
