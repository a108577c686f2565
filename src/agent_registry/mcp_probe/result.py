"""What one live probe of an MCP server saw, as plain data the registry can store."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class ProbeOutcome(StrEnum):
    """How a probe ended; anything but ``ok`` means the tool list is not to be trusted."""

    OK = "ok"
    TIMEOUT = "timeout"
    FAILED = "failed"
    OUTPUT_CAPPED = "output-capped"


class ToolHints(BaseModel):
    """A tool's MCP annotations: hints the server gives about what the tool does.

    Hints are claims, not guarantees; the comparison holds them against the effects the
    owner declared, because a server that calls a tool destructive while its owner calls
    it read-only is wrong about one of the two.
    """

    title: str | None = None
    read_only_hint: bool | None = None
    destructive_hint: bool | None = None
    idempotent_hint: bool | None = None
    open_world_hint: bool | None = None


class ExposedTool(BaseModel):
    """One tool the server listed in ``tools/list``.

    Attributes:
        name: The tool name clients call.
        title: Display name, when given.
        description: What the server tells the model the tool does.
        input_schema: JSON Schema of the arguments.
        annotations: Behaviour hints, when given.
    """

    name: str
    title: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] = Field(default_factory=dict)
    annotations: ToolHints | None = None


class ProbeResult(BaseModel):
    """What a probe found out about a running server.

    Attributes:
        outcome: How the probe ended.
        server_name: ``serverInfo.name`` from ``initialize``.
        server_version: ``serverInfo.version`` from ``initialize``.
        protocol_version: The protocol version the server agreed to.
        tools: The tools listed; complete only when ``outcome`` is ``ok``.
        error: What went wrong, in one short line; never holds environment values.
        stderr_excerpt: The start of what the server wrote to stderr.
        exit_code: The server's exit status, when it ended before being killed or after.
        stdout_bytes: Bytes read from the server's stdout.
        duration_seconds: Wall time from start to clean-up.
    """

    outcome: ProbeOutcome
    server_name: str | None = None
    server_version: str | None = None
    protocol_version: str | None = None
    tools: list[ExposedTool] = Field(default_factory=list)
    error: str | None = None
    stderr_excerpt: str = ""
    exit_code: int | None = None
    stdout_bytes: int = 0
    duration_seconds: float = 0.0
