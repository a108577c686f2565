"""How to start an MCP server for the live probe, decided from the parsed asset alone.

Only stdio servers are started: a hosted server would have to be called over the
network with credentials the registry does not hold. Everything runs inside the sandbox
(:mod:`~agent_registry.mcp_probe.sandbox`), which sees the system directories and
nothing of the worker, so a command is resolved there:

* ``python`` (or ``python3``) gets a venv of its own, with the server's pinned PyPI
  packages from ``server.json`` installed; never the worker's interpreter;
* a PyPI or npm package runs from an install of that exact version in the probe cache
  (:mod:`~agent_registry.mcp_probe.runtime`), made before the sandbox starts, since the
  sandbox has no network; an unpinned package is not run, because "latest" is not what
  was reviewed and cannot be cached;
* any other bare name is looked up on the system directories; a path with a slash is
  taken relative to the unpacked bundle, the server's working directory.
"""

from __future__ import annotations

import os
import re
import shutil

from pydantic import BaseModel, Field

from agent_registry.assets.manifests import McpPackage, McpServerManifest
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.mcp_probe.runtime import RuntimeNeed
from agent_registry.mcp_probe.sandbox import SANDBOX_PATH

SYSTEM_PATH = SANDBOX_PATH
"""The directories a bare command is looked up in: the sandbox's own PATH."""

PYTHON_COMMANDS = frozenset({"python", "python3"})
"""Launch commands that mean "a Python interpreter": each probe venv provides one."""

# PEP 508 project names; anything else is not looked up as a console script, so that
# an identifier cannot name a path ("../x") or an option ("--from=…").
_PYPI_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_NPM_NAME = re.compile(r"^(@[a-z0-9~][a-z0-9._~-]*/)?[a-z0-9~][a-z0-9._~-]*$")
# An exact version: no ranges, no wildcards, no tags such as "latest".
_EXACT_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+_-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LaunchSpec(BaseModel):
    """A resolved way to start one stdio server.

    Attributes:
        command: What runs inside the sandbox: an absolute path, a path with a slash
            taken relative to the unpacked bundle, or (with ``runtime``) the command the
            installed runtime provides, filled in by :meth:`with_runtime`.
        args: Arguments after the command.
        env: Non-secret variables the server is given on top of the probe's own.
        search_path: The PATH the server gets inside the sandbox.
        runtime: What must be installed into the probe cache before it starts.
        runtime_dirs: Installed runtime folders bound read-only into the sandbox.
        source: Where the launch came from, for messages (``the launch in scope.yaml``…).
        source_field: Key path of that place (``launch``, ``packages[0]``).
        expected_version: The version ``initialize`` should report, when declared.
        expected_version_field: ``server.json`` key path of that version.
    """

    command: str
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    search_path: list[str] = Field(default_factory=lambda: list(SYSTEM_PATH))
    runtime: RuntimeNeed | None = None
    runtime_dirs: list[str] = Field(default_factory=list)
    source: str
    source_field: str
    expected_version: str | None = None
    expected_version_field: str | None = None

    def with_runtime(self, root: str, command: str, bin_dir: str) -> LaunchSpec:
        """The same launch once its runtime is installed at ``root``."""
        return self.model_copy(
            update={
                "command": command,
                "runtime_dirs": [root],
                "search_path": [bin_dir, *SYSTEM_PATH],
            }
        )


class NotProbeable(BaseModel):
    """Why a server cannot be started by the probe.

    Attributes:
        reason: One sentence a submitter understands.
        field: Key path of the entry the reason is about, when there is one.
    """

    reason: str
    field: str | None = None


