"""A ``scope.yaml`` proposed from what a live probe saw, for the submitter to confirm.

An imported server comes with no declared scope, and the registry still requires one:
the declaration is the owner's word that reviewers hold the server to. The import
proposes it from the probe's findings, the tools the server really exposes, each with
the effects the MCP specification assumes of a tool that makes no claims (it may
write, delete and reach the network). The proposal starts with :data:`MARKER`; the
submitter narrows the effects to what each tool does and deletes that line to confirm,
and nothing is submitted while it is there.
"""

from __future__ import annotations

from collections.abc import Iterable

import yaml

MARKER = (
    "# PROPOSED by agentreg import mcp: check every tool and its effects, "
    "then delete this line to confirm."
)
"""First line of a proposal; its absence is the submitter's confirmation."""

UNCLAIMED_EFFECTS = ("write", "delete", "network")
"""What the MCP specification's annotation defaults assume of a tool that claims nothing:
not read-only, destructive, open-world."""


def proposal(server: str, tools: Iterable[str], *, note: str | None = None) -> str:
    """The proposed ``scope.yaml`` text for ``server``.

    Args:
        server: The server name, for the comment.
        tools: Names of the tools the probe saw the server expose.
        note: Why the list may be incomplete (the probe did not run), when it may.

    Returns:
        YAML text starting with :data:`MARKER`.
    """
    names = sorted(set(tools))
    lines = [
        MARKER,
        f"# The tools the live probe saw {server} expose, each with the effects the MCP",
        "# specification assumes of a tool that makes no claims. Narrow each to what the",
        "# tool really does (read, write, delete, exec, network).",
    ]
    if note:
        lines.append(f"# Note: {note}")
    body = yaml.safe_dump(
        {"tools": [{"name": name, "effects": list(UNCLAIMED_EFFECTS)} for name in names]},
        sort_keys=False,
        default_flow_style=None,
    )
    return "\n".join(lines) + "\n" + body


def carried(scope_text: str, *, source_ref: str) -> str:
    """A confirmed scope carried to a new upstream version, saying where it came from."""
    body = "\n".join(line for line in scope_text.splitlines() if line.strip() != MARKER)
    header = (
        f"# Carried from {source_ref}, whose scope was confirmed; the live probe checks\n"
        "# this version against it, and any tool it does not declare blocks the eval.\n"
    )
    return header + body.rstrip("\n") + "\n"


def is_confirmed(scope_text: str) -> bool:
    """Whether the submitter confirmed the scope (the proposal marker is gone)."""
    return all(line.strip() != MARKER for line in scope_text.splitlines())
