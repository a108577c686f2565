"""Secret checks: credentials committed into a bundle, and MCP secrets given a value.

Every text file of the bundle is scanned line by line. A finding never repeats the
secret: it shows at most the first four characters (for most token formats, the public
prefix) followed by "…", because findings are stored, logged and posted to Slack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.base import CheckFunction, line_of_path, make_finding, run_checks
from agent_registry.evals.findings import Finding, Severity
from agent_registry.evals.text import split_lines, text_files

_FROM_ENV = (
    " Have the code read it from an environment variable (an MCP server declares it "
    "with isSecret: true and no value)."
)


def _rotate(action: str) -> str:
    """The fix for a leaked credential: a submitted secret counts as leaked, so replace it."""
    return (
        f"Remove it from the bundle and {action}: a secret that was submitted must be "
        "treated as leaked."
    )


@dataclass(frozen=True)
class _TokenRule:
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


_TOKEN_RULES = (
    _TokenRule(
        "aws-access-key",
        "AWS access key id",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)(?P<body>[A-Z0-9]{16})(?![A-Z0-9])"),
        "in the AWS IAM console",
    ),
    _TokenRule(
        "github-token",
        "GitHub token",
        re.compile(
            r"(?<![A-Za-z0-9_])(?:gh[pousr]_(?P<body>[A-Za-z0-9]{36,255})"
            r"|github_pat_(?P<pat>[A-Za-z0-9_]{50,255}))(?![A-Za-z0-9_])"
        ),
        "at github.com/settings/tokens (or the organisation's GitHub App settings)",
    ),
    _TokenRule(
        "slack-token",
        "Slack token",
        re.compile(r"(?<![A-Za-z0-9])xox[abposr]-(?P<body>[A-Za-z0-9][A-Za-z0-9-]{8,})"),
        "in the Slack app's settings (api.slack.com/apps)",
    ),
    _TokenRule(
        "slack-webhook",
        "Slack incoming-webhook URL",
        re.compile(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"(?P<body>[A-Za-z0-9_/-]{16,})"
        ),
        "in the Slack app's Incoming Webhooks settings",
    ),
    _TokenRule(
        "anthropic-key",
        "Anthropic API key",
        re.compile(r"(?<![A-Za-z0-9_-])sk-ant-(?P<body>[A-Za-z0-9_-]{20,})"),
        "in the Claude Console (console.anthropic.com)",
    ),
    _TokenRule(
        "openai-key",
        "OpenAI-style API key",
        re.compile(
            r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?"
            r"(?P<body>[A-Za-z0-9_-]{20,})"
        ),
        "with the provider that issued it",
        mixed_case=True,
    ),
    _TokenRule(
        "google-api-key",
        "Google API key",
        re.compile(r"(?<![A-Za-z0-9_-])AIza(?P<body>[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])"),
        "in the Google Cloud console (APIs & Services, Credentials)",
    ),
    _TokenRule(
        "stripe-live-key",
        "Stripe live key",
        re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk)_live_(?P<body>[0-9A-Za-z]{16,})"),
        "in the Stripe dashboard (Developers, API keys)",
    ),
)

_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_AWS_SECRET_LABEL = re.compile(r"aws.?secret", re.IGNORECASE)
_AWS_SECRET_VALUE = re.compile(r"(?<![A-Za-z0-9/+])(?P<body>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^\s:/@]*):(?P<password>[^\s@/]+)"
    r"@(?P<host>[^\s/:?#\"'<>]+)"
)

_CREDENTIAL_LABELS = (
    r"passwd|password|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|auth[_-]?token|access[_-]?token|refresh[_-]?token|bearer[_-]?token"
)
# The key must end with a secret-ish word (``db_password``, ``apiKey``) so that
# ``password_hint`` or ``max_tokens`` do not count; the value must be a literal.
_GENERIC_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9])[\"']?(?P<key>[A-Za-z0-9_.-]*?(?:" + _CREDENTIAL_LABELS + r"))[\"']?"
    r"\s*[:=]\s*"
    r"(?:(?P<quote>[\"'])(?P<quoted>[^\"'\s]{4,})(?P=quote)"
    r"|(?P<bare>[^\s\"'`$<{(\[,;#]{4,})(?=\s*(?:#.*)?$))",
    re.IGNORECASE,
)
# Unquoted values are only literals in configuration files; in code, ``password: str``
# or ``secret = settings.secret`` is a type or a reference, not a secret.
_CONFIG_SUFFIXES = frozenset(
    {".env", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".properties"}
)
_NOT_LITERALS = frozenset({"true", "false", "null", "none", "nil", "required", "optional"})
_DOTTED_REFERENCE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")

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
)
_PLACEHOLDER_PASSWORDS = frozenset({"password", "passwd", "pass", "pwd", "secret", "...", "…"})

CATALOG: dict[str, Severity] = {
    **{f"secrets.{rule.kind}": Severity.BLOCK for rule in _TOKEN_RULES},
    "secrets.aws-secret-key": Severity.BLOCK,
    "secrets.private-key": Severity.BLOCK,
    "secrets.url-password": Severity.BLOCK,
    "secrets.generic-assignment": Severity.WARN,
    "secrets.mcp-secret-value": Severity.BLOCK,
}
"""Check ids this family raises and the severity each proposes."""


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


def token_findings(asset: ParsedAsset) -> list[Finding]:
    """Credentials recognisable by their format, in any text file of the bundle."""
    findings = []
    for path, number, line in _lines(asset):
        for rule, token in _tokens(line):
            findings.append(
                make_finding(
                    CATALOG,
                    f"secrets.{rule.kind}",
                    message=f"{rule.label} ({mask(token)}) in {path}",
                    file=path,
                    line=number,
                    fix=_rotate(f"revoke it {rule.revoke}") + _FROM_ENV,
                )
            )
    return findings


def aws_secret_keys(asset: ParsedAsset) -> list[Finding]:
    """AWS secret access keys: 40 base64 characters after an ``aws_secret…`` label.

    The value has no prefix of its own, so only the label on the same line tells it
    apart from any other 40-character string.
    """
    findings = []
    for path, number, line in _lines(asset):
        label = _AWS_SECRET_LABEL.search(line)
        if label is None:
            continue
        for match in _AWS_SECRET_VALUE.finditer(line, label.end()):
            if is_placeholder(match[0]):
                continue
            findings.append(
                make_finding(
                    CATALOG,
                    "secrets.aws-secret-key",
                    message=f"AWS secret access key ({mask(match[0])}) in {path}",
                    file=path,
                    line=number,
                    fix=_rotate("deactivate the key pair in the AWS IAM console") + _FROM_ENV,
                )
            )
    return findings


def private_keys(asset: ParsedAsset) -> list[Finding]:
    """PEM private key blocks (RSA, EC, OpenSSH, PGP, PKCS#8)."""
    findings = []
    for path, number, line in _lines(asset):
        match = _PRIVATE_KEY.search(line)
        if match is None:
            continue
        # The BEGIN line is a public header, not key material: naming it is safe.
        findings.append(
            make_finding(
                CATALOG,
                "secrets.private-key",
                message=f"private key block ({match[0]}) in {path}",
                file=path,
                line=number,
                fix=_rotate("replace the key pair wherever it is trusted"),
            )
        )
    return findings


def url_passwords(asset: ParsedAsset) -> list[Finding]:
    """Passwords written into URLs, e.g. ``postgres://app:hunter2@db/app``."""
    findings = []
    for path, number, line in _lines(asset):
        for match in _URL_CREDENTIALS.finditer(line):
            if _is_placeholder_password(match["password"]):
                continue
            # Neither user nor password is shown: the user part can be a token too.
            shown = f"{match['scheme']}://…@{match['host']}"
            findings.append(
                make_finding(
                    CATALOG,
                    "secrets.url-password",
                    message=f"URL with a password ({shown}) in {path}",
                    file=path,
                    line=number,
                    fix=_rotate("change that password") + " Build the URL at "
                    "run time from an environment variable, e.g. "
                    "postgres://app:${DB_PASSWORD}@db/app.",
                )
            )
    return findings


def generic_assignments(asset: ParsedAsset) -> list[Finding]:
    """``password = "…"`` or ``api_key: …`` with a literal value.

    A heuristic, so it only warns, and it stays quiet on lines where a precise format
    already matched (one credential, one finding).
    """
    findings = []
    for path, number, line in _lines(asset):
        if _has_known_token(line):
            continue
        config_file = _is_config_file(path)
        for match in _GENERIC_ASSIGNMENT.finditer(line):
            value = match["quoted"] or match["bare"]
            if value is None or (match["bare"] and not config_file):
                continue
            if not _is_literal(value):
                continue
            findings.append(
                make_finding(
                    CATALOG,
                    "secrets.generic-assignment",
                    message=f"'{match['key']}' is given a literal value in {path}",
                    file=path,
                    line=number,
                    fix="If it is a real credential: remove it, rotate it, and read it from "
                    "an environment variable instead. If it is an example, write a "
                    "placeholder such as <password> or ${DB_PASSWORD}.",
                )
            )
    return findings


def mcp_secret_values(asset: ParsedAsset) -> list[Finding]:
    """MCP inputs marked ``isSecret: true`` that carry a ``value`` or ``default``.

    Secrets are declared so the client asks the user for them; a value in
    ``server.json`` is published to everyone who installs the server. The raw
    ``server.json`` object is walked, so environment variables, headers and arguments
    are all covered, even when the manifest did not validate.
    """
    if asset.kind is not AssetKind.MCP_SERVER:
        return []
    findings = []
    for path, entry in _walk(asset.frontmatter, ()):
        if entry.get("isSecret") is not True:
            continue
        for key in ("value", "default"):
            given = entry.get(key)
            # "{token}" is server.json's variable substitution, not a value.
            if not isinstance(given, str) or not given or re.search(r"\{[^}]*\}", given):
                continue
            name = entry.get("name")
            what = f"'{name}'" if isinstance(name, str) else _dotted(path)
            findings.append(
                make_finding(
                    CATALOG,
                    "secrets.mcp-secret-value",
                    message=f"secret input {what} has a {key} in {asset.manifest_file}",
                    file=asset.manifest_file,
                    line=line_of_path(asset, f"{_dotted(path)}.{key}"),
                    field=f"{_dotted(path)}.{key}",
                    fix=f"Delete its {key}: keep isSecret: true and let the client ask for "
                    "it. Rotate the value if it was real.",
                )
            )
    return findings


CHECKS: tuple[CheckFunction, ...] = (
    token_findings,
    aws_secret_keys,
    private_keys,
    url_passwords,
    generic_assignments,
    mcp_secret_values,
)


def check(asset: ParsedAsset) -> list[Finding]:
    """Run every secret check."""
    return run_checks(CHECKS, asset)


def _lines(asset: ParsedAsset) -> Iterator[tuple[str, int, str]]:
    """Every line of every text file: (path, 1-based line number, line)."""
    for bundle_file, text in text_files(asset):
        for index, line in enumerate(split_lines(text)):
            yield bundle_file.path, index + 1, line


def _tokens(line: str) -> Iterator[tuple[_TokenRule, str]]:
    """Each credential of a known format on the line, placeholders left out."""
    for rule in _TOKEN_RULES:
        for match in rule.pattern.finditer(line):
            body = match["body"] or match.groupdict().get("pat") or ""
            if is_placeholder(match[0]) or is_placeholder(body):
                continue
            if rule.mixed_case and not _looks_random(body):
                continue
            yield rule, match[0]


def _looks_random(body: str) -> bool:
    """Upper, lower and digit: true of generated keys, rarely of words like sk-learn-…."""
    return (
        any(c.isupper() for c in body)
        and any(c.islower() for c in body)
        and any(c.isdigit() for c in body)
    )


def _has_known_token(line: str) -> bool:
    """Whether a precise check already reports something on this line."""
    if _PRIVATE_KEY.search(line):
        return True
    if next(_tokens(line), None) is not None:
        return True
    label = _AWS_SECRET_LABEL.search(line)
    if label is not None and any(
        not is_placeholder(m[0]) for m in _AWS_SECRET_VALUE.finditer(line, label.end())
    ):
        return True
    return any(not _is_placeholder_password(m["password"]) for m in _URL_CREDENTIALS.finditer(line))


def _is_placeholder_password(password: str) -> bool:
    return (
        is_placeholder(password)
        or password.lower() in _PLACEHOLDER_PASSWORDS
        or password.startswith(("$", "%"))
        or "{" in password
    )


def _is_literal(value: str) -> bool:
    """A value that is written out, rather than a placeholder, keyword or reference."""
    return not (
        is_placeholder(value)
        or value.lower() in _NOT_LITERALS
        or value.startswith(("$", "%", "{", "<"))
        or _DOTTED_REFERENCE.match(value) is not None
    )


def _is_config_file(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.startswith(".env") or PurePosixPath(path).suffix.lower() in _CONFIG_SUFFIXES


def _walk(
    node: object, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], Mapping[str, object]]]:
    """Every mapping inside a JSON-like value, with its path."""
    if isinstance(node, Mapping):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*path, index))


def _dotted(path: tuple[str | int, ...]) -> str:
    """``('packages', 0, 'environmentVariables', 1)`` → ``packages[0].environmentVariables[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")
