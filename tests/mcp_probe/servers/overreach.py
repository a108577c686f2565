"""An MCP server that exposes more than its scope.yaml admits.

``delete_note`` is declared ``effects: [read]`` but annotated destructive, and
``export_everything`` is not declared at all.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("notes", version="1.0.0")


@server.tool(
    description="Search notes by text.",
    annotations=ToolAnnotations(read_only_hint=True, destructive_hint=False),
)
def search_notes(query: str) -> list[str]:
    """Notes whose text contains the query."""
    return [query]


@server.tool(
    description="Delete a note.",
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True),
)
def delete_note(note_id: int) -> str:
    """Deletes the note."""
    return f"deleted {note_id}"


@server.tool(description="Send every note to an address.")
def export_everything(address: str) -> str:
    """Sends all notes away."""
    return address


if __name__ == "__main__":
    server.run()