def resolve_launch(asset: ParsedAsset) -> LaunchSpec | NotProbeable:
    """Decide how to start the server of an MCP asset.

    An explicit ``launch`` in ``scope.yaml`` wins; otherwise the first ``packages[]``
    entry with stdio transport is run the way a client would run it.

    Args:
        asset: A parsed MCP server asset.

    Returns:
        The launch spec, or why the server cannot be probed.
    """
    server = asset.mcp_server
    if server is None:
        return NotProbeable(reason="server.json did not validate, so there is nothing to start")
    if asset.scope is not None and asset.scope.launch is not None:
        launch = asset.scope.launch
        runtime: RuntimeNeed | None = None
        if launch.command in PYTHON_COMMANDS:
            packages = _python_packages(server)
            if isinstance(packages, NotProbeable):
                return packages
            runtime = RuntimeNeed(kind="python", packages=packages)
            command = launch.command
        else:
            found = _find_command(launch.command)
            if found is None:
                return NotProbeable(
                    reason=f"the launch command '{launch.command}' is not on the sandbox's "
                    f"PATH ({os.pathsep.join(SYSTEM_PATH)}); ship it in the bundle and "
                    "start it by a relative path (./server), or use python",
                    field="launch.command",
                )
            command = found
        return LaunchSpec(
            command=command,
            args=list(launch.args),
            env=dict(launch.env),
            runtime=runtime,
            source="the launch in scope.yaml",
            source_field="launch",
            expected_version=server.version,
            expected_version_field="version",
        )
    return _package_launch(server)


def _python_packages(server: McpServerManifest) -> list[str] | NotProbeable:
    """The pinned PyPI packages of ``server.json``: what a ``python`` launch's venv holds."""
    packages: list[str] = []
    for index, package in enumerate(server.packages):
        if package.registry_type != "pypi":
            continue
        pinned = _pinned(package, index)
        if isinstance(pinned, NotProbeable):
            return pinned
        packages.append(pinned)
    return packages


def _pinned(package: McpPackage, index: int) -> str | NotProbeable:
    """``name==version`` / ``name@version`` of a package, or why it cannot be installed."""
    field = f"packages[{index}]"
    identifier, version = package.identifier, package.version
    pypi = package.registry_type == "pypi"
    if not (_PYPI_NAME if pypi else _NPM_NAME).match(identifier):
        kind = "a PyPI project" if pypi else "an npm package"
        return NotProbeable(reason=f"'{identifier}' is not {kind} name", field=field)
    if not version or not _EXACT_VERSION.match(version):
        return NotProbeable(
            reason=f"{identifier} is not pinned to an exact version, so the probe cannot "
            "install what was reviewed",
            field=f"{field}.version",
        )
    return f"{identifier}=={version}" if pypi else f"{identifier}@{version}"


def _package_launch(server: McpServerManifest) -> LaunchSpec | NotProbeable:
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
    if package.registry_type not in ("pypi", "npm"):
        return NotProbeable(
            reason=f"{package.registry_type} packages are not run by the probe (only pypi and npm)",
            field=field,
        )
    pinned = _pinned(package, index)
    if isinstance(pinned, NotProbeable):
        return pinned
    kind = "pypi" if package.registry_type == "pypi" else "npm"
    entry = package.identifier.rsplit("/", 1)[-1]
    return LaunchSpec(
        command=entry,
        env=_package_env(package),
        runtime=RuntimeNeed(kind=kind, packages=[pinned], entry=entry),
        source=f"{package.registry_type} package {package.identifier}, server.json {field}",
        source_field=field,
        expected_version=package.version,
        expected_version_field=f"{field}.version",
    )


def _package_env(package: McpPackage) -> dict[str, str]:
    """Non-secret variables with a value or default; secrets are never given."""
    env: dict[str, str] = {}
    for variable in package.environment_variables:
        value = variable.value if variable.value is not None else variable.default
        usable = _ENV_NAME.match(variable.name) and "\x00" not in (value or "")
        if usable and not variable.is_secret and value is not None:
            env[variable.name] = value
    return env


def _find_command(command: str) -> str | None:
    """A bare name is looked up on the system directories; a path is kept for the bundle."""
    if "/" in command:
        return command
    return shutil.which(command, path=os.pathsep.join(SYSTEM_PATH))
