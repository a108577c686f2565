"""The checks that need the outside world: the live MCP probe and reuse before rebuild.

The check families are pure; these two are not (one starts a process, the other reads
the published catalog), so the worker's eval activity and ``agentreg validate`` gather
their findings here and hand them to :func:`agent_registry.evals.runner.evaluate`,
which judges them with the same policy as everything else. The probe always runs in the
sandbox; in a lifecycle it runs on a probe worker (:mod:`activities.probe`), and the eval
activity asks for it here only for lifecycles started before probe workers existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.client import client_findings, find_client
from agent_registry.lifecycle.contract import SimilarAsset
from agent_registry.mcp_probe.fingerprint import ToolFingerprint
from agent_registry.policy.model import Policy
from agent_registry.reuse.findings import reuse_findings, similar_assets
from agent_registry.reuse.index import SimilarityIndex
from agent_registry.vocabulary.findings import Finding


@dataclass
class LiveChecks:
    """What the outside-world checks found.

    Attributes:
        findings: Probe and reuse findings, with the severities their checks propose.
        similar: Published look-alikes, closest first.
        fingerprints: The MCP tools the probe listed (empty unless it ran to the end).
    """

    findings: list[Finding] = field(default_factory=list)
    similar: list[SimilarAsset] = field(default_factory=list)
    fingerprints: list[ToolFingerprint] = field(default_factory=list)


def run_live_checks(
    asset: ParsedAsset,
    policy: Policy,
    *,
    catalog: SimilarityIndex | None,
    baseline: list[ToolFingerprint] | None,
    probe: bool = True,
    cache_dir: Path | None = None,
    client: bool = True,
) -> LiveChecks:
    """Probe an MCP server (when policy and the caller allow) and look for look-alikes.

    Args:
        asset: The parsed asset; its bundle is what the probe starts.
        policy: Probe limits and reuse thresholds.
        catalog: The published catalog's index; None when it cannot be read (the reuse
            check is then skipped, which only ever loses a warning).
        baseline: Tool fingerprints from the first probe of the same bundle.
        probe: False to skip the probe whatever policy says (``validate --no-probe``
            and the eval activity, which leaves the probe to the probe workers).
        cache_dir: The probe cache (package installs, venvs); the user's default when None.
        client: False to skip Claude Code's own validator even where it is installed.

    Returns:
        The findings, look-alikes and fingerprints.
    """
    live = LiveChecks()
    is_server = asset.kind is AssetKind.MCP_SERVER and asset.mcp_server is not None
    if is_server and probe and policy.probe.enabled:
        # Imported here: the MCP SDK takes most of a second to load, and only a probe
        # needs it (every other CLI command and check would pay for it otherwise).
        from agent_registry.mcp_probe.local import probe_bundle

        found, fingerprints = probe_bundle(
            asset, policy.probe, baseline=baseline, cache_dir=cache_dir
        )
        live.findings.extend(found)
        live.fingerprints = fingerprints
    if catalog is not None:
        live.similar = similar_assets(asset, catalog, policy.reuse)
        live.findings.extend(reuse_findings(live.similar))
    claude = find_client() if client else None
    if claude is not None:
        live.findings.extend(client_findings(asset, claude))
    return live
