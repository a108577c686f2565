"""The notes server, but it takes ``argv[1]`` seconds to start: an evaluation in flight.

Fault tests use it to act on a worker while its evaluation activity is running.
"""

from __future__ import annotations

import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False)

time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)

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
