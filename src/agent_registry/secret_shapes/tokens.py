"""Credential formats recognisable by their shape, placeholders, and masking.

The secret checks scan bundles with these rules; the MCP probe masks what a probed server
writes with the same ones, so they sit below both instead of inside the checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenRule:
    """A credential format recognisable by its shape alone.

    Attributes:
        kind: The id suffix, ``secrets.<kind>``.
        label: What to call it in a message.
        pattern: Matches the credential; group ``body`` is its random part.
        revoke: Where to revoke it.
        mixed_case: Require upper, lower and digit in the body: for prefixes such as
            ``sk-`` that ordinary words also start with.
    """

    kind: str
    label: str
    pattern: re.Pattern[str]
    revoke: str
    mixed_case: bool = False


TOKEN_RULES = (
    TokenRule(
        "aws-access-key",
        "AWS access key id",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)(?P<body>[A-Z0-9]{16})(?![A-Z0-9])"),
        "in the AWS IAM console",
    ),
    TokenRule(
        "github-token",
        "GitHub token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?:gh[pousr]_(?P<body>[A-Za-z0-9]{36,255})"
            r"|github_pat_(?P<pat>[A-Za-z0-9_]{50,255}))(?![A-Za-z0-9_])"
        ),
        "at github.com/settings/tokens (or the organisation's GitHub App settings)",
    ),
    TokenRule(
        "slack-token",
        "Slack token",
        re.compile(r"(?<![A-Za-z0-9])xox[abposr]-(?P<body>[A-Za-z0-9][A-Za-z0-9-]{8,})"),
        "in the Slack app's settings (api.slack.com/apps)",
    ),
    TokenRule(
        "slack-webhook",
        "Slack incoming-webhook URL",
        re.compile(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"(?P<body>[A-Za-z0-9_/-]{16,})"
        ),
        "in the Slack app's Incoming Webhooks settings",
    ),
    TokenRule(
        "anthropic-key",
        "Anthropic API key",
        re.compile(r"(?<![A-Za-z0-9_-])sk-ant-(?P<body>[A-Za-z0-9_-]{20,})"),
        "in the Claude Console (console.anthropic.com)",
    ),
    TokenRule(
        "openai-key",
        "OpenAI-style API key",
        re.compile(
            r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?"
            r"(?P<body>[A-Za-z0-9_-]{20,})"
        ),
        "with the provider that issued it",
        mixed_case=True,
    ),
    TokenRule(
        "google-api-key",
        "Google API key",
        re.compile(r"(?<![A-Za-z0-9_-])AIza(?P<body>[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])"),
        "in the Google Cloud console (APIs & Services, Credentials)",
    ),
    TokenRule(
        "stripe-live-key",
        "Stripe live key",
        re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk)_live_(?P<body>[0-9A-Za-z]{16,})"),
        "in the Stripe dashboard (Developers, API keys)",
    ),
)

_PLACEHOLDER_MARKERS = (
    "example",
    "xxxx",
    "your-",
    "your_",
    "<",
    ">",
    "${",
    "{{",
    "***",
    "changeme",
    "placeholder",
    "redacted",
    "dummy",
    "...",
    "\u2026",
)


def mask(secret: str) -> str:
    """Show at most the first four characters of a secret.

    Enough to match a finding to its line without repeating the credential.
    """
    return f"{secret[:4]}…"


def is_placeholder(value: str) -> bool:
    """Tell whether a value is an obvious placeholder rather than a real credential.

    Documentation and examples are full of ``AKIAIOSFODNN7EXAMPLE``, ``<your-token>``,
    ``${API_KEY}`` or ``xxxx``; reporting them would teach people to ignore the check.
    """
    lowered = value.lower()
    if any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
        return True
    significant = re.sub(r"[^A-Za-z0-9]", "", value)
    return len(set(significant)) <= 1


def tokens_in(line: str) -> Iterator[tuple[TokenRule, str]]:
    """Each credential of a known format on the line, placeholders left out."""
    for rule, match in token_matches(line):
        yield rule, match[0]


def token_matches(text: str) -> Iterator[tuple[TokenRule, re.Match[str]]]:
    """Each credential of a known format in the text, with where it is."""
    for rule in TOKEN_RULES:
        for match in rule.pattern.finditer(text):
            body = match["body"] or match.groupdict().get("pat") or ""
            if is_placeholder(match[0]) or is_placeholder(body):
                continue
            if rule.mixed_case and not _looks_random(body):
                continue
            yield rule, match


def credential_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where each credential of a known format stands in ``text`` (placeholders left out).

    For code outside the checks that must mask what the checks would find (a probed
    server's output), without reaching into the rule table.
    """
    for _rule, match in token_matches(text):
        yield match.span()


def _looks_random(body: str) -> bool:
    """Upper, lower and digit: true of generated keys, rarely of words like sk-learn-…."""
    return (
        any(c.isupper() for c in body)
        and any(c.islower() for c in body)
        and any(c.isdigit() for c in body)
    )
