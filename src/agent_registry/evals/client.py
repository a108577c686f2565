"""Claude Code's own validator as the judge of format.

What Claude Code accepts changes with each release (new frontmatter keys, new model
aliases); a list kept here falls behind and then refuses good work. So where the client
is installed, the asset is wrapped as a one-asset plugin and handed to
``claude plugin validate --json``, and what the client reports about the asset's own
files becomes a spec finding in the client's words. The JSON report is read, not the
printed one: its shape is a contract (``manifest``, ``contents``, ``directory``), while
the printed report mixes in sections (``Provides:``, the plugin directory's checks) that
a line parser takes for problems. Where it is not installed, the registry's
fallback checks (which only warn on what they do not know) stand in.

The client runs with a fresh ``HOME``, no credentials and nonessential traffic off:
validation reads only the folder it is given.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.vocabulary.findings import Finding, Severity

CLIENT_ENV = "AGENT_REGISTRY_CLAUDE"
"""Names the ``claude`` binary to validate with; else ``claude`` on ``PATH``."""

TIMEOUT_SECONDS = 60.0
"""A validation reads a few files; a client that takes longer is stuck."""

CATALOG: dict[str, Severity] = {
    "spec.client-error": Severity.BLOCK,
    "spec.client-warning": Severity.WARN,
    "spec.client-validated": Severity.INFO,
    "spec.client-failed": Severity.WARN,
}
"""Check ids of the client's judgement."""

_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")


@dataclass(frozen=True)
class ClientIssue:
    """One problem the client reported about a file it validated."""

    file: Path
    level: str
    text: str


def find_client() -> Path | None:
    """The ``claude`` binary to validate with, or None when none is installed."""
    named = os.environ.get(CLIENT_ENV)
    if named:
        return Path(named) if Path(named).is_file() else None
    found = shutil.which("claude")
    return Path(found) if found else None


def client_env(home: Path) -> dict[str, str]:
    """The client's environment: a fresh home, nothing else of the machine's."""
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        NO_COLOR="1",
    )
    return env


class ClientReportError(ValueError):
    """The client printed something other than its JSON validation report."""


def validate_folder(
    claude: Path, folder: Path, *, strict: bool = False, profile: str | None = None
) -> tuple[int, list[ClientIssue], str]:
    """Run ``claude plugin validate --json`` on a plugin or marketplace folder.

    By default no ``--profile directory``: that profile adds the submission rules of
    Anthropic's public plugin directory (a README of 40 words, a LICENSE, an icon).
    Neither a single asset wrapped for validation nor the organisation's own marketplace
    is submitted there, and the registry keeps an asset's description and licence in its own
    metadata; so those findings are the directory's, not problems of the asset, and
    :func:`parse_report` leaves them out unless a report was made under that profile.

    Args:
        claude: The client binary.
        folder: The plugin or marketplace root (the folder holding ``.claude-plugin``).
        strict: Also fail on the client's warnings (an unknown field, missing
            metadata), as a marketplace host's CI would.
        profile: A ``--profile`` to judge by as well (``directory``), for a plugin
            that is to be submitted to that catalog.

    Returns:
        The exit code, the issues by file, and the report as printed.

    Raises:
        ClientReportError: The client printed no JSON report.
    """
    with tempfile.TemporaryDirectory(prefix="agentreg-claude-home-") as home:
        command = [
            str(claude),
            "plugin",
            "validate",
            "--json",
            *(["--strict"] if strict else []),
            *(["--profile", profile] if profile else []),
            str(folder),
        ]
        done = subprocess.run(
            command,
            env=client_env(Path(home)),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    return done.returncode, parse_report(done.stdout, stderr=done.stderr), done.stdout


def parse_report(report: str, *, stderr: str = "") -> list[ClientIssue]:
    """The issues in a ``claude plugin validate --json`` report, with the file each is about.

    The report holds the manifest's result (``manifest``: ``file``, ``errors``,
    ``warnings``) and one result per skill, agent or command file (``contents``), each
    problem a ``{path, message}`` pair; the text kept is ``path: message``, the client's
    own wording as it prints it. ``notes`` are not problems and are left out, as are the
    plugin directory's findings (``directory``) unless the report was made under
    ``--profile directory``.

    Raises:
        ClientReportError: ``report`` is not a JSON object (the first line of
            ``stderr`` says why, when the client said).
    """
    try:
        value = json.loads(report)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        said = next((line.strip() for line in stderr.splitlines() if line.strip()), "")
        raise ClientReportError(
            "claude plugin validate --json printed no JSON report" + (f": {said}" if said else "")
        )
    results = [value.get("manifest"), *_list(value.get("contents"))]
    issues: list[ClientIssue] = []
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("file"), str):
            continue
        file = Path(result["file"])
        for level, key in (("error", "errors"), ("warning", "warnings")):
            for problem in _list(result.get(key)):
                if isinstance(problem, dict) and isinstance(problem.get("message"), str):
                    where = problem.get("path")
                    text = f"{where}: {problem['message']}" if where else problem["message"]
                    issues.append(ClientIssue(file, level, text))
    issues.extend(_directory_issues(value))
    return issues


