"""Shell read as code: which commands read secrets, send data out, or run what they fetch.

A command line is parsed with bashlex, a parser of the bash grammar, so that quoting,
pipelines, command substitution (``$(cat key)``) and process substitution
(``<(curl …)``) are seen for what they are; a phrase pattern sees only characters.
Where bashlex cannot parse a line (not every sample is valid bash), the words are
split with :mod:`shlex` and read the same way, one command per ``|``, ``;`` or ``&&``.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import bashlex
import bashlex.errors

SENSITIVE_PATH = re.compile(
    r"(?:~/\.ssh\b(?!/\S*\.pub\b)(?!/known_hosts)(?!/config\b)|\.ssh/(?!\S*\.pub\b)"
    r"(?!known_hosts)(?!config\b)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)"
    r"|\.aws/credentials|\.aws/config|\.netrc\b|\.git-credentials|\.pgpass\b"
    r"|(?<![\w.])\.env\b(?!\.(?:example|sample|template|dist))|/etc/(?:passwd|shadow)\b"
    r"|\.kube/config|\.docker/config\.json|\.npmrc\b|\.pypirc\b|\bkeychain\b|\.gnupg\b"
    r"|\bcredentials\.json\b|\bsecrets?\.(?:json|ya?ml|toml)\b|\.config/gh/hosts\.yml"
    r"|\bhosts\.yml\b|\.bash_history|\.zsh_history|\.password-store|Login\s+Data\b"
    r"|\bCookies\b|\.mozilla/firefox|\bwallet\.dat\b|\b[\w-]*(?:private|priv|secret)[\w-]*\.(?:key|pem)\b"
    r"|\.(?:p12|pfx)\b)",
    re.IGNORECASE,
)
"""Paths of files that hold credentials by their nature (public keys excluded)."""

_LOCAL_HOST = re.compile(
    r"^(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[?::1\]?|host\.docker\.internal)$",
    re.IGNORECASE,
)
_URL = re.compile(r"\b(?:https?|ftp|wss?)://(?P<host>[^\s/:?#\"'<>`)]+)", re.IGNORECASE)

_READERS = frozenset(
    {
        "cat",
        "head",
        "tail",
        "less",
        "more",
        "base64",
        "xxd",
        "od",
        "tar",
        "zip",
        "gzip",
        "gpg",
        "openssl",
        "cp",
        "strings",
        "tac",
        "jq",
        "awk",
        "sed",
        "grep",
        "find",
        "type",
        "get-content",
        "gc",
    }
)
_ENV_DUMPERS = frozenset({"env", "printenv", "set", "export", "declare", "compgen"})
_UPLOADERS = frozenset(
    {
        "curl",
        "wget",
        "http",
        "https",
        "httpie",
        "xh",
        "invoke-webrequest",
        "iwr",
        "invoke-restmethod",
        "irm",
    }
)
_SOCKETS = frozenset({"nc", "ncat", "netcat", "socat", "telnet", "openssl"})
_COPIERS = frozenset({"scp", "rsync", "sftp", "ftp", "lftp", "rclone", "smbclient"})
_MAILERS = frozenset({"mail", "mailx", "sendmail", "mutt", "swaks"})
_RESOLVERS = frozenset({"nslookup", "dig", "host", "ping"})
_INTERPRETERS = re.compile(
    r"^(?:sudo\s+)?(?:(?:/usr)?(?:/local)?/bin/)?(?:ba|z|k|da|c|tc|fi|a)?sh$"
    r"|^(?:python[\d.]*|perl|ruby|node|bun|deno|php|pwsh|powershell|iex|invoke-expression"
    r"|source|\.|eval)$",
    re.IGNORECASE,
)
_FETCHERS = frozenset(
    {
        "curl",
        "wget",
        "iwr",
        "irm",
        "invoke-webrequest",
        "invoke-restmethod",
        "fetch",
        "http",
        "xh",
        "aria2c",
    }
)
_DATA_FLAGS = re.compile(
    r"^(?:-d|--data(?:-binary|-raw|-urlencode|-ascii)?|-F|--form(?:-string)?|-T"
    r"|--upload-file|--post-file|--post-data|--body-file|-InFile|-Body|--json)(?:=|$)"
    r"|^-[a-zA-Z]*[dFT]$"
)
_WRAPPERS = frozenset({"sudo", "env", "nohup", "time", "exec", "command", "builtin", "xargs"})


@dataclass
class ShellReading:
    """What a piece of shell does, as far as the eval bar cares.

    Attributes:
        reads_secret: Commands that read a credential file or dump the environment.
        sends: Commands that send data off the machine (upload, socket, copy, mail).
        exfiltrates: Commands whose data sent out comes from a secret (a flow).
        runs_fetched: Commands that run code fetched at run time.
    """

    reads_secret: list[str] = field(default_factory=list)
    sends: list[str] = field(default_factory=list)
    exfiltrates: list[str] = field(default_factory=list)
    runs_fetched: list[str] = field(default_factory=list)

    @property
    def leaks(self) -> bool:
        """A secret read and data sent out in the same script, or a direct flow."""
        return bool(self.exfiltrates) or (bool(self.reads_secret) and bool(self.sends))


def is_remote(host: str) -> bool:
    """Whether a host is somewhere other than this machine."""
    return not _LOCAL_HOST.match(host.split("@")[-1].split(":")[0])


def remote_urls(text: str) -> list[str]:
    """The URLs in ``text`` that point off the machine."""
    return [m[0] for m in _URL.finditer(text) if is_remote(m["host"])]


_HINT = re.compile(
    r"curl|wget|\bnc\b|ncat|netcat|socat|telnet|scp|rsync|sftp|ftp|rclone|smbclient|mail"
    r"|\benv\b|printenv|export|declare|compgen|history|\bset\b|eval|source|\bsh\b|bash|zsh"
    r"|python|perl|ruby|node|bun|deno|php|pwsh|powershell|iex|invoke-|\birm\b|\biwr\b|aws"
    r"|gsutil|gcloud|\baz\b|\bgh\b|nslookup|\bdig\b|\bhost\b|ping|openssl|http|fetch|aria2c"
    r"|\./|(?:^|\s)\.\s|xh\b",
    re.IGNORECASE,
)
"""A cheap test that a script may send, read secrets or run downloads at all."""


def read(script: str) -> ShellReading:
    """Read a shell script (or one command line) for secrets, sends and fetched code."""
    if not _HINT.search(script):
        return ShellReading()
    return _read(script)


def reset_cache() -> None:
    """Forget the scripts read so far."""
    _read.cache_clear()


@lru_cache(maxsize=2048)
def _read(script: str) -> ShellReading:
    reading = ShellReading()
    downloaded: set[str] = set()
    for pipeline in _pipelines(script):
        _read_pipeline(pipeline, reading, downloaded)
    return reading


def _read_pipeline(pipeline: list[list[str]], reading: ShellReading, downloaded: set[str]) -> None:
    secret_upstream = False
    fetch_upstream = False
    for words in pipeline:
        if not words:
            continue
        name, args = _command(words)
        joined = " ".join(words)
        secret_here = _reads_secret(name, args)
        sends = _sends(name, args)
        if secret_here:
            reading.reads_secret.append(joined)
        if sends:
            reading.sends.append(joined)
            if (
                secret_upstream
                or any(SENSITIVE_PATH.search(arg) for arg in args)
                or any(_substitutes_secret(arg) for arg in args)
            ):
                reading.exfiltrates.append(joined)
        if (
            _INTERPRETERS.match(name)
            and (
                fetch_upstream
                or any(_fetches(arg) for arg in args)
                or any(posixpath.basename(arg) in downloaded for arg in args[:1])
            )
        ) or (words[0].startswith(("./", "/")) and posixpath.basename(words[0]) in downloaded):
            reading.runs_fetched.append(joined)
        if name in _FETCHERS:
            target = _download_target(name, args)
            if target:
                downloaded.add(posixpath.basename(target))
        secret_upstream = secret_upstream or secret_here
        fetch_upstream = fetch_upstream or (name in _FETCHERS and bool(remote_urls(joined)))


def _command(words: list[str]) -> tuple[str, list[str]]:
    """The command's name (lowercased, without path or wrappers) and its arguments."""
    index = 0
    while index < len(words) and (
        ("=" in words[index].split("/")[0] and not words[index].startswith("-"))
        or (
            words[index].lower() in _WRAPPERS
            and any(not w.startswith("-") and "=" not in w for w in words[index + 1 :])
        )
    ):
        index += 1
    if index >= len(words):
        return "", []
    name = words[index]
    base = name if name in (".",) else posixpath.basename(name)
    return base.lower(), words[index + 1 :]


