"""How to start an MCP server for the live probe, decided from the parsed asset alone.

Only stdio servers are started: a hosted server would have to be called over the
network with credentials the registry does not hold. The command is looked up on the
*probe PATH* (the worker's own interpreter directory, then the system directories), never
on the worker's PATH, so what runs does not depend on how the worker was started.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from agent_registry.assets.manifests import McpPackage, McpServerManifest
from agent_registry.assets.parsed import ParsedAsset

SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
"""System directories on the probe PATH, after the interpreter's own directory."""

# PEP 508 project names; anything else is not looked up as a console script, so that
# an identifier cannot name a path ("../x") or an option ("--from=…").
_PYPI_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_NPM_NAME = re.compile(r"^(@[a-z0-9~][a-z0-9._~-]*/)?[a-z0-9~][a-z0-9._~-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LaunchSpec(BaseModel):
    """A resolved way to start one stdio server.

    Attributes:
        command: Absolute path of the executable, or a path with a slash that is taken
            relative to the unpacked bundle (the working directory).
        args: Arguments after the command.
        env: Non-secret variables the server is given on top of the probe's own.
        search_path: The probe PATH the command was resolved on; the server gets it too.
        source: Where the launch came from, for messages (``the launch in scope.yaml``…).
        source_field: Key path of that place (``launch``, ``packages[0]``).
        expected_version: The version ``initialize`` should report, when declared.
        expected_version_field: ``server.json`` key path of that version.
    """

    command: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    search_path: list[str] = Field(default_factory=list)
    source: str
    source_field: str
    expected_version: str | None = None
    expected_version_field: str | None = None


class NotProbeable(BaseModel):
    """Why a server cannot be started by the probe.

    Attributes:
        reason: One sentence a submitter understands.
        field: Key path of the entry the reason is about, when there is one.
    """

    reason: str
    field: str | None = None


def probe_path(extra_path: Iterable[str | Path] = ()) -> list[str]:
    """The directories the probe looks commands up in, in order.

    The running interpreter's directory comes first, so ``python`` is the worker's own
    interpreter and console scripts installed beside it are found; caller-supplied
    directories come last, so they can add commands but not shadow these.

    Args:
        extra_path: More directories to search, e.g. where ``uvx`` or ``npx`` live.

    Returns:
        Directories, without duplicates.
    """
    dirs = [str(Path(sys.executable).parent), *SYSTEM_PATH, *(str(d) for d in extra_path)]
    return list(dict.fromkeys(d for d in dirs if d))


def resolve_launch(
    asset: ParsedAsset, *, extra_path: Iterable[str | Path] = ()
) -> LaunchSpec | NotProbeable:
    """Decide how to start the server of an MCP asset.

    An explicit ``launch`` in ``scope.yaml`` wins; otherwise the first ``packages[]``
    entry with stdio transport is run the way a client would run it.

    Args:
        asset: A parsed MCP server asset.
        extra_path: Directories added to the probe PATH.

    Returns:
        The launch spec, or why the server cannot be probed.
    """
    server = asset.mcp_server
    if server is None:
        return NotProbeable(reason="server.json did not validate, so there is nothing to start")
    search = probe_path(extra_path)
    if asset.scope is not None and asset.scope.launch is not None:
        launch = asset.scope.launch
        command = _find_command(launch.command, search)
        if command is None:
            return NotProbeable(
                reason=f"the launch command '{launch.command}' is not on the probe PATH "
                f"({os.pathsep.join(search)})",
                field="launch.command",
            )
        return LaunchSpec(
            command=command,
            args=list(launch.args),
            env=dict(launch.env),
            search_path=search,
            source="the launch in scope.yaml",
            source_field="launch",
            expected_version=server.version,
            expected_version_field="version",
        )
    return _package_launch(server, search)


def _package_launch(server: McpServerManifest, search: list[str]) -> LaunchSpec | NotProbeable:
    stdio = [
        (index, package)
        for index, package in enumerate(server.packages)
        if package.transport.type == "stdio"
    ]
    if not stdio:
        if server.remotes or server.packages:
            return NotProbeable(
                reason="the server is reached over HTTP only (no stdio package), and the "
                "probe runs stdio servers only",
                field="remotes" if server.remotes else "packages",
            )
        return NotProbeable(reason="server.json lists no package to run", field="packages")
    index, package = stdio[0]
    field = f"packages[{index}]"
    command_args = _package_command(package, search)
    if isinstance(command_args, str):
        return NotProbeable(reason=command_args, field=field)
    command, args = command_args
    return LaunchSpec(
        command=command,
        args=args,
        env=_package_env(package),
        search_path=search,
        source=f"{package.registry_type} package {package.identifier}, server.json {field}",
        source_field=field,
        expected_version=package.version,
        expected_version_field=f"{field}.version" if package.version else None,
    )


def _package_command(package: McpPackage, search: list[str]) -> tuple[str, list[str]] | str:
    """The command and arguments for a package, or why there is none."""
    identifier = package.identifier
    if package.registry_type == "pypi":
        if not _PYPI_NAME.match(identifier):
            return f"'{identifier}' is not a PyPI project name"
        script = shutil.which(identifier, path=os.pathsep.join(search))
        if script is not None:
            return script, []
        uvx = shutil.which("uvx", path=os.pathsep.join(search))
        if uvx is not None:
            pinned = f"{identifier}=={package.version}" if package.version else identifier
            return uvx, [pinned]
        return (
            f"neither the console script '{identifier}' nor uvx is on the probe PATH "
            f"({os.pathsep.join(search)})"
        )
    if package.registry_type == "npm":
        if not _NPM_NAME.match(identifier):
            return f"'{identifier}' is not an npm package name"
        npx = shutil.which("npx", path=os.pathsep.join(search))
        if npx is None:
            return f"npx is not on the probe PATH ({os.pathsep.join(search)})"
        pinned = f"{identifier}@{package.version}" if package.version else identifier
        return npx, ["-y", pinned]
    return f"{package.registry_type} packages are not run by the probe (only pypi and npm)"


def _package_env(package: McpPackage) -> dict[str, str]:
    """Non-secret variables with a value or default; secrets are never given."""
    env: dict[str, str] = {}
    for variable in package.environment_variables:
        value = variable.value if variable.value is not None else variable.default
        usable = _ENV_NAME.match(variable.name) and "\x00" not in (value or "")
        if usable and not variable.is_secret and value is not None:
            env[variable.name] = value
    return env


def _find_command(command: str, search: list[str]) -> str | None:
    """A bare name is looked up on the probe PATH; a path is kept for the bundle dir."""
    if "/" in command:
        return command
    return shutil.which(command, path=os.pathsep.join(search))
