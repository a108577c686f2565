"""Claude Code's own validator as the judge of format.

What Claude Code accepts changes with each release (new frontmatter keys, new model
aliases); a list kept here falls behind and then refuses good work. So where the client
is installed, the asset is wrapped as a one-asset plugin and handed to
``claude plugin validate``, and what the client reports about the asset's own file
becomes a spec finding in the client's words. Where it is not installed, the registry's
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
from agent_registry.evals.findings import Finding, Severity

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

_SECTION = re.compile(r"^Validating (?P<what>[\w ]+): (?P<path>.+?)\s*$")
_COUNT = re.compile(r"^[^\w]*Found \d+ (?P<level>error|warning)s?:?\s*$")
_ITEM = re.compile(r"^\s*(?:\u276f|>|-|\*)\s+(?P<text>.+?)\s*$")
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


def validate_folder(
    claude: Path, folder: Path, *, strict: bool = False
) -> tuple[int, list[ClientIssue], str]:
    """Run ``claude plugin validate`` on a plugin or marketplace folder.

    Returns:
        The exit code, the issues by file, and the output as printed.
    """
    with tempfile.TemporaryDirectory(prefix="agentreg-claude-home-") as home:
        command = [
            str(claude),
            "plugin",
            "validate",
            *(["--strict"] if strict else []),
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
    output = done.stdout + done.stderr
    return done.returncode, parse_output(output), output


def parse_output(output: str) -> list[ClientIssue]:
    """The issues in ``claude plugin validate`` output, with the file each is about.

    The client prints a section per file (``Validating skill: PATH``), then
    ``Found N errors:`` or ``Found N warnings:`` and one marked ``field: message`` line
    per issue.
    """
    issues: list[ClientIssue] = []
    current: Path | None = None
    level = "error"
    for line in output.splitlines():
        section = _SECTION.match(line.strip())
        if section is not None:
            current = Path(section["path"])
            continue
        count = _COUNT.match(line.strip())
        if count is not None:
            level = count["level"]
            continue
        item = _ITEM.match(line)
        if item is not None and current is not None:
            issues.append(ClientIssue(current, level, item["text"]))
    return issues


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
    """
    if asset.kind is AssetKind.MCP_SERVER:
        return []
    with tempfile.TemporaryDirectory(prefix="agentreg-validate-") as scratch:
        root = Path(scratch) / "plugin"
        written = wrap_as_plugin(asset, root)
        try:
            code, issues, output = validate_folder(claude, root)
            issues = [i for i in issues if i.file.resolve() in written or i.level == "error"]
        except (OSError, subprocess.SubprocessError) as error:
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
                    message="Claude Code refused the asset: " + " ".join(output.split())[:300],
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