def _reads_secret(name: str, args: list[str]) -> bool:
    if (
        name in _ENV_DUMPERS
        and (name != "export" or "-p" in args)
        and (name != "set" or not args)
        and (name != "env" or not args or all(a.startswith("-") for a in args))
    ):
        return True
    if name in ("history",):
        return True
    if name in _READERS or name in _UPLOADERS:
        return any(SENSITIVE_PATH.search(arg) for arg in args)
    return False


def _substitutes_secret(arg: str) -> bool:
    """``$(cat ~/.ssh/id_rsa)`` or ``$(env)`` inside an argument."""
    for inner in re.findall(r"\$\((.*?)\)|`([^`]*)`", arg):
        text = inner[0] or inner[1]
        for words in (w for p in _pipelines(text) for w in p):
            name, args = _command(words)
            if _reads_secret(name, args):
                return True
    return False


def _sends(name: str, args: list[str]) -> bool:
    joined = " ".join(args)
    if name in _UPLOADERS:
        data = any(_DATA_FLAGS.match(arg) for arg in args) or bool(
            re.search(r"(?:-X|--request|-Method)\s*(?:POST|PUT|PATCH)", joined, re.IGNORECASE)
        )
        return data and bool(remote_urls(joined) or _bare_remote_host(args))
    if name in _SOCKETS:
        return name != "openssl" or "s_client" in args
    if name in _COPIERS:
        return any(
            re.match(r"^(?:[\w.-]+@)?[\w.-]+:(?!//)", arg) or remote_urls(arg) for arg in args
        ) or name in ("ftp", "lftp", "sftp", "smbclient")
    if name in _MAILERS:
        return True
    if name in _RESOLVERS:
        return any("$(" in arg or "`" in arg for arg in args)
    if name in ("aws", "gsutil", "az", "gcloud"):
        return bool(re.search(r"\b(?:s3\s+(?:cp|sync|mv)|cp|storage\s+cp|blob\s+upload)\b", joined))
    if name == "gh":
        return joined.startswith("gist create")
    return False


