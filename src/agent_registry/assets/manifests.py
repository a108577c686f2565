"""Manifest models for the three asset kinds, following their public formats.

The models validate the public rules (Agent Skills ``SKILL.md`` frontmatter, Claude Code
subagent frontmatter, MCP ``server.json``) so that an asset the registry accepts drops
straight into Claude Code. Registry-only data (owner team, version, attribution) lives in
:class:`RegistryMetadata`, never inside the public formats' required fields.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from agent_registry.assets.refs import is_semver

SKILL_NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
"""Agent Skills ``name``: lowercase letters, digits and single inner hyphens."""

RESERVED_SKILL_WORDS = ("anthropic", "claude")
"""Words a skill name may not contain: Claude refuses to load such skills."""

SUBAGENT_NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
"""Claude Code subagent ``name``: lowercase letters (digits allowed) and hyphens."""

MCP_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$")
"""MCP registry ``name``: reverse-DNS namespace, a slash, then the server name."""

TEAM_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
"""Owner team slug, as used in search attributes and reports."""


def _split_tools(value: object) -> object:
    """Accept tools as a list or as the comma/space separated string both formats allow."""
    if isinstance(value, str):
        return [part for part in re.split(r"[,\s]+(?![^()]*\))", value) if part]
    return value


ToolList = Annotated[list[str], BeforeValidator(_split_tools)]


class SkillManifest(BaseModel):
    """``SKILL.md`` frontmatter of an Agent Skill (agentskills.io specification)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    license: str | None = None
    compatibility: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    allowed_tools: ToolList | None = Field(default=None, alias="allowed-tools")

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not SKILL_NAME_PATTERN.match(value):
            raise ValueError(
                "must be lowercase letters, digits and hyphens, with no leading, trailing "
                "or double hyphen"
            )
        reserved = next((word for word in RESERVED_SKILL_WORDS if word in value), None)
        if reserved is not None:
            raise ValueError(
                f"must not contain the reserved word '{reserved}' (Claude refuses such skills)"
            )
        return value

    @field_validator("description")
    @classmethod
    def _description_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata_strings(cls, value: object) -> object:
        """The spec says string to string; YAML turns ``1.0`` and ``true`` into other types."""
        if isinstance(value, dict):
            bad = [k for k, v in value.items() if not isinstance(v, str)]
            if bad:
                raise ValueError(
                    f"values must be strings; quote the value of {', '.join(map(str, bad))}"
                )
        return value


class PermissionMode(StrEnum):
    """Claude Code subagent ``permissionMode`` values."""

    DEFAULT = "default"
    ACCEPT_EDITS = "acceptEdits"
    AUTO = "auto"
    DONT_ASK = "dontAsk"
    BYPASS_PERMISSIONS = "bypassPermissions"
    PLAN = "plan"


_MODEL_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/\[\]-]{0,127}$")
"""What a model value looks like: one token (an alias such as ``opusplan`` or
``sonnet[1m]``, or a full model id). Which aliases exist is Claude Code's to say and
changes with every release, so no list is kept here: where the client is installed, its
own validator judges the value (:mod:`agent_registry.evals.client`)."""


class SubagentManifest(BaseModel):
    """Frontmatter of a Claude Code subagent definition (``.claude/agents/<name>.md``).

    ``tools`` left out means the subagent inherits every tool of the main thread; that
    is legal, and the scope checks report it.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    tools: ToolList | None = None
    disallowed_tools: ToolList | None = Field(default=None, alias="disallowedTools")
    model: str | None = None
    permission_mode: PermissionMode | None = Field(default=None, alias="permissionMode")
    max_turns: Annotated[int, Field(ge=1)] | None = Field(default=None, alias="maxTurns")
    skills: list[str] | None = None
    mcp_servers: list[str] | dict[str, object] | None = Field(default=None, alias="mcpServers")
    hooks: dict[str, object] | None = None

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not SUBAGENT_NAME_PATTERN.match(value):
            raise ValueError("must be lowercase letters, digits and hyphens, e.g. code-reviewer")
        return value

    @field_validator("description")
    @classmethod
    def _description_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str | None) -> str | None:
        if value is None or _MODEL_SHAPE.match(value):
            return value
        raise ValueError("must be a model alias (e.g. sonnet, opus) or a full model id, one word")


class Effect(StrEnum):
    """What an MCP tool may do to the world; the basis of least-privilege scoping."""

    READ = "read"
    WRITE = "write"
    DELETE = "delete"
    EXEC = "exec"
    NETWORK = "network"


class McpEnvironmentVariable(BaseModel):
    """An environment variable a server needs; secrets are declared, never given."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: Annotated[str, StringConstraints(min_length=1)]
    description: str | None = None
    is_required: bool = Field(default=False, alias="isRequired")
    is_secret: bool = Field(default=False, alias="isSecret")
    default: str | None = None
    value: str | None = None
    format: str | None = None