def _directory_issues(report: dict[str, object]) -> list[ClientIssue]:
    """The plugin directory's findings, only when the report was made under its profile."""
    directory = report.get("directory")
    if not isinstance(directory, dict) or not directory.get("profile"):
        return []
    target = Path(str(report.get("target", ".")))
    root = target.parent.parent if target.parent.name == ".claude-plugin" else target
    issues: list[ClientIssue] = []
    for finding in _list(directory.get("findings")):
        if not isinstance(finding, dict) or not isinstance(finding.get("message"), str):
            continue
        level = "error" if finding.get("blocking") else "warning"
        text = f"{finding.get('title', '')} ({finding.get('code', '')}). {finding['message']}"
        issues.append(ClientIssue(root / str(finding.get("file", "")), level, text))
    return issues


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def wrap_as_plugin(asset: ParsedAsset, root: Path) -> dict[Path, str]:
    """Write the asset into ``root`` as a one-asset plugin; map written files to bundle paths.

    Only skills and subagents have a place in a plugin that the client validates; an
    MCP server entry is judged by the MCP Registry's rules instead.
    """
    name = re.sub(r"[^a-z0-9-]+", "-", (asset.name or asset.bundle.root_name).lower()).strip("-")
    name = name or "asset"
    manifest = {
        "name": name,
        "version": "0.0.0",
        "description": "An asset under validation.",
        "author": {"name": "Agent Registry"},
    }
    (root / ".claude-plugin").mkdir(parents=True)
    (root / ".claude-plugin" / "plugin.json").write_text(json.dumps(manifest), encoding="utf-8")
    written: dict[Path, str] = {}
    if asset.kind is AssetKind.SKILL:
        folder = root / "skills" / asset.bundle.root_name
    elif asset.kind is AssetKind.SUBAGENT:
        folder = root / "agents"
    else:
        return written
    for bundle_file in asset.bundle.files:
        target = folder / PurePosixPath(bundle_file.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bundle_file.data)
        written[target.resolve()] = bundle_file.path
    return written


def client_findings(asset: ParsedAsset, claude: Path) -> list[Finding]:
    """What the client says about the asset's own files, as spec findings.

    Issues about the wrapper's ``plugin.json`` are the registry's, not the asset's, and
    are left out. A client that cannot run only warns: the fallback checks still ran.
    The asset is validated without ``--strict``: its warnings become
    ``spec.client-warning`` findings, whose severity the policy sets, so the policy and
    not the client's exit code decides whether they block; and without the plugin
    directory's profile (see :func:`validate_folder`).
    """
    if asset.kind is AssetKind.MCP_SERVER:
        return []
    with tempfile.TemporaryDirectory(prefix="agentreg-validate-") as scratch:
        root = Path(scratch) / "plugin"
        written = wrap_as_plugin(asset, root)
        try:
            code, issues, output = validate_folder(claude, root)
            issues = [i for i in issues if i.file.resolve() in written or i.level == "error"]
        except (OSError, subprocess.SubprocessError, ClientReportError) as error:
            return [
                Finding(
                    check_id="spec.client-failed",
                    severity=CATALOG["spec.client-failed"],
                    message=f"Claude Code's validator could not run ({type(error).__name__})",
                    fix="Check the claude binary named by AGENT_REGISTRY_CLAUDE or on PATH.",
                )
            ]
        findings = [
            Finding(
                check_id="spec.client-validated",
                severity=CATALOG["spec.client-validated"],
                message=f"validated by {version_of(claude)}",
            )
        ]
        for issue in issues:
            path = written.get(issue.file.resolve())
            if path is None:
                continue
            check_id = "spec.client-error" if issue.level == "error" else "spec.client-warning"
            findings.append(
                Finding(
                    check_id=check_id,
                    severity=CATALOG[check_id],
                    message=f"Claude Code: {issue.text}",
                    file=path,
                    fix="Fix what Claude Code reports; it is what loads the asset.",
                )
            )
        if code != 0 and not any(f.check_id == "spec.client-error" for f in findings):
            # Refused, but not for anything in the asset's files: say so, in its words.
            findings.append(
                Finding(
                    check_id="spec.client-error",
                    severity=CATALOG["spec.client-error"],
                    message="Claude Code refused the asset: " + _refusal(output),
                    fix="Fix what Claude Code reports; it is what loads the asset.",
                )
            )
        return findings


def version_of(claude: Path) -> str:
    """``Claude Code 2.1.x`` when the binary says, else its path."""
    try:
        with tempfile.TemporaryDirectory(prefix="agentreg-claude-home-") as home:
            done = subprocess.run(
                [str(claude), "--version"],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
                stdin=subprocess.DEVNULL,
                env=client_env(Path(home)),
            )
    except (OSError, subprocess.SubprocessError):
        return str(claude)
    match = re.search(r"\d+\.\d+\.\d+", done.stdout)
    return f"Claude Code {match[0]}" if match else str(claude)


def _refusal(report: str) -> str:
    """The client's own words for a refusal outside the asset's files, shortened."""
    try:
        words = "; ".join(issue.text for issue in parse_report(report) if issue.level == "error")
    except ClientReportError:
        words = ""
    return " ".join((words or report).split())[:300]