def _bare_remote_host(args: list[str]) -> bool:
    return any(
        re.match(r"^[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:/\S*)?$", arg)
        and is_remote(arg.split("/")[0])
        and not arg.startswith("-")
        for arg in args
    )


def _fetches(arg: str) -> bool:
    """An argument that is the output of a download: ``$(curl …)`` or ``<(wget …)``."""
    return bool(
        re.search(
            r"(?:\$\(|<\(|`)\s*(?:\S+/)?(?:curl|wget|iwr|irm|invoke-webrequest|fetch)\b",
            arg,
            re.IGNORECASE,
        )
    ) and bool(remote_urls(arg))


def _download_target(name: str, args: list[str]) -> str | None:
    for flag in ("-o", "-O", "--output", "--output-document", "-OutFile"):
        if flag in args:
            at = args.index(flag)
            if at + 1 < len(args) and not (name == "curl" and flag == "-O"):
                return args[at + 1]
            if name == "curl" and flag == "-O":
                urls = remote_urls(" ".join(args))
                return urls[0].rsplit("/", 1)[-1] if urls else None
    return None


# --- splitting -------------------------------------------------------------------


_LINE_HINT = re.compile(
    r"curl|wget|\bnc\b|ncat|netcat|socat|telnet|\bscp\b|rsync|sftp|\bftp\b|rclone|smbclient"
    r"|\bmail|sendmail|mutt|swaks|\benv\b|printenv|export\s+-p|declare|compgen|history|^\s*set\s*$"
    r"|nslookup|\bdig\b|\bhost\b|\bping\b|\baws\b|gsutil|gcloud|\baz\b|\bgh\b|invoke-|\birm\b"
    r"|\biwr\b|fetch|aria2c|\bxh\b|\bhttps?\b|openssl|/dev/tcp|\.ssh|credential|\.env\b|\$\(|`",
    re.IGNORECASE,
)
"""Lines worth parsing: only these can send, read secrets or fetch; the rest are skipped."""
_FETCH_HINT = re.compile(r"curl|wget|\birm\b|\biwr\b|invoke-web|fetch|aria2c", re.IGNORECASE)


