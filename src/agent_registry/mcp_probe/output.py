"""What a probed server wrote, made fit to store: the secret scanner's rules, applied.

A server's stderr is the one thing of it that reaches people (reviewers read it to see
why a probe failed). The sandbox keeps host files out of its reach, but the bundle it
ships and anything it prints can still carry credentials, so the kept text passes the
same rules the secret checks use on bundles: known token formats, passwords in URLs,
private key blocks and random-looking strings are replaced by their first characters.
"""

from __future__ import annotations

import re

from agent_registry.secret_shapes.entropy import looks_generated
from agent_registry.secret_shapes.tokens import credential_spans, mask

_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
# Bounded repeats: a long run of letters must not make the scan quadratic.
_URL_PASSWORD = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,31})://[^\s:/@]{1,256}:[^\s@/]{1,256}@"
)
_CANDIDATE = re.compile(r"[A-Za-z0-9+/_=-]{20,}")

REDACTED = "[redacted]"

SHOWN_MAX_CHARS = 120
"""Longest server-chosen name a finding quotes (a tool name is meant to be short)."""


def redact_secrets(text: str) -> str:
    """``text`` with every credential the secret checks would find masked.

    Args:
        text: Output of an untrusted process.

    Returns:
        The same text, credentials replaced by :func:`~agent_registry.secret_shapes.tokens.mask`
        (their first four characters and an ellipsis) or ``[redacted]``.
    """
    text = _PRIVATE_KEY.sub(f"-----{REDACTED} PRIVATE KEY-----", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}://{REDACTED}@", text)
    limit = len(text)
    for start, end in sorted(credential_spans(text), key=lambda span: -span[0]):
        if end <= limit:  # Two rules can match one token: mask it once.
            text = text[:start] + mask(text[start:end]) + text[end:]
            limit = start
    return _CANDIDATE.sub(lambda m: mask(m[0]) if looks_generated(m[0]) else m[0], text)


def shown(text: str, limit: int = SHOWN_MAX_CHARS) -> str:
    """A server-chosen string fit to quote in a finding: printable and short.

    Every unprintable character is escaped as Python writes it (ESC becomes the four
    characters backslash, x, 1, b), and at most ``limit`` characters are kept.

    Findings are printed by ``agentreg validate`` on a terminal and posted to Slack, so
    a tool name or an error message carrying escape sequences (clearing the screen,
    retitling the window, a hidden hyperlink) or bidirectional overrides (showing a
    name other than the one stored) must reach them as visible text, and one absurdly
    long name must not become a finding of megabytes.

    Args:
        text: What the server sent.
        limit: Most characters kept; an ellipsis marks a cut.

    Returns:
        Printable text.
    """
    escaped = _escaped(text[: limit + 1])
    return escaped if len(escaped) <= limit else escaped[:limit] + "…"


def _escaped(text: str) -> str:
    """Every unprintable character written as Python writes it in a string literal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown_lines(text: str) -> str:
    """Multi-line server output fit to show reviewers: each line as :func:`shown` makes it.

    The probe's stderr excerpt keeps its line breaks (reviewers read it as a log), but
    every other unprintable character is escaped, so an escape sequence or a
    bidirectional override reaches a terminal or Slack as visible text. Its length is
    bounded where it is captured, not here.
    """
    return "\n".join(_escaped(line) for line in text.split("\n"))
