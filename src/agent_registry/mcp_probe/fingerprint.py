"""Digests of what a server tells the model about each tool, to notice when it changes.

A tool's description and input schema are what the model reads and acts on, so a
server that changes them after approval changes the agent's behaviour without review
("rug pull"). Each part has its own digest so a drift message can say what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from agent_registry.mcp_probe.result import ExposedTool


class ToolFingerprint(BaseModel):
    """The digests of one exposed tool.

    Attributes:
        name: The tool name.
        digest: SHA-256 (hex) of the canonical JSON of name, description and input
            schema together.
        description_digest: SHA-256 (hex) of the canonical JSON of the description.
        schema_digest: SHA-256 (hex) of the canonical JSON of the input schema.
    """

    name: str
    digest: str
    description_digest: str
    schema_digest: str


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys, no insignificant whitespace and ASCII escapes, as bytes.

    The same data always gives the same bytes, whatever order the server wrote its
    keys in, so only a real change moves a digest.
    """
    # ASCII escapes keep lone surrogates (legal in JSON text) encodable.
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")


def _sha256(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def fingerprint_tool(tool: ExposedTool) -> ToolFingerprint:
    """Fingerprint one tool."""
    return ToolFingerprint(
        name=tool.name,
        digest=_sha256(
            {"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}
        ),
        description_digest=_sha256(tool.description),
        schema_digest=_sha256(tool.input_schema),
    )


def fingerprint_tools(tools: Iterable[ExposedTool]) -> list[ToolFingerprint]:
    """Fingerprint every tool, sorted by name so that equal listings compare equal."""
    return sorted((fingerprint_tool(tool) for tool in tools), key=lambda f: f.name)
