"""An MCP server that prints a credential and its host's name to stderr at start-up.

What reviewers need to see and the submitter must not: a token in a known format (the
probe masks it) and text naming the machine it ran on (kept for reviewers, who judge
it, but never put into findings or notices). With ``--fail`` it exits right after.
"""

from __future__ import annotations

import hashlib
import sys

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations


def planted_token() -> str:
    """A GitHub-token-shaped string, made at run time so the bundle's secret scan passes.

    tests/mcp_probe/test_reviewer_output.py makes the same string to look for it.
    """
    return "ghp_" + hashlib.sha256(b"planted").hexdigest()[:36]


HOST_TEXT = "connected from build-host-7f3a.corp.acme.internal as svc-notes"

sys.stderr.write(f"debug: using GITHUB_TOKEN={planted_token()}\n{HOST_TEXT}\n")
sys.stderr.flush()
if "--fail" in sys.argv[1:]:
    sys.exit(3)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False)
server = MCPServer("notes", version="1.0.0")


@server.tool(description="Search notes by text.", annotations=READ_ONLY)
def search_notes(query: str) -> list[str]:
    """Notes whose text contains the query."""
    return [query]


@server.tool(description="Read one note by id.", annotations=READ_ONLY)
def get_note(note_id: int) -> str:
    """The note's text."""
    return str(note_id)


if __name__ == "__main__":
    server.run()
