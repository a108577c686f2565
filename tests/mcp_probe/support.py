"""Asset folders around the test servers, loaded with the real loader."""

from __future__ import annotations

import json
import os
import shutil
import time
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.mcp_probe.launch import LaunchSpec, resolve_launch
from agent_registry.mcp_probe.local import default_cache_dir
from agent_registry.mcp_probe.runtime import ensure_runtime
from agent_registry.mcp_probe.sandbox import sandbox_problem

if TYPE_CHECKING:
    from agent_registry.mcp_probe.fingerprint import ToolFingerprint
    from agent_registry.vocabulary.findings import Finding

SERVERS = Path(__file__).parent / "servers"
HOSTILE = Path(__file__).parent / "hostile"

MCP_PACKAGE = {
    "registryType": "pypi",
    "identifier": "mcp",
    "version": installed_version("mcp"),
    "transport": {"type": "stdio"},
}
"""The MCP SDK the test servers import: their venv in the sandbox installs this version."""

CACHE = default_cache_dir()
"""The probe cache the tests share across runs: installs are made once per version."""

CAP = 1024 * 1024
"""The output cap the probe tests give a server: far above what a well-behaved one writes."""

_PROBLEM = sandbox_problem()
needs_sandbox = pytest.mark.skipif(
    _PROBLEM is not None,
    reason=f"the probe sandbox cannot be created here: {_PROBLEM} "
    "(.ci/run installs bubblewrap; apt-get install bubblewrap)",
)
"""Marks a test that starts a server: without bubblewrap the probe refuses to."""

READ_TOOLS: list[dict[str, Any]] = [
    {"name": "search_notes", "effects": ["read"]},
    {"name": "get_note", "effects": ["read"]},
]


def bundled_server(
    folder: Path,
    script: str,
    *,
    tools: list[dict[str, Any]],
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    version: str = "1.0.0",
    sdk: bool = True,
    source: Path = SERVERS,
    install: bool = True,
) -> ParsedAsset:
    """An MCP server folder shipping ``script`` as server.py, started by scope.yaml's launch.

    With ``sdk`` its server.json declares the MCP SDK, so its venv in the sandbox has it
    (installed in the probe cache before this returns, unless ``install`` is off for a
    test that only reads the folder); the hostile servers use the standard library only.
    """
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / script, folder / "server.py")
    server: dict[str, Any] = {
        "name": "io.github.acme/notes",
        "description": "Search and read the team's notes.",
        "version": version,
    }
    if sdk:
        server["packages"] = [MCP_PACKAGE]
    (folder / "server.json").write_text(json.dumps(server, indent=2) + "\n")
    launch: dict[str, Any] = {"command": "python", "args": ["server.py", *(args or [])]}
    if env:
        launch["env"] = env
    scope = {"tools": tools, "launch": launch}
    (folder / "scope.yaml").write_text(yaml.safe_dump(scope, sort_keys=False))
    (folder / "agentreg.yaml").write_text("owner-team: platform\n")
    asset = load_path(folder, limits=BundleLimits())
    if sdk and install:
        # Install the SDK's runtime into the shared cache now, as a worker that probed it
        # before would have it: on a fresh machine the first probe would otherwise spend
        # many seconds in pip, and the tests that time a probe (a drain's window, a kill
        # mid-probe, a probe timeout) would be timing the install instead.
        prepared_launch(asset)
    return asset


def process_gone(pid: int) -> bool:
    """No such process, or only a zombie left for an absent init to reap."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def processes_with(marker: str) -> list[int]:
    """Live processes whose command line holds ``marker`` (zombies do not count)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                text = cmdline.read().decode("utf-8", "replace")
        except OSError:
            continue
        if marker in text and not process_gone(int(entry)) and int(entry) != os.getpid():
            found.append(int(entry))
    return found


GONE_WITHIN = 5.0
"""How long a killed server's processes may outlive the probe that killed them."""


def wait_gone(marker: str) -> list[int]:
    """The processes holding ``marker`` that are still alive after up to ``GONE_WITHIN``.

    The server runs in bubblewrap's PID namespace, which the kernel tears down only after
    the killed bubblewrap itself has exited, so on a loaded machine its processes may
    still be dying for a moment when the probe returns.
    """
    deadline = time.monotonic() + GONE_WITHIN
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def prepared_launch(asset: ParsedAsset) -> LaunchSpec:
    """The asset's launch with its runtime installed, ready for :func:`run.probe`."""
    launch = resolve_launch(asset)
    assert isinstance(launch, LaunchSpec), launch
    if launch.runtime is None:
        return launch
    runtime = ensure_runtime(launch.runtime, CACHE)
    return launch.with_runtime(runtime.root, runtime.command, runtime.bin_dir)


async def probe_server(
    asset: ParsedAsset,
    folder: Path,
    *,
    timeout: float,
    max_output_bytes: int = CAP,
    baseline: list[ToolFingerprint] | None = None,
) -> tuple[list[Finding], list[ToolFingerprint]]:
    """Probe ``asset`` unpacked in ``folder`` as the tests do: the shared install cache."""
    # Imported here: the MCP SDK takes most of a second to load, and not every test
    # using these folders starts a server.
    from agent_registry.mcp_probe.verify import probe_asset_report

    report = await probe_asset_report(
        asset,
        bundle_dir=folder,
        timeout=timeout,
        max_output_bytes=max_output_bytes,
        baseline=baseline,
        cache_dir=CACHE,
    )
    return report.findings, report.fingerprints
