"""Probe a parsed MCP asset from synchronous code: unpack its bundle, run, clean up.

The probe activity runs in a worker thread and ``agentreg validate`` is a plain command;
both need the probe as one blocking call with the bundle written to a private
temporary folder that is gone afterwards, whatever the server did.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.unpack import write_bundle
from agent_registry.mcp_probe.fingerprint import ToolFingerprint
from agent_registry.mcp_probe.sandbox import SandboxLimits
from agent_registry.mcp_probe.verify import ProbeReport, probe_asset_report
from agent_registry.policy.model import ProbePolicy
from agent_registry.vocabulary.findings import Finding

SYSTEM_CACHE_DIR = Path("/var/cache/agent-registry/probe")
"""The probe cache of a root worker: outside root's home, which the sandbox user (to
whom the worker drops before starting bubblewrap) could not traverse."""


def default_cache_dir() -> Path:
    """The probe cache: :data:`SYSTEM_CACHE_DIR` for root, else the user's cache folder."""
    if os.geteuid() == 0:
        return SYSTEM_CACHE_DIR
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "agent-registry" / "probe"


def sandbox_limits(rules: ProbePolicy) -> SandboxLimits:
    """The policy's probe limits as the sandbox's kernel limits."""
    return SandboxLimits(
        memory_bytes=rules.memory, cpu_seconds=rules.cpu_seconds, processes=rules.processes
    )


def probe_bundle(
    asset: ParsedAsset,
    rules: ProbePolicy,
    *,
    baseline: list[ToolFingerprint] | None,
    cache_dir: Path | None = None,
) -> tuple[list[Finding], list[ToolFingerprint]]:
    """:func:`probe_bundle_report` without the server's stderr (the inline probe)."""
    report = probe_bundle_report(asset, rules, baseline=baseline, cache_dir=cache_dir)
    return report.findings, report.fingerprints


def probe_bundle_report(
    asset: ParsedAsset,
    rules: ProbePolicy,
    *,
    baseline: list[ToolFingerprint] | None,
    cache_dir: Path | None = None,
) -> ProbeReport:
    """Start the asset's server from its own bundle and compare it with ``scope.yaml``.

    Args:
        asset: A parsed MCP server asset.
        rules: The policy's probe limits.
        baseline: Fingerprints from the first probe of the same bundle, if any.
        cache_dir: The probe cache; :func:`default_cache_dir` when None.

    Returns:
        The probe's findings, the fingerprints of the tools it listed, and its masked
        stderr for reviewers.
    """
    with tempfile.TemporaryDirectory(prefix="agentreg-probe-") as folder:
        bundle_dir = Path(folder) / "bundle"
        bundle_dir.mkdir()
        write_bundle(asset.bundle, bundle_dir)
        return asyncio.run(
            probe_asset_report(
                asset,
                bundle_dir=bundle_dir,
                timeout=rules.timeout.total_seconds(),
                max_output_bytes=rules.max_output_bytes,
                baseline=baseline,
                cache_dir=cache_dir or default_cache_dir(),
                limits=sandbox_limits(rules),
            )
        )