def _pipelines(script: str) -> list[list[list[str]]]:
    """Each pipeline of the script as its commands' words, substitutions kept as text.

    Lines that name no sender, secret or downloader are not parsed, unless the script
    downloads something (then a later line may run it).
    """
    found: list[list[list[str]]] = []
    lines = _logical_lines(script)
    fetches = any(_FETCH_HINT.search(line) for line in lines)
    for line in lines:
        if not fetches and not _LINE_HINT.search(line):
            continue
        try:
            parts = bashlex.parse(line)
        except (
            bashlex.errors.ParsingError,
            NotImplementedError,
            IndexError,
            AttributeError,
            TypeError,
            ValueError,
            AssertionError,
            RecursionError,
        ):
            found.extend(_split_fallback(line))
            continue
        for part in parts:
            _collect(part, line, found)
    return found


def _collect(node: Any, source: str, found: list[list[list[str]]]) -> None:
    kind = getattr(node, "kind", "")
    if kind == "pipeline":
        commands = [
            _words(part, source) for part in node.parts if getattr(part, "kind", "") == "command"
        ]
        found.append(commands)
        for part in node.parts:
            _nested(part, source, found)
        return
    if kind == "command":
        found.append([_words(node, source)])
        _nested(node, source, found)
        return
    for child in getattr(node, "parts", None) or getattr(node, "list", None) or []:
        _collect(child, source, found)
    for attr in ("command",):
        inner = getattr(node, attr, None)
        if inner is not None and hasattr(inner, "kind"):
            _collect(inner, source, found)


def _nested(node: Any, source: str, found: list[list[list[str]]]) -> None:
    """Commands inside substitutions also run."""
    for part in getattr(node, "parts", None) or []:
        for inner in getattr(part, "parts", None) or []:
            if getattr(inner, "kind", "") in ("commandsubstitution", "processsubstitution"):
                _collect(inner.command, source, found)


def _words(node: Any, source: str) -> list[str]:
    words = []
    for part in getattr(node, "parts", None) or []:
        if getattr(part, "kind", "") == "word":
            start, end = part.pos
            words.append(_unquote(source[start:end]))
        elif getattr(part, "kind", "") == "redirect":
            target = getattr(part, "output", None)
            if target is not None and getattr(target, "kind", "") == "word":
                words.append("<" + _unquote(source[target.pos[0] : target.pos[1]]))
    return words


def _unquote(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[1:-1]
    return word


def _logical_lines(script: str) -> list[str]:
    """Lines with backslash continuations joined and comments dropped."""
    text = re.sub(r"\\\r?\n", " ", script)
    lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append(stripped)
    return lines


def _split_fallback(line: str) -> list[list[list[str]]]:
    pipelines: list[list[list[str]]] = []
    for chunk in re.split(r"\s*(?:;|&&|\|\|)\s*", line):
        commands = []
        for piece in re.split(r"(?<![|])\|(?![|])", chunk):
            try:
                words = shlex.split(piece, posix=True)
            except ValueError:
                words = piece.split()
            commands.append(words)
        pipelines.append(commands)
    return pipelines