class McpTransport(BaseModel):
    """How a client talks to a package's server process."""

    model_config = ConfigDict(extra="allow")

    type: Literal["stdio", "streamable-http", "sse"]
    url: str | None = None


class McpPackage(BaseModel):
    """A package a client installs and runs (npm, PyPI, OCI, NuGet, MCPB)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    registry_type: Literal["npm", "pypi", "oci", "nuget", "mcpb"] = Field(alias="registryType")
    registry_base_url: str | None = Field(default=None, alias="registryBaseUrl")
    identifier: Annotated[str, StringConstraints(min_length=1)]
    version: str | None = None
    transport: McpTransport
    runtime_hint: str | None = Field(default=None, alias="runtimeHint")
    environment_variables: list[McpEnvironmentVariable] = Field(
        default_factory=list, alias="environmentVariables"
    )

    @field_validator("version")
    @classmethod
    def _exact_version(cls, value: str | None) -> str | None:
        if value is not None and not is_exact_version(value):
            raise ValueError(
                f"'{value}' is not an exact version; pin one release (no ranges, no "
                "'latest', no unexpanded ${VARIABLE})"
            )
        return value


class McpRemote(BaseModel):
    """A hosted server reached over HTTP."""

    model_config = ConfigDict(extra="allow")

    type: Literal["streamable-http", "sse"]
    url: Annotated[str, StringConstraints(pattern=r"^https?://")]


class McpServerManifest(BaseModel):
    """An MCP ``server.json`` entry (the official MCP registry format)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    description: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    title: str | None = None
    website_url: str | None = Field(default=None, alias="websiteUrl")
    packages: list[McpPackage] = Field(default_factory=list)
    remotes: list[McpRemote] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _namespaced(cls, value: str) -> str:
        if not MCP_NAME_PATTERN.match(value):
            raise ValueError(
                "must be namespace/name in reverse-DNS form, e.g. io.github.acme/tickets"
            )
        return value

    @field_validator("version")
    @classmethod
    def _exact_version(cls, value: str) -> str:
        if not is_exact_version(value):
            raise ValueError(
                f"'{value}' is not an exact version; pin one release (no ranges, no "
                "'latest', no unexpanded ${VARIABLE})"
            )
        return value


