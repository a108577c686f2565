"""A well-behaved MCP server: exactly the read tools its scope.yaml declares.

It also writes the environment it was started with to stderr (after ``ENVIRONMENT``),
so a test can check what reached it, and takes the description of
``search_notes`` from ``description.txt`` when present, so a test can change a tool
between two runs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False)

sys.stderr.write("ENVIRONMENT " + json.dumps(dict(os.environ)) + "\n")
sys.stderr.flush()
override = Path("description.txt")
description = override.read_text().strip() if override.exists() else "Search notes by text."

server = MCPServer("notes", version="1.0.0")


@server.tool(description=description, annotations=READ_ONLY)
def search_notes(query: str) -> list[str]:
    """Notes whose text contains the query."""
    return [query]


@server.tool(description="Read one note by id.", annotations=READ_ONLY)
def get_note(note_id: int) -> str:
    """The note's text."""
    return str(note_id)


if __name__ == "__main__":
    server.run()
