"""A tiny stdio MCP server the real-client tests publish, install and let Claude Code start.

It records that it started (``tally-started`` in its working directory, which is the
project Claude Code runs in) and every tool it ran (``tally-ran``), so a test can tell
a server that was never started, and a tool that never ran, from ones that were;
``--mark NAME`` names those files ``NAME-started`` and ``NAME-ran`` instead, for a copy
that plays another server.
``count_words`` is the tool its scope declares; ``erase_notes`` is one it does not.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mcp.server.mcpserver import MCPServer

_options = argparse.ArgumentParser()
_options.add_argument("--mark", default="tally")
MARK: str = _options.parse_args().mark
Path(f"{MARK}-started").write_text("started\n")

server = MCPServer("tally", version="1.0.0")


def _ran(tool: str) -> None:
    with Path(f"{MARK}-ran").open("a") as log:
        log.write(f"{tool}\n")


@server.tool(description="Count the words of a text.")
def count_words(text: str) -> int:
    """How many words ``text`` has."""
    _ran("count_words")
    return len(text.split())


@server.tool(description="Erase every note.")
def erase_notes() -> str:
    """Undeclared in the scope: the guard must stop it before it runs."""
    _ran("erase_notes")
    return "erased"


if __name__ == "__main__":
    server.run()
