"""Probe one MCP asset end to end: resolve the launch, run the probe, compare."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.evals.findings import Finding
from agent_registry.mcp_probe.compare import compare_probe, not_probed_finding
from agent_registry.mcp_probe.fingerprint import ToolFingerprint, fingerprint_tools
from agent_registry.mcp_probe.launch import NotProbeable, resolve_launch
from agent_registry.mcp_probe.result import ProbeOutcome
from agent_registry.mcp_probe.run import probe


async def probe_asset(
    asset: ParsedAsset,
    *,
    bundle_dir: Path,
    timeout: float,  # noqa: ASYNC109 - bounds the server, whose clean-up outlives it
    max_output_bytes: int,
    baseline: list[ToolFingerprint] | None,
    extra_path: Iterable[str | Path] = (),
) -> tuple[list[Finding], list[ToolFingerprint]]:
    """Start the asset's server, check what it exposes and fingerprint its tools.

    Args:
        asset: A parsed MCP server asset.
        bundle_dir: Where its bundle is unpacked; the server's working directory.
        timeout: Seconds the server gets to start and list its tools.
        max_output_bytes: Most bytes the server may write to stdout.
        baseline: Fingerprints stored from an earlier probe of the same content, to
            detect drift; None when there is none yet.
        extra_path: Directories added to the probe PATH (e.g. where ``uvx`` lives).

    Returns:
        The findings, and the fingerprints of the exposed tools (empty unless the
        probe finished, so that a partial listing is never stored as a baseline).
    """
    launch = resolve_launch(asset, extra_path=extra_path)
    if isinstance(launch, NotProbeable):
        return [not_probed_finding(asset, launch)], []
    result = await probe(
        launch, bundle_dir=bundle_dir, timeout=timeout, max_output_bytes=max_output_bytes
    )
    fingerprints = fingerprint_tools(result.tools) if result.outcome is ProbeOutcome.OK else []
    findings = compare_probe(asset, launch, result, fingerprints=fingerprints, baseline=baseline)
    return findings, fingerprints
