"""A parsed asset: bundle, manifest and the places of its fields, ready for the checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_registry.assets.bundle import Bundle
from agent_registry.assets.manifests import (
    DeclaredScope,
    Manifest,
    McpServerManifest,
    RegistryMetadataDraft,
    SkillManifest,
    SubagentManifest,
)
from agent_registry.assets.refs import AssetKind
from agent_registry.vocabulary.findings import Finding


@dataclass
class ParsedAsset:
    """Everything the eval bar needs to know about one submitted asset.

    Attributes:
        kind: The asset kind.
        bundle: The files.
        manifest_file: Bundle path of the manifest (``SKILL.md``, ``<name>.md``, ``server.json``).
        manifest: The validated manifest, or None when it did not validate (see ``problems``).
        scope: The declared MCP tool scope (``scope.yaml``), MCP servers only.
        frontmatter: The raw frontmatter mapping (or ``server.json`` object) as parsed.
        body: The Markdown body after the frontmatter (empty for MCP servers).
        body_line: 1-based line in ``manifest_file`` where the body starts.
        field_lines: Manifest key path to the 1-based line it is on: a top-level key as
            written (``name``, ``allowed-tools``), a nested key after a dot
            (``metadata.version``), a list item by 0-based index (``packages[0]``,
            ``packages[0].transport.type``). For MCP servers the ``scope.yaml`` paths
            (``tools``, ``tools[2]``, ``tools[2].effects``) are lines in ``scope.yaml``,
            the others lines in ``server.json``.
        problems: Spec problems found while parsing (malformed YAML, invalid fields, …).
        registry_metadata: Registry metadata found in the asset or its sidecar.
    """

    kind: AssetKind
    bundle: Bundle
    manifest_file: str
    manifest: Manifest | None
    scope: DeclaredScope | None = None
    frontmatter: dict[str, object] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    field_lines: dict[str, int] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)
    registry_metadata: RegistryMetadataDraft = field(default_factory=RegistryMetadataDraft)

    @property
    def name(self) -> str | None:
        """The asset's name from its manifest, when it validated."""
        return None if self.manifest is None else self.manifest.name

    @property
    def skill(self) -> SkillManifest | None:
        """The manifest if this is a valid skill."""
        return self.manifest if isinstance(self.manifest, SkillManifest) else None

    @property
    def subagent(self) -> SubagentManifest | None:
        """The manifest if this is a valid subagent."""
        return self.manifest if isinstance(self.manifest, SubagentManifest) else None

    @property
    def mcp_server(self) -> McpServerManifest | None:
        """The manifest if this is a valid MCP server entry."""
        return self.manifest if isinstance(self.manifest, McpServerManifest) else None

    def line_of(self, key: str) -> int | None:
        """Line of a manifest key path (see ``field_lines``), when known."""
        return self.field_lines.get(key)


def line_of_path(asset: ParsedAsset, path: str) -> int | None:
    """The line of a key path such as ``packages[0].environmentVariables[1].value``.

    The loader records nested key paths when it can; when the exact path is unknown, the
    nearest enclosing one still points the submitter at the right block.
    """
    candidate = path
    while candidate:
        line = asset.line_of(candidate)
        if line is not None:
            return line
        cut = max(candidate.rfind("."), candidate.rfind("["))
        candidate = candidate[:cut] if cut > 0 else ""
    return None
