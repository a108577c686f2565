"""How Claude Code starts a registry MCP server: its ``.mcp.json`` entry, in one place.

Install, the marketplace export and the managed-settings allowlist must describe the
same process, or an allowlist entry would not match what was installed. The entry
follows Claude Code's documented ``.mcp.json`` format
(https://code.claude.com/docs/en/mcp, "Project scope" and "Environment variable
expansion"): a stdio server is ``type``/``command``/``args``/``env``, a remote one is
``type`` (``http`` or ``sse``) and ``url``; ``${VAR}`` is expanded from the user's
environment, which is how secrets stay out of the file.

Choice, in order: the ``launch`` of ``scope.yaml`` (the server ships in the bundle, or
its command differs from its package), a stdio PyPI or npm package pinned to its
version, a remote endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_registry.assets.bundle import Bundle
from agent_registry.assets.manifests import (
    DeclaredLaunch,
    McpEnvironmentVariable,
    McpPackage,
    McpRemote,
    McpServerManifest,
)
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.distribution.errors import UnsupportedServerError

PROJECT_SERVERS_DIR = ".claude/mcp-servers"
"""The project folder that holds copies of bundle-shipped MCP servers, one per key."""

_REMOTE_TYPES = {"streamable-http": "http", "sse": "sse"}
"""MCP registry transport names and the ``type`` Claude Code reads for them."""


@dataclass(frozen=True)
class McpLaunch:
    """One server's ``.mcp.json`` entry and what an allowlist matches it by.

    Attributes:
        entry: The value under the server's key in ``mcpServers``.
        ships_bundle: True when the entry runs files of the bundle, which must be copied
            to ``bundle_root`` first.
        server_command: ``[command, *args]`` of a stdio entry, as ``serverCommand``
            allowlist entries compare it.
        server_url: The URL of a remote entry, as ``serverUrl`` entries compare it.
    """

    entry: dict[str, object]
    ships_bundle: bool = False
    server_command: tuple[str, ...] | None = None
    server_url: str | None = None


def mcp_launch(parsed: ParsedAsset, *, bundle_root: str) -> McpLaunch:
    """The entry that runs the MCP server in ``parsed``.

    Args:
        parsed: The server's bundle, parsed (``server.json`` and ``scope.yaml``).
        bundle_root: Where the bundle's files will be, as Claude Code should read the
            path (``${CLAUDE_PROJECT_DIR:-.}/.claude/mcp-servers/time``); used only when
            the server runs from its bundle.

    Returns:
        The launch.

    Raises:
        UnsupportedServerError: No launch, stdio PyPI/npm package or remote endpoint.
    """
    manifest = parsed.mcp_server
    if manifest is None:
        raise UnsupportedServerError(
            f"{parsed.bundle.root_name}: server.json does not validate, so there is "
            "nothing to launch"
        )
    if parsed.scope is not None and parsed.scope.launch is not None:
        return _from_launch(parsed.scope.launch, parsed.bundle, bundle_root=bundle_root)
    package = next((p for p in manifest.packages if _runnable(p)), None)
    if package is not None:
        return _from_package(package, manifest)
    remote = next(iter(manifest.remotes), None)
    if remote is not None:
        return _from_remote(remote)
    kinds = ", ".join(f"{p.registry_type} ({p.transport.type})" for p in manifest.packages)
    raise UnsupportedServerError(
        f"{manifest.name} has no launch in scope.yaml, no stdio PyPI or npm package and no "
        f"remote endpoint (it has: {kinds or 'nothing'}); Claude Code cannot start it"
    )


def _runnable(package: McpPackage) -> bool:
    return package.transport.type == "stdio" and package.registry_type in {"pypi", "npm"}


def _from_package(package: McpPackage, manifest: McpServerManifest) -> McpLaunch:
    version = package.version or manifest.version
    if package.registry_type == "pypi":
        command, args = "uvx", [f"{package.identifier}=={version}"]
    else:
        command, args = "npx", ["-y", f"{package.identifier}@{version}"]
    entry: dict[str, object] = {"type": "stdio", "command": command, "args": args}
    env = _package_env(package.environment_variables)
    if env:
        entry["env"] = env
    return McpLaunch(entry=entry, server_command=(command, *args))


def _package_env(variables: list[McpEnvironmentVariable]) -> dict[str, str]:
    """Declared variables: fixed or default values, and ``${NAME}`` for the rest.

    A secret is never written, only referenced, so the file can be committed. A required
    variable without a default is referenced too, so the user's environment supplies it;
    an optional one without a default is left out (an unset ``${NAME}`` would reach the
    server as the literal text).
    """
    env: dict[str, str] = {}
    for variable in variables:
        fixed = variable.value if variable.value is not None else variable.default
        if variable.is_secret:
            env[variable.name] = f"${{{variable.name}}}"
        elif fixed is not None:
            env[variable.name] = fixed
        elif variable.is_required:
            env[variable.name] = f"${{{variable.name}}}"
    return env


def _from_remote(remote: McpRemote) -> McpLaunch:
    entry: dict[str, object] = {"type": _REMOTE_TYPES[remote.type], "url": remote.url}
    return McpLaunch(entry=entry, server_url=remote.url)


def _from_launch(launch: DeclaredLaunch, bundle: Bundle, *, bundle_root: str) -> McpLaunch:
    """The declared launch, with paths into the bundle pointed at its installed copy.

    The probe runs a launch with the unpacked bundle as its working directory; Claude
    Code starts a project's servers from the project instead, so every command or
    argument naming a file or folder of the bundle is rewritten under ``bundle_root``.
    """
    files = {f.path for f in bundle.files}
    folders = {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}

    def located(value: str) -> str:
        relative = value[2:] if value.startswith("./") else value
        if relative in files or relative in folders:
            return f"{bundle_root}/{relative}"
        return value

    command = located(launch.command)
    args = [located(arg) for arg in launch.args]
    entry: dict[str, object] = {"type": "stdio", "command": command, "args": args}
    if launch.env:
        entry["env"] = dict(launch.env)
    return McpLaunch(entry=entry, ships_bundle=True, server_command=(command, *args))


def project_bundle_root(key: str) -> str:
    """Where install copies a bundle-shipped server, as ``.mcp.json`` refers to it.

    Claude Code does not set ``CLAUDE_PROJECT_DIR`` in its own environment, so the
    documented form with a default is used; it resolves against the project the server
    is started in.
    """
    return f"${{CLAUDE_PROJECT_DIR:-.}}/{PROJECT_SERVERS_DIR}/{key}"
