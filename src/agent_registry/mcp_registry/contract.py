"""The scheduled import's wire contract: workflow and activity names and their models.

The registry server (``POST /api/v1/mcp-watches``, what ``agentreg import mcp --watch``
sends) creates a Temporal Schedule that starts :data:`MCP_IMPORT_WORKFLOW` with
:class:`McpImportInput`; the worker runs it. Both sides use these names and models, and
nothing here imports Temporal or the database.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

from agent_registry.vocabulary.principal import Principal

MCP_IMPORT_WORKFLOW = "McpImport"
PLAN_ACTIVITY = "plan_mcp_import"
SUBMIT_ACTIVITY = "submit_mcp_import"


class McpImportInput(BaseModel):
    """What one scheduled import watches and who submits what it finds.

    Attributes:
        upstream: The upstream registry's base URL.
        names: The servers watched.
        team: The owner team of the submissions (None: the team that owns the name).
        submitter: The watcher's email, for people reading the schedule in the UI.
        principal: Who set up the watch, as the registry server verified them; the
            submissions are theirs. None only in schedules made before watches went
            through the server: their ``submitter`` was a claimed name, and the worker
            refuses to submit on it.
    """

    upstream: str
    names: list[str] = Field(min_length=1)
    team: str | None = None
    submitter: str
    principal: Principal | None = None


class UpstreamPick(BaseModel):
    """One new upstream version to submit, with the version whose scope it carries."""

    name: str
    version: str
    scope_from: str = Field(description="kind/name@version whose confirmed scope is carried")


class ImportPlan(BaseModel):
    """What one run will submit, and what it will not, with why."""

    picks: list[UpstreamPick] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class SubmitPickInput(BaseModel):
    """One pick to submit: fetched again from upstream, with the carried scope.

    ``principal`` is the watcher the server verified (see :class:`McpImportInput`).
    """

    upstream: str
    pick: UpstreamPick
    team: str | None = None
    submitter: str
    principal: Principal | None = None


class ImportOutcome(BaseModel):
    """What became of one pick."""

    name: str
    version: str
    status: Literal["submitted", "already-submitted", "failed"]
    message: str = ""


class McpImportResult(BaseModel):
    """A run's outcomes and notes: the workflow's result, shown in the Temporal UI."""

    outcomes: list[ImportOutcome] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def schedule_id(upstream: str, names: list[str]) -> str:
    """The schedule watching ``names`` at ``upstream``: the same watch, the same id."""
    key = "\n".join([upstream.rstrip("/"), *sorted(set(names))])
    return f"mcp-import/{hashlib.sha256(key.encode()).hexdigest()[:16]}"
