"""Probe sandbox cost: the live MCP probe with the bubblewrap sandbox against without it.

Every MCP server submission is probed on a probe worker; the sandbox (namespaces, the
read-only filesystem, kernel limits, the bundle copy that makes it reachable) is paid on
each probe. This times :func:`agent_registry.mcp_probe.run.probe` end to end (start,
``initialize``, every ``tools/list`` page, stop) for the bundled example server
(``examples/mcp-servers/time``, a pinned PyPI package) and an SDK server shipped in its
bundle and started by ``launch: {command: python}`` (the tests' notes server), the same
number of times with and without the sandbox, alternating, after one unmeasured run of
each. The runtimes are installed into the probe cache first and not timed.

Run as ``.venv/bin/python -m bench.probe_sandbox [--repeats N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.mcp_probe.launch import LaunchSpec
from agent_registry.mcp_probe.result import ProbeOutcome
from agent_registry.mcp_probe.run import probe
from agent_registry.mcp_probe.sandbox import sandbox_problem
from bench.report import REPO, Figure, ms, percentile, write_section
from tests.mcp_probe.support import READ_TOOLS, bundled_server, prepared_launch

TARGET = 0.150
"""What the sandbox may add to a probe at p50."""

TIMEOUT = 30.0


async def _timed(launch: LaunchSpec, folder: Path, *, sandboxed: bool) -> float:
    started = time.perf_counter()
    result = await probe(
        launch, bundle_dir=folder, timeout=TIMEOUT, max_output_bytes=4 << 20, sandboxed=sandboxed
    )
    elapsed = time.perf_counter() - started
    if result.outcome is not ProbeOutcome.OK:
        raise SystemExit(f"probe of {folder} failed (sandboxed={sandboxed}): {result.error}")
    return elapsed


async def _measure(launch: LaunchSpec, folder: Path, repeats: int) -> tuple[list[float], ...]:
    for sandboxed in (True, False):
        await _timed(launch, folder, sandboxed=sandboxed)
    inside: list[float] = []
    outside: list[float] = []
    for _ in range(repeats):
        inside.append(await _timed(launch, folder, sandboxed=True))
        outside.append(await _timed(launch, folder, sandboxed=False))
    return inside, outside


def main() -> None:
    """Measure, print and write the section of docs/performance.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    arguments = parser.parse_args()
    problem = sandbox_problem()
    if problem is not None:
        raise SystemExit(f"the probe sandbox cannot be created here: {problem}")
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as scratch:
        notes_dir = Path(scratch) / "notes"
        servers = [
            ("time (PyPI package)", REPO / "examples" / "mcp-servers" / "time"),
            ("notes (python launch)", notes_dir),
        ]
        bundled_server(notes_dir, "notes.py", tools=READ_TOOLS)
        for label, folder in servers:
            asset = load_path(folder, limits=BundleLimits())
            launch = prepared_launch(asset)
            inside, outside = asyncio.run(_measure(launch, folder, arguments.repeats))
            added = percentile(inside, 0.5) - percentile(outside, 0.5)
            figures += [
                Figure(f"{label}: without sandbox, p50", ms(percentile(outside, 0.5))),
                Figure(f"{label}: without sandbox, p99", ms(percentile(outside, 0.99))),
                Figure(f"{label}: in sandbox, p50", ms(percentile(inside, 0.5))),
                Figure(f"{label}: in sandbox, p99", ms(percentile(inside, 0.99))),
                Figure(
                    f"{label}: added by the sandbox, p50",
                    ms(added),
                    f"< {ms(TARGET)}",
                    added < TARGET,
                ),
            ]
    command = ".venv/bin/python -m bench.probe_sandbox"
    if arguments.repeats != 30:
        command += f" --repeats {arguments.repeats}"
    notes = (
        f"Each server probed {arguments.repeats} times in the sandbox and {arguments.repeats} "
        "times without, alternating, after one unmeasured run of each; a probe is start, "
        "`initialize`, `tools/list` and stop, as the probe worker runs it "
        "(`mcp_probe.run.probe`). *Without sandbox* runs the same command unconfined (a "
        "mode only this benchmark uses). The sandbox adds `setpriv`, bubblewrap's namespace "
        "and mount set-up, `prlimit` and the copy of the bundle into a folder the sandbox "
        "user can reach; installing the pinned packages into the probe cache happens once "
        "per version and is not timed."
    )
    write_section(
        "probe_sandbox",
        title="Probe sandbox cost: the live MCP probe with and without bubblewrap",
        command=command,
        figures=figures,
        notes=notes,
    )


if __name__ == "__main__":
    main()
