"""Build ParsedAsset objects directly, the way the loader would, for the eval tests.

Each builder renders the manifest text (YAML frontmatter, server.json, scope.yaml) so
that the files in the bundle and the line numbers in ``field_lines`` agree, exactly as
a submitter would see them in an editor.
"""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.manifests import (
    DeclaredScope,
    McpServerManifest,
    SkillManifest,
    SubagentManifest,
)
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.vocabulary.findings import Finding

FileContent = str | bytes
M = TypeVar("M", SkillManifest, SubagentManifest, McpServerManifest, DeclaredScope)

DEFAULT_SKILL: dict[str, Any] = {
    "name": "pdf-report",
    "description": "Extracts tables from PDF reports. Use when asked for figures from a PDF.",
}
DEFAULT_SKILL_BODY = "# PDF report\n\nSummarise the tables in the PDF the user gives you.\n"

DEFAULT_SUBAGENT: dict[str, Any] = {
    "name": "code-reviewer",
    "description": "Reviews diffs for bugs and style problems. Use after code changes.",
    "tools": "Read, Grep, Glob",
}
DEFAULT_SUBAGENT_BODY = "You are a careful code reviewer. Point out bugs first.\n"

DEFAULT_SERVER: dict[str, Any] = {
    "name": "io.github.acme/tickets",
    "description": "Search and file tickets in Acme's tracker.",
    "version": "1.2.0",
    "packages": [
        {
            "registryType": "npm",
            "identifier": "@acme/tickets-mcp",
            "version": "1.2.0",
            "transport": {"type": "stdio"},
            "environmentVariables": [
                {"name": "ACME_TOKEN", "isSecret": True, "isRequired": True},
            ],
        }
    ],
}
DEFAULT_TOOLS: list[dict[str, Any]] = [{"name": "search_tickets", "effects": ["read"]}]


def fake_token(length: int, *, seed: int = 7, alphabet: str | None = None) -> str:
    """A deterministic random-looking string (mixed case and digits).

    Tests assemble credentials from a prefix and this, so no credential-shaped literal
    sits in the repository for other scanners to trip over.
    """
    chars = alphabet or string.ascii_letters + string.digits
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a real secret
    while True:
        token = "".join(rng.choice(chars) for _ in range(length))
        has_all = (
            any(c.isupper() for c in token)
            and any(c.islower() for c in token)
            and any(c.isdigit() for c in token)
        )
        if has_all or alphabet is not None:
            return token


def skill(
    *,
    frontmatter: Mapping[str, Any] | None = None,
    body: str = DEFAULT_SKILL_BODY,
    files: Mapping[str, FileContent] | None = None,
    executable: Iterable[str] = (),
    folder: str = "pdf-report",
    problems: Iterable[Finding] = (),
) -> ParsedAsset:
    """A skill folder: SKILL.md with the given frontmatter and body, plus other files."""
    data = dict(DEFAULT_SKILL if frontmatter is None else frontmatter)
    text, field_lines, body_line = _markdown(data, body)
    bundle = _bundle(folder, {"SKILL.md": text, **(files or {})}, executable=executable)
    return ParsedAsset(
        kind=AssetKind.SKILL,
        bundle=bundle,
        manifest_file="SKILL.md",
        manifest=_validate(SkillManifest, data),
        frontmatter=data,
        body=body,
        body_line=body_line,
        field_lines=field_lines,
        problems=list(problems),
    )


def subagent(
    *,
    frontmatter: Mapping[str, Any] | None = None,
    body: str = DEFAULT_SUBAGENT_BODY,
    file_name: str = "code-reviewer.md",
) -> ParsedAsset:
    """A subagent: one Markdown file with frontmatter."""
    data = dict(DEFAULT_SUBAGENT if frontmatter is None else frontmatter)
    text, field_lines, body_line = _markdown(data, body)
    return ParsedAsset(
        kind=AssetKind.SUBAGENT,
        bundle=Bundle(
            root_name=file_name, files=(BundleFile(file_name, text.encode()),), single_file=True
        ),
        manifest_file=file_name,
        manifest=_validate(SubagentManifest, data),
        frontmatter=data,
        body=body,
        body_line=body_line,
        field_lines=field_lines,
    )


def mcp_server(
    *,
    server: Mapping[str, Any] | None = None,
    tools: list[dict[str, Any]] | None = DEFAULT_TOOLS,
    files: Mapping[str, FileContent] | None = None,
    problems: Iterable[Finding] = (),
) -> ParsedAsset:
    """An MCP server folder: server.json, and scope.yaml unless ``tools`` is None."""
    data = dict(DEFAULT_SERVER if server is None else server)
    text = json.dumps(data, indent=2) + "\n"
    field_lines = {
        match[1]: number
        for number, line in enumerate(text.split("\n"), start=1)
        if (match := re.match(r'^  "([^"]+)":', line))
    }
    contents: dict[str, FileContent] = {"server.json": text, **(files or {})}
    scope = None
    if tools is not None:
        scope_text = yaml.safe_dump({"tools": tools}, sort_keys=False)
        contents["scope.yaml"] = scope_text
        items = [n for n, line in enumerate(scope_text.split("\n"), 1) if line.startswith("- ")]
        field_lines.update({f"tools[{index}]": line for index, line in enumerate(items)})
        scope = _validate(DeclaredScope, {"tools": tools})
    return ParsedAsset(
        kind=AssetKind.MCP_SERVER,
        bundle=_bundle("tickets", contents),
        manifest_file="server.json",
        manifest=_validate(McpServerManifest, data),
        scope=scope,
        frontmatter=data,
        field_lines=field_lines,
        problems=list(problems),
    )


def _markdown(data: Mapping[str, Any], body: str) -> tuple[str, dict[str, int], int]:
    """Render ``---`` frontmatter ``---`` body; return the text, key lines and body line."""
    front = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True) if data else ""
    front_lines = front.split("\n")[:-1] if front else []
    field_lines = {
        match[1]: number
        for number, line in enumerate(front_lines, start=2)
        if (match := re.match(r"^([^\s:'\"-][^:]*):", line))
    }
    text = "---\n" + front + "---\n" + body
    return text, field_lines, len(front_lines) + 3


def _bundle(
    root: str, files: Mapping[str, FileContent], *, executable: Iterable[str] = ()
) -> Bundle:
    runnable = set(executable)
    return Bundle(
        root_name=root,
        files=tuple(
            BundleFile(
                path, content.encode() if isinstance(content, str) else content, path in runnable
            )
            for path, content in sorted(files.items())
        ),
    )


def _validate(model: type[M], data: Mapping[str, Any]) -> M | None:
    try:
        return model.model_validate(dict(data))
    except ValidationError:
        return None