class DeclaredTool(BaseModel):
    """One tool an MCP server may expose, with the effects the owner declares for it.

    An empty ``effects`` list parses, so that the scope check can report it with the
    tool's line instead of a bare validation error.
    """

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    effects: list[Effect] = Field(default_factory=list)
    description: str | None = None

    @field_validator("effects", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


LAUNCH_RESERVED_ENV = frozenset({"PATH", "HOME", "TMPDIR"})
"""Variables the live probe sets itself, so that a launch cannot widen its sandbox."""

_ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _no_nul(value: str) -> str:
    """A NUL byte cannot pass through ``exec``; refusing it here names the field."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


class DeclaredLaunch(BaseModel):
    """How to start a stdio MCP server, when its package entry is not how it runs.

    The command runs with the unpacked bundle as its working directory, so
    ``command: python, args: [server.py]`` starts a server shipped in the bundle. The
    probe runs it in its sandbox, where ``python`` is a venv of its own (with the pinned
    PyPI packages of ``server.json``) and any other bare name is looked up in the system
    directories. ``env`` holds non-secret settings only: it is part of the bundle,
    which every reviewer reads.
    """

    model_config = ConfigDict(extra="forbid")

    command: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    args: list[Annotated[str, StringConstraints(max_length=4096)]] = Field(default_factory=list)
    env: dict[str, Annotated[str, StringConstraints(max_length=4096)]] = Field(default_factory=dict)

    @field_validator("command")
    @classmethod
    def _command_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return _no_nul(value)

    @field_validator("args")
    @classmethod
    def _args_text(cls, value: list[str]) -> list[str]:
        return [_no_nul(arg) for arg in value]

    @field_validator("env", mode="before")
    @classmethod
    def _env_strings(cls, value: object) -> object:
        """YAML reads ``8080`` and ``true`` as numbers and booleans; say which to quote."""
        if isinstance(value, dict):
            bad = [str(k) for k, v in value.items() if not isinstance(v, str)]
            if bad:
                raise ValueError(f"values must be strings; quote the value of {', '.join(bad)}")
        return value

    @field_validator("env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = sorted(LAUNCH_RESERVED_ENV.intersection(value))
        if reserved:
            raise ValueError(
                f"{', '.join(reserved)} cannot be set: the probe sets PATH, HOME and TMPDIR"
            )
        bad = [name for name in value if not _ENV_NAME_PATTERN.match(name)]
        if bad:
            raise ValueError(
                f"{', '.join(bad)} is not a variable name (letters, digits and underscores)"
            )
        for item in value.values():
            _no_nul(item)
        return value


class DeclaredScope(BaseModel):
    """The registry's least-privilege declaration for an MCP server (``scope.yaml``).

    Attributes:
        tools: Every tool the server may expose, with its effects.
        launch: How to start the server for the live probe, when the first stdio
            package entry of ``server.json`` is not how it runs (a server shipped in
            the bundle, a package whose command differs from its name).
    """

    model_config = ConfigDict(extra="forbid")

    tools: list[DeclaredTool]
    launch: DeclaredLaunch | None = None


Manifest = SkillManifest | SubagentManifest | McpServerManifest


_RANGE_MARKERS = re.compile(r"[\^~<>=*|xX ]|^latest$", re.IGNORECASE)
_TEMPLATE_MARKERS = re.compile(r"[${}<>%]")
"""The MCP Registry refuses versions that are templates (``${VERSION}``, ``{{v}}``)."""


def is_exact_version(version: str) -> bool:
    """Tell whether a package version pins exactly one release.

    Semver is preferred, but PyPI and OCI versions are not always semver, so anything
    without range syntax or ``latest`` counts as exact.
    """
    if _TEMPLATE_MARKERS.search(version):
        return False  # an unexpanded ${VERSION} or {{version}} names no release at all
    if is_semver(version):
        return True
    return bool(version) and not _RANGE_MARKERS.search(version) and version.lower() != "latest"


class FalsePositiveMark(BaseModel):
    """A finding the submitter says is a false positive, and why.

    Written under ``false-positives`` in the registry sidecar (or SKILL.md's
    ``metadata``). A mark never deletes a finding: a matched finding is shown as
    ``info`` with the reason so that reviewers can judge it, and only checks that policy
    calls markable (heuristics, not well-known key formats) can be marked at all.

    Attributes:
        check: Check id of the finding, e.g. ``secrets.high-entropy``.
        file: Bundle path of the finding's file, e.g. ``scripts/fixtures.py``.
        line: The finding's line; without it the mark covers every finding of
            ``check`` in ``file``.
        reason: Why the finding is not a problem, for reviewers.
        source_file: Where the mark is written (``agentreg.yaml``, ``SKILL.md``), so that
            a mark matching nothing can be pointed at. Set by the reader, not the submitter.
        source_line: The mark's line in ``source_file``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: Annotated[
        str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=200)
    ]
    file: Annotated[
        str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=1024)
    ]
    line: Annotated[int, Field(strict=True, ge=1)] | None = None
    reason: Annotated[
        str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=500)
    ]
    source_file: str | None = None
    source_line: int | None = None

    @field_validator("file")
    @classmethod
    def _bundle_path(cls, value: str) -> str:
        """Findings name files as ``scripts/x.py``; ``./scripts/x.py`` means the same."""
        while value.startswith("./"):
            value = value[2:]
        if not value or value.startswith("/") or "\\" in value or ".." in value.split("/"):
            raise ValueError("must be a path inside the bundle, like scripts/fixtures.py")
        return value


class RegistryMetadata(BaseModel):
    """What the registry records about a submission beyond the asset's own format.

    Attributes:
        owner_team: Team slug that owns the asset and answers for it.
        version: Exact semantic version of this asset version.
        changelog: One line on what changed.
        authors: People (or identities) who wrote it.
        machine_authored: Whether the content was written by a machine (attribution).
        false_positives: Findings the submitter marked as false positives. They travel
            with the submission because the sidecar that holds them is not part of the
            stored bundle.
    """

    owner_team: Annotated[str, StringConstraints(pattern=TEAM_PATTERN.pattern)]
    version: str
    changelog: str = ""
    authors: list[str] = Field(default_factory=list)
    machine_authored: bool = False
    false_positives: list[FalsePositiveMark] = Field(default_factory=list)

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not is_semver(value):
            raise ValueError(f"'{value}' is not an exact semantic version like 1.2.0")
        return value


class RegistryMetadataDraft(BaseModel):
    """Registry metadata as found in the asset or its sidecar; any field may be missing."""

    owner_team: str | None = None
    version: str | None = None
    changelog: str | None = None
    authors: list[str] | None = None
    machine_authored: bool | None = None
    false_positives: list[FalsePositiveMark] | None = None
