"""What a probed server wrote, made fit to store: the secret scanner's rules, applied.

A server's stderr is the one thing of it that reaches people (reviewers read it to see
why a probe failed). The sandbox keeps host files out of its reach, but the bundle it
ships and anything it prints can still carry credentials, so the kept text passes the
same rules the secret checks use on bundles: known token formats, passwords in URLs,
private key blocks and random-looking strings are replaced by their first characters.
"""

from __future__ import annotations

import re

from agent_registry.evals.secrets import _token_matches, looks_generated, mask

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


def redact_secrets(text: str) -> str:
    """``text`` with every credential the secret checks would find masked.

    Args:
        text: Output of an untrusted process.

    Returns:
        The same text, credentials replaced by :func:`~agent_registry.evals.secrets.mask`
        (their first four characters and an ellipsis) or ``[redacted]``.
    """
    text = _PRIVATE_KEY.sub(f"-----{REDACTED} PRIVATE KEY-----", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}://{REDACTED}@", text)
    limit = len(text)
    for _rule, match in sorted(_token_matches(text), key=lambda hit: -hit[1].start()):
        if match.end() <= limit:  # Two rules can match one token: mask it once.
            text = text[: match.start()] + mask(match[0]) + text[match.end() :]
            limit = match.start()
    return _CANDIDATE.sub(lambda m: mask(m[0]) if looks_generated(m[0]) else m[0], text)
