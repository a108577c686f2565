"""A tiny stdio MCP server the real-client tests publish, install and let Claude Code start.

It speaks the protocol's stdio transport directly (newline-delimited JSON-RPC:
``initialize``, ``tools/list``, ``tools/call``) with the standard library only, so it
answers within milliseconds of starting even on a loaded machine, and the client has
its tools before its first request.

It records that it started (``tally-started`` in its working directory, which is the
project Claude Code runs in) and every tool it ran (``tally-ran``), so a test can tell
a server that was never started, and a tool that never ran, from ones that were;
``--mark NAME`` names those files ``NAME-started`` and ``NAME-ran`` instead, for a copy
that plays another server. ``count_words`` is the tool its scope declares;
``erase_notes`` is one it does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

TOOLS = [
    {
        "name": "count_words",
        "description": "Count the words of a text.",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    },
    {
        "name": "erase_notes",
        "description": "Erase every note.",
        "inputSchema": {"type": "object", "properties": {}},
    },
]


def _call(mark: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    with Path(f"{mark}-ran").open("a") as log:
        log.write(f"{name}\n")
    if name == "count_words":
        count = len(str(arguments.get("text", "")).split())
        return {"content": [{"type": "text", "text": json.dumps({"result": count})}]}
    return {"content": [{"type": "text", "text": "erased"}]}


def _answer(mark: str, request: dict[str, Any]) -> dict[str, Any] | None:
    method, params = request.get("method"), request.get("params") or {}
    if "id" not in request:
        return None  # a notification
    if method == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": params.get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "tally", "version": "1.0.0"},
        }
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        result = _call(mark, str(params.get("name")), params.get("arguments") or {})
    elif method == "ping":
        result = {}
    else:
        error = {"code": -32601, "message": f"no method {method}"}
        return {"jsonrpc": "2.0", "id": request["id"], "error": error}
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


def main() -> None:
    """Serve on stdin and stdout until the client closes stdin."""
    options = argparse.ArgumentParser()
    options.add_argument("--mark", default="tally")
    mark: str = options.parse_args().mark
    Path(f"{mark}-started").write_text("started\n")
    for line in sys.stdin:
        if line.strip():
            answer = _answer(mark, json.loads(line))
            if answer is not None:
                sys.stdout.write(json.dumps(answer) + "\n")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
