"""Secret checks: credentials committed into a bundle, and MCP secrets given a value.

Every text file of the bundle is scanned line by line, and string literals are also
joined across lines, because a token cut into pieces is still a token. A finding never
repeats the secret: it shows at most the first four characters (for most token formats,
the public prefix) followed by "…", because findings are stored, logged and posted to
Slack.

Precise formats block; the two heuristics (a credential-like key given a literal, a
random-looking string) only warn, and they stay quiet on anything a precise check
already reports, so one credential yields one finding.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from agent_registry.assets.parsed import ParsedAsset, line_of_path
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.base import CheckFunction, run_checks
from agent_registry.evals.decoded import decoded_texts
from agent_registry.evals.text import split_lines, text_files
from agent_registry.secret_shapes.entropy import ENTROPY_MIN_LENGTH, looks_generated
from agent_registry.secret_shapes.tokens import (
    TOKEN_RULES,
    TokenRule,
    is_placeholder,
    mask,
    token_matches,
    tokens_in,
)
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

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


_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_AWS_SECRET_LABEL = re.compile(r"aws.?secret", re.IGNORECASE)
_AWS_SECRET_VALUE = re.compile(r"(?<![A-Za-z0-9/+])(?P<body>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,31})://(?P<user>[^\s:/@]{0,256}):(?P<password>[^\s@/]{1,256})"
    r"@(?P<host>[^\s/:?#\"'<>]+)"
)

_CREDENTIAL_LABELS = (
    r"passwd|password|secret|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|auth[_-]?token|access[_-]?token|refresh[_-]?token|bearer[_-]?token"
)
# The key must end with a secret-ish word (``db_password``, ``apiKey``) so that
# ``password_hint`` or ``max_tokens`` do not count; the value must be a literal.
_GENERIC_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9])[\"']?(?P<key>[A-Za-z0-9_.-]{0,64}?(?:" + _CREDENTIAL_LABELS + r"))[\"']?"
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

_PLACEHOLDER_PASSWORDS = frozenset({"password", "passwd", "pass", "pwd", "secret", "...", "…"})

CATALOG: dict[str, Severity] = {
    **{f"secrets.{rule.kind}": Severity.BLOCK for rule in TOKEN_RULES},
    "secrets.aws-secret-key": Severity.BLOCK,
    "secrets.private-key": Severity.BLOCK,
    "secrets.url-password": Severity.BLOCK,
    "secrets.generic-assignment": Severity.WARN,
    "secrets.high-entropy": Severity.WARN,
    "secrets.split-token": Severity.BLOCK,
    "secrets.mcp-secret-value": Severity.BLOCK,
    "secrets.encoded-credential": Severity.BLOCK,
}
"""Check ids this family raises and the severity each proposes."""


def token_findings(asset: ParsedAsset) -> list[Finding]:
    """Credentials recognisable by their format, in any text file of the bundle."""
    findings = []
    for path, number, line in _lines(asset):
        for rule, token in tokens_in(line):
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
    """PEM private key blocks (RSA, EC, OpenSSH, PGP, PKCS#8) that hold key material.

    A header followed by ``...`` or by nothing is how documentation shows the format;
    like gitleaks' private-key rule, a block counts only when key material follows.
    """
    findings = []
    for bundle_file, text in text_files(asset):
        path = bundle_file.path
        lines = split_lines(text)
        for index, line in enumerate(lines):
            match = _PRIVATE_KEY.search(line)
            if match is None or not _has_key_material(lines, index, match.end()):
                continue
            number = index + 1
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


_KEY_MATERIAL_CHARS = 64
"""Base64 characters after a PEM header before it counts as a key; real keys hold hundreds."""


def _has_key_material(lines: list[str], index: int, column: int) -> bool:
    """Whether the header may be followed by key material rather than an illustration.

    Documentation shows the format as a header followed by ``...``, ``<key>`` or
    straight by the END line; anything else (including a header cut from its body)
    counts, since a key's first line alone is already a leak of what it is.
    """
    material = 0
    for part in [lines[index][column:], *lines[index + 1 : index + 12]]:
        stripped = part.strip().strip("\"',")
        if "-----END" in part:
            before = part.split("-----END", 1)[0].replace("\\n", "")
            material += len(re.findall(r"[A-Za-z0-9+/=]", before))
            return material >= _KEY_MATERIAL_CHARS
        if "..." in stripped or "\u2026" in stripped or re.search(r"<[^>]*>", stripped):
            return material >= _KEY_MATERIAL_CHARS
        material += len(re.findall(r"[A-Za-z0-9+/=]", stripped.replace("\\n", "")))
        if material >= _KEY_MATERIAL_CHARS:
            return True
    return True


def url_passwords(asset: ParsedAsset) -> list[Finding]:
    """Passwords written into URLs, e.g. ``postgres://app:hunter2@db/app``."""
    findings = []
    for path, number, line in _lines(asset):
        for match in _URL_CREDENTIALS.finditer(line):
            if _is_placeholder_password(match["password"]) or _is_test_host(match["host"]):
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
        for match in _generic_matches(line, config_file=_is_config_file(path)):
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


def split_tokens(asset: ParsedAsset) -> list[Finding]:
    """Known token formats assembled from string pieces, e.g. ``("ghp_"`` then ``"aBc…")``.

    Cutting a token into concatenated literals, continuation lines or a folded YAML
    scalar hides it from a line-by-line scan but not from whoever runs the code. A token
    a line-by-line check already reports is left to that check.
    """
    findings = []
    for bundle_file, text in text_files(asset):
        for split in _split_tokens(split_lines(text)):
            findings.append(
                make_finding(
                    CATALOG,
                    "secrets.split-token",
                    message=f"{split.rule.label} ({mask(split.token)}) assembled from "
                    f"{split.pieces} string pieces in {bundle_file.path}",
                    file=bundle_file.path,
                    line=split.lines[0],
                    fix=_rotate(f"revoke it {split.rule.revoke}")
                    + " Splitting a credential into pieces does not hide it."
                    + _FROM_ENV,
                )
            )
    return findings


def high_entropy_strings(asset: ParsedAsset) -> list[Finding]:
    """Long random-looking strings that no precise check explains: perhaps a credential.

    Many credentials have no recognisable format, only randomness. To keep the warning
    worth reading, strings that are random for a known, harmless reason are left out:
    labelled digests and commit ids, UUIDs, URLs without credentials, data: URIs, PEM
    and SSH public key material, identifiers and prose, lock files. At most one finding
    per line: the reviewer needs the place, not a count.
    """
    secret_values = tuple(given for _path, _key, given, _entry in _secret_inputs(asset))
    findings = []
    for bundle_file, text in text_files(asset):
        path = bundle_file.path
        if _is_lock_file(path):
            continue
        lines = split_lines(text)
        config_file = _is_config_file(path)
        for number, found in _random_strings(lines, config_file=config_file, known=secret_values):
            findings.append(
                make_finding(
                    CATALOG,
                    "secrets.high-entropy",
                    message=f"random-looking string ({mask(found)}) in {path} may be a credential",
                    file=path,
                    line=number,
                    fix="If it is a credential: remove it, rotate it, and read it from an "
                    "environment variable instead. If it is not (a test fixture, an id), "
                    "record it under false-positives in the asset's agentreg.yaml with the "
                    "check id, file, line and a reason.",
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
    findings = []
    for path, key, _given, entry in _secret_inputs(asset):
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


def encoded_credentials(asset: ParsedAsset) -> list[Finding]:
    """Credentials inside base64, hex or a packed file, found by decoding (bounded).

    Encoding hides a key from a reviewer and from a line scanner, not from whoever
    decodes it; a credential that was encoded on purpose is no less leaked. The decoded
    text gets every precise check, and the generic ``key = value`` one too: nobody
    base64-encodes an example.
    """
    findings = []
    for decoded in decoded_texts(asset):
        for label, shown in _credentials_in(decoded.text):
            findings.append(
                make_finding(
                    CATALOG,
                    "secrets.encoded-credential",
                    message=f"{label} ({shown}) hidden as {decoded.how} in {decoded.file}",
                    file=decoded.file,
                    line=decoded.line,
                    fix=_rotate("revoke it where it was issued")
                    + " Encoding a credential does not hide it."
                    + _FROM_ENV,
                )
            )
    unique = {(f.file, f.line, f.message): f for f in findings}
    return list(unique.values())


def _credentials_in(text: str) -> Iterator[tuple[str, str]]:
    """(label, masked value) of each credential in decoded text."""
    for line in split_lines(text):
        for rule, token in tokens_in(line):
            yield rule.label, mask(token)
        if _PRIVATE_KEY.search(line):
            yield "private key block", "-----BEGIN…"
        label = _AWS_SECRET_LABEL.search(line)
        if label is not None:
            for match in _AWS_SECRET_VALUE.finditer(line, label.end()):
                if not is_placeholder(match[0]):
                    yield "AWS secret access key", mask(match[0])
        for match in _URL_CREDENTIALS.finditer(line):
            if not _is_placeholder_password(match["password"]):
                yield "URL with a password", f"{match['scheme']}://…@{match['host']}"
        for match in _generic_matches(line, config_file=True):
            yield (
                f"'{match['key']}' with a literal value",
                mask(match["quoted"] or match["bare"] or ""),
            )


CHECKS: tuple[CheckFunction, ...] = (
    token_findings,
    aws_secret_keys,
    private_keys,
    url_passwords,
    generic_assignments,
    split_tokens,
    high_entropy_strings,
    mcp_secret_values,
    encoded_credentials,
)


def check(asset: ParsedAsset) -> list[Finding]:
    """Run every secret check."""
    return run_checks(CHECKS, asset)


def _lines(asset: ParsedAsset) -> Iterator[tuple[str, int, str]]:
    """Every line of every text file: (path, 1-based line number, line)."""
    for bundle_file, text in text_files(asset):
        for index, line in enumerate(split_lines(text)):
            yield bundle_file.path, index + 1, line


def _has_known_token(line: str) -> bool:
    """Whether a precise check already reports something on this line."""
    if _PRIVATE_KEY.search(line):
        return True
    if next(tokens_in(line), None) is not None:
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
        or not re.search(r"[A-Za-z0-9]", password)
        or password.lower() in _PLACEHOLDER_PASSWORDS
        or password.startswith(("$", "%"))
        or "{" in password
    )


_TEST_HOST = re.compile(
    r"^(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[?::1\]?|host\.docker\.internal"
    r"|[a-z][a-z0-9_-]*|(?:[\w-]+\.)*example(?:\.(?:com|org|net))?"
    r"|(?:[\w-]+\.)+(?:test|example|invalid|localhost|local))$",
    re.IGNORECASE,
)
"""Hosts of documentation and local test setups: loopback, a Compose service name
(``db``, ``postgres``), the reserved example and test domains (RFC 2606). A password in
a URL to one of them is a documented test value, as in every CI example
(``postgres://postgres:test@localhost``); it opens nothing reachable."""


def _is_test_host(host: str) -> bool:
    return _TEST_HOST.match(host.rsplit(":", 1)[0] if host.count(":") == 1 else host) is not None


def _generic_matches(line: str, *, config_file: bool) -> Iterator[re.Match[str]]:
    """The ``key = literal`` assignments on the line that ``generic_assignments`` reports."""
    if _has_known_token(line):
        return
    for match in _GENERIC_ASSIGNMENT.finditer(line):
        value = match["quoted"] or match["bare"]
        if value is None or (match["bare"] and not config_file):
            continue
        if _is_literal(value):
            yield match


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


def _secret_inputs(
    asset: ParsedAsset,
) -> Iterator[tuple[tuple[str | int, ...], str, str, Mapping[str, object]]]:
    """MCP inputs marked secret that carry a value: (path, ``value``/``default``, it, input)."""
    if asset.kind is not AssetKind.MCP_SERVER:
        return
    for path, entry in _walk(asset.frontmatter, ()):
        if entry.get("isSecret") is not True:
            continue
        for key in ("value", "default"):
            given = entry.get(key)
            # "{token}" is server.json's variable substitution, not a value.
            if isinstance(given, str) and given and not re.search(r"\{[^}]*\}", given):
                yield path, key, given, entry


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


# --- secrets split into string pieces ---------------------------------------------

_SPLIT_WINDOW = 8
"""Most lines one split token may span; pieces further apart are not one value."""

# A quoted string literal, with an optional Python prefix (f"…", rb'…'). A quote right
# after a letter is an apostrophe (don't), not the start of a literal. A literal ends on
# its line, unless a backslash before the line break continues it on the next.
_STRING_LITERAL = re.compile(
    r"(?<![A-Za-z0-9_])[rRbBuUfF]{0,2}(?P<quote>[\"'])"
    r"(?P<body>(?:\\\n[ \t]*|\\[^\n]|(?!(?P=quote))[^\\\n])*)(?P=quote)"
)
_LITERAL_CONTINUATION = re.compile(r"\\\n[ \t]*")
# What may stand between two literals that a language joins into one string: blanks,
# one line break, ``+`` (Python, JavaScript), ``.``/``..`` (PHP, Lua) and a trailing
# backslash (shell and Python line continuation).
_JOINER = re.compile(r"[ \t+.\\]*(?:\n[ \t+.]*)?")
# ``key: >`` or ``key: |-`` (also as a list item): a YAML block scalar follows.
_BLOCK_SCALAR = re.compile(
    r"^(?P<indent>[ \t]*)(?:-[ \t]+)?[^\s#][^#]*:[ \t]*[>|][+-]?[1-9]?[ \t]*$"
)


@dataclass(frozen=True)
class _Piece:
    """Part of a string value: its text and the 1-based line it is on."""

    line: int
    text: str


@dataclass(frozen=True)
class _SplitToken:
    """A known token format found only once string pieces are joined.

    Attributes:
        rule: The token format.
        token: The joined token (never shown; see ``mask``).
        pieces: How many pieces it was assembled from.
        lines: The lines of those pieces, first to last.
    """

    rule: TokenRule
    token: str
    pieces: int
    lines: tuple[int, ...]


def _split_tokens(lines: list[str]) -> list[_SplitToken]:
    """Tokens assembled from string pieces, except those a line-by-line check reports."""
    found: dict[tuple[str, int], _SplitToken] = {}
    for run in [*_literal_runs(lines), *_block_scalar_runs(lines)]:
        for split in _tokens_across(run):
            on_one_line = any(
                rule is split.rule for n in set(split.lines) for rule, _ in tokens_in(lines[n - 1])
            )
            if not on_one_line:
                found.setdefault((split.rule.kind, split.lines[0]), split)
    return list(found.values())


def _tokens_across(run: list[_Piece]) -> Iterator[_SplitToken]:
    """Tokens in the joined text of a run that take more than one of its pieces."""
    ends = []
    total = 0
    for piece in run:
        total += len(piece.text)
        ends.append(total)
    for rule, match in token_matches("".join(piece.text for piece in run)):
        first = bisect_right(ends, match.start())
        last = bisect_right(ends, match.end() - 1)
        used = [piece for piece in run[first : last + 1] if piece.text]
        if len(used) < 2 or used[-1].line - used[0].line >= _SPLIT_WINDOW:
            continue
        lines = tuple(dict.fromkeys(piece.line for piece in used))
        yield _SplitToken(rule=rule, token=match[0], pieces=len(used), lines=lines)


def _literal_runs(lines: list[str]) -> Iterator[list[_Piece]]:
    """Runs of string literals a language would join into one string.

    Each run is a list of pieces: every literal, split again where a backslash continues
    it on the next line.
    """
    text = "\n".join(lines)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    run: list[_Piece] = []
    previous_end: int | None = None
    for match in _STRING_LITERAL.finditer(text):
        joined = previous_end is not None and _JOINER.fullmatch(text, previous_end, match.start())
        if not joined and len(run) > 1:
            yield run
        if not joined:
            run = []
        run.extend(_literal_pieces(match, starts))
        previous_end = match.end()
    if len(run) > 1:
        yield run


def _literal_pieces(match: re.Match[str], starts: list[int]) -> Iterator[_Piece]:
    """The pieces of one literal: its text cut at backslash line continuations."""
    offset = match.start("body")
    body = match["body"]
    cut = 0
    for continuation in _LITERAL_CONTINUATION.finditer(body):
        yield _Piece(bisect_right(starts, offset + cut), body[cut : continuation.start()])
        cut = continuation.end()
    yield _Piece(bisect_right(starts, offset + cut), body[cut:])


def _block_scalar_runs(lines: list[str]) -> Iterator[list[_Piece]]:
    """The lines of each YAML block scalar (``key: >``), one piece per line.

    Folding joins the lines with spaces, so the value is not the token as written, but
    code that strips the spaces gets it back.
    """
    index = 0
    while index < len(lines):
        header = _BLOCK_SCALAR.match(lines[index])
        index += 1
        if header is None:
            continue
        indent = len(header["indent"].expandtabs())
        run = []
        while index < len(lines):
            line = lines[index]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            if line.strip():
                run.append(_Piece(index + 1, line.strip()))
            index += 1
        if len(run) > 1:
            yield run


# --- random-looking strings ---------------------------------------------------------


# A run of base64 or URL-safe base64 characters (hex is a subset), with its padding. An
# ``=`` before it is an assignment, so it may start right after one.
_CANDIDATE = re.compile(
    rf"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{{{ENTROPY_MIN_LENGTH},}}(?:==?)?(?![A-Za-z0-9+/_=-])"
)
# ``\x1b``, ``\n`` or ``\u00e9`` inside a literal: the letters after the backslash belong
# to the escape, not to the text next to it.
_ESCAPE = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[0-7]{1,3}|.)")
_PEM_BOUNDARY = re.compile(r"-----(BEGIN|END) [A-Z0-9 ]+-----")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>`()\[\]{}]+")
_CREDENTIAL_PARAM = re.compile(
    r"[?&;][\w.-]*?(?:token|key|secret|sig|signature|password|passwd|auth|credential)[\w.-]*"
    r"=(?P<value>[^&#;\s]+)",
    re.IGNORECASE,
)
_DATA_URI = re.compile(r"data:[\w.+/-]*(?:;[\w.+=-]+)*,[A-Za-z0-9+/=%_-]*")
_LABELLED_DIGEST = re.compile(
    r"(?<![A-Za-z0-9])(?:sha(?:1|224|256|384|512)|sha3-(?:224|256|384|512)|md5|blake2[bs]?)"
    r"[:=-][A-Za-z0-9+/=_-]+",
    re.IGNORECASE,
)
_UUID = re.compile(
    r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}"
    r"-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])"
)
# ``uses: actions/checkout@<commit>``: an action or dependency pinned to a commit.
_PINNED_COMMIT = re.compile(r"@[0-9a-f]{40}(?![0-9A-Za-z])")
_SSH_PUBLIC_KEY = re.compile(
    r"(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com)"
    r"[ \t]+[A-Za-z0-9+/]+=*"
)
# Base64 of PNG, JPEG, GIF, WebP and SVG files starts the same way every time.
_IMAGE_BASE64 = re.compile(
    r"(?<![A-Za-z0-9+/])(?:iVBORw0KGgo|/9j/|R0lGOD|UklGR|PHN2Zy)[A-Za-z0-9+/]*=*"
)
# Words that say the string next to them is a digest or a revision, not a credential.
_HASH_WORDS = frozenset(
    {
        "checksum",
        "checksums",
        "commit",
        "commits",
        "digest",
        "digests",
        "etag",
        "fingerprint",
        "hash",
        "hashes",
        "integrity",
        "oid",
        "rev",
        "revision",
        "sha",
        "shas",
    }
)
# Words that say the string next to them is an identifier, unless a credential word is
# on the line too (a ``request_id`` is an id, a ``secret_id`` may not be).
_ID_WORDS = frozenset({"id", "ids", "uuid", "guid"})
_CREDENTIAL_WORDS = frozenset(
    {
        "auth",
        "bearer",
        "credential",
        "credentials",
        "key",
        "keys",
        "passwd",
        "password",
        "private",
        "secret",
        "secrets",
        "token",
        "tokens",
    }
)
_WORD_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_LOCK_FILES = frozenset(
    {
        "bun.lock",
        "cargo.lock",
        "composer.lock",
        "deno.lock",
        "flake.lock",
        "gemfile.lock",
        "go.sum",
        "gradle.lockfile",
        "mix.lock",
        "npm-shrinkwrap.json",
        "package-lock.json",
        "packages.lock.json",
        "pdm.lock",
        "pipfile.lock",
        "pnpm-lock.yaml",
        "podfile.lock",
        "poetry.lock",
        "pubspec.lock",
        "uv.lock",
        "yarn.lock",
    }
)


def _random_strings(
    lines: list[str], *, config_file: bool, known: Iterable[str]
) -> Iterator[tuple[int, str]]:
    """(line number, string) for each line with a random-looking string nothing explains.

    Lines of PEM blocks (keys, certificates) are skipped: the private-key check reports
    the block's first line, and certificates are public. So are the lines of a split
    token, which ``split_tokens`` reports.
    """
    split_token_lines = {number for split in _split_tokens(lines) for number in split.lines}
    in_pem_block = False
    previous = ""
    for number, line in enumerate(lines, start=1):
        before, previous = previous, line
        boundaries = _PEM_BOUNDARY.findall(line)
        if boundaries:
            in_pem_block = boundaries[-1] == "BEGIN"
            continue
        if in_pem_block or number in split_token_lines:
            continue
        found = _random_string(line, before=before, config_file=config_file, known=known)
        if found is not None:
            yield number, found


def _random_string(
    line: str, *, before: str, config_file: bool, known: Iterable[str]
) -> str | None:
    """The first random-looking string on the line that nothing else explains, if any.

    Args:
        line: The line.
        before: The line before it, where a digest's label often sits
            (``"alg": "SHA-256"`` above ``"content": "…"``).
        config_file: Whether the file is configuration (see ``_generic_matches``).
        known: MCP secret values, which ``mcp_secret_values`` reports.
    """
    candidates = _generated_strings(line)
    if not candidates:
        return None
    explained = _explained_spans(line, config_file=config_file)
    for match in candidates:
        if any(start < match.end() and match.start() < end for start, end in explained):
            continue
        if any(match[0] in value for value in known):
            continue  # an MCP secret given a value: mcp_secret_values reports it
        return None if _labelled_harmless(line, before) else match[0]
    return None


def _generated_strings(line: str) -> list[re.Match[str]]:
    """The strings on the line that look generated, escape sequences left out."""
    unescaped = _ESCAPE.sub(lambda escape: " " * len(escape[0]), line)
    return [m for m in _CANDIDATE.finditer(unescaped) if looks_generated(m[0])]


def _explained_spans(line: str, *, config_file: bool) -> list[tuple[int, int]]:
    """Parts of the line that are random for a known reason, or that another check reports."""
    spans = [m.span() for m in _url_spans(line)]
    harmless = (_DATA_URI, _LABELLED_DIGEST, _PINNED_COMMIT, _UUID, _SSH_PUBLIC_KEY, _IMAGE_BASE64)
    for pattern in harmless:
        spans.extend(m.span() for m in pattern.finditer(line))
    spans.extend(match.span() for _, match in token_matches(line))
    label = _AWS_SECRET_LABEL.search(line)
    if label is not None:
        spans.extend(m.span() for m in _AWS_SECRET_VALUE.finditer(line, label.end()))
    spans.extend(m.span() for m in _URL_CREDENTIALS.finditer(line))
    for match in _generic_matches(line, config_file=config_file):
        spans.append(match.span("quoted") if match["quoted"] else match.span("bare"))
    return spans


def _url_spans(line: str) -> Iterator[re.Match[str]]:
    """URLs on the line, except those with a credential-named query parameter.

    A URL's path is an address, however random it looks; ``?api_key=…`` is a secret.
    """
    for match in _URL.finditer(line):
        if _CREDENTIAL_PARAM.search(match[0]) is None:
            yield match


def _labelled_harmless(line: str, before: str) -> bool:
    """Whether a word says the string is a digest, a revision or an id.

    A digest's label may sit on the line before (``"alg": "SHA-256"`` above its
    ``"content"``); an id's must be on the line, with no credential word beside it.
    """
    words = _words(line)
    if not words.isdisjoint(_HASH_WORDS) or not _words(before).isdisjoint(_HASH_WORDS):
        return True
    return not words.isdisjoint(_ID_WORDS) and words.isdisjoint(_CREDENTIAL_WORDS)


def _words(line: str) -> set[str]:
    """The line's words, lowercased, both whole and split at case changes and underscores.

    So ``gitCommit``, ``commit_sha`` and ``ETag`` all yield a word that counts. Generated
    strings are left out first: split at case changes, a long random string holds "Id"
    or "rev" by chance.
    """
    for match in reversed(_generated_strings(line)):
        line = line[: match.start()] + " " + line[match.end() :]
    words = {part.lower() for part in _WORD_PART.findall(line)}
    words.update(word.lower() for word in re.findall(r"[A-Za-z]+", line))
    return words


def _is_lock_file(path: str) -> bool:
    """Lock files are digests and versions written by tools, not by the submitter."""
    name = PurePosixPath(path).name.lower()
    return name in _LOCK_FILES or name.endswith((".lock", ".lockfile"))
