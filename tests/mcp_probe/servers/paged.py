"""A bare JSON-RPC server that lists its tools over several pages.

With ``loop`` as argument it hands out the same cursor forever, as a broken server
might. It also prints a log line on stdout, which a client must skip.
"""

from __future__ import annotations

import json
import sys

PAGES = {None: ("p1", ["alpha", "beta"]), "p1": ("p2", ["gamma"]), "p2": (None, ["delta"])}
LOOP = sys.argv[1:] == ["loop"]


def answer(request_id: object, result: dict[str, object]) -> None:
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}) + "\n")
    sys.stdout.flush()


print("paged server ready", flush=True)
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    if message["method"] == "initialize":
        answer(
            message["id"],
            {
                "protocolVersion": message["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "paged", "version": "0.3.0"},
            },
        )
    elif message["method"] == "tools/list":
        cursor = (message.get("params") or {}).get("cursor")
        next_cursor, names = ("p1", ["alpha"]) if LOOP else PAGES[cursor]
        tools = [
            {"name": name, "description": f"The {name} tool.", "inputSchema": {"type": "object"}}
            for name in names
        ]
        result: dict[str, object] = {"tools": tools}
        if next_cursor is not None:
            result["nextCursor"] = next_cursor
        answer(message["id"], result)
