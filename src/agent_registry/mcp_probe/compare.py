"""Hold what a running server exposes against what its owner declared and what was approved.

Pure: a parsed asset, a launch, a probe result and fingerprints in, findings out. The
declared scope (``scope.yaml``) is only worth reviewing if the server keeps to it, so a
tool the scope does not list, a "read" tool the server itself calls destructive, and a
tool that changed since approval all block.
"""

from __future__ import annotations

from agent_registry.assets.kinds import SCOPE_FILE, SERVER_FILE
from agent_registry.assets.manifests import DeclaredTool, Effect
from agent_registry.assets.parsed import ParsedAsset, line_of_path
from agent_registry.mcp_probe.fingerprint import ToolFingerprint
from agent_registry.mcp_probe.launch import LaunchSpec, NotProbeable
from agent_registry.mcp_probe.output import shown
from agent_registry.mcp_probe.result import ExposedTool, ProbeOutcome, ProbeResult
from agent_registry.mcp_probe.sandbox import INSTALL_HINT
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

CATALOG: dict[str, Severity] = {
    "probe.undeclared-tool": Severity.BLOCK,
    "probe.destructive-read-tool": Severity.BLOCK,
    "probe.declared-not-exposed": Severity.WARN,
    "probe.tool-changed": Severity.BLOCK,
    "probe.tool-added": Severity.BLOCK,
    "probe.tool-removed": Severity.WARN,
    "probe.failed": Severity.BLOCK,
    "probe.timeout": Severity.BLOCK,
    "probe.output-capped": Severity.BLOCK,
    "probe.not-probed": Severity.INFO,
    "probe.version-mismatch": Severity.WARN,
    "probe.sandbox-unavailable": Severity.BLOCK,
}
"""Check ids this family raises and the severity each proposes."""

_RUN_LOCALLY = (
    "Run the server's command yourself with no environment variables set (env -i) and "
    "check that it answers initialize and tools/list on stdio; if the package's own "
    "command is not how it starts, add launch: {command: …, args: […]} to scope.yaml."
)


def compare_probe(
    asset: ParsedAsset,
    spec: LaunchSpec,
    result: ProbeResult,
    *,
    fingerprints: list[ToolFingerprint],
    baseline: list[ToolFingerprint] | None,
) -> list[Finding]:
    """Every finding one probe supports.

    The tool checks need the complete list, so they run only after an ``ok`` probe; a
    probe that did not finish gives its own blocking finding instead.

    Args:
        asset: The parsed MCP server asset.
        spec: How the server was started.
        result: What the probe saw.
        fingerprints: Fingerprints of ``result.tools``.
        baseline: Fingerprints approved for the same content earlier, if any.

    Returns:
        The findings.
    """
    if result.outcome is not ProbeOutcome.OK:
        return [outcome_finding(asset, spec, result)]
    findings = [
        *scope_findings(asset, result.tools),
        *version_findings(asset, spec, result),
    ]
    if baseline is not None:
        findings.extend(drift_findings(asset, fingerprints, baseline))
    return findings


def outcome_finding(asset: ParsedAsset, spec: LaunchSpec, result: ProbeResult) -> Finding:
    """The blocking finding of a probe that failed, timed out or was cut off."""
    file, line = _launch_place(asset, spec.source_field)
    # What the server printed is not quoted: findings reach the submitter's notices and
    # Slack, and a server's output is whatever it chose to print.
    error = result.error or "no detail"
    if result.outcome is ProbeOutcome.TIMEOUT:
        return make_finding(
            CATALOG,
            "probe.timeout",
            message=f"the MCP server ({spec.source}) did not answer in time: {error}",
            file=file,
            line=line,
            field=spec.source_field,
            fix="Make the server answer initialize and tools/list within seconds, without "
            "network access or prompts at start-up. " + _RUN_LOCALLY,
        )
    if result.outcome is ProbeOutcome.OUTPUT_CAPPED:
        return make_finding(
            CATALOG,
            "probe.output-capped",
            message=f"the MCP server ({spec.source}) flooded its output: {error}",
            file=file,
            line=line,
            field=spec.source_field,
            fix="Write only JSON-RPC messages to stdout and send logs to stderr; keep the "
            "tool list (names, descriptions, schemas) to a reasonable size.",
        )
    return make_finding(
        CATALOG,
        "probe.failed",
        message=f"the MCP server ({spec.source}) could not be probed: {error}",
        file=file,
        line=line,
        field=spec.source_field,
        fix=_RUN_LOCALLY,
    )


def sandbox_unavailable_finding(asset: ParsedAsset, spec: LaunchSpec, problem: str) -> Finding:
    """The finding of a server not started because no sandbox could be made for it.

    Blocking by default: the probe fails closed. An organization that accepts publishing
    MCP servers nobody ran lowers ``probe.sandbox-unavailable`` in its policy.
    """
    file, line = _launch_place(asset, spec.source_field)
    return make_finding(
        CATALOG,
        "probe.sandbox-unavailable",
        message=f"the MCP server was not started: the probe sandbox is unavailable on the "
        f"probe worker ({problem})",
        file=file,
        line=line,
        field=spec.source_field,
        fix=f"Nothing to change in the bundle; the registry's operators {INSTALL_HINT}, "
        "then the evaluation is run again.",
    )


def probe_not_completed_finding(asset: ParsedAsset, reason: str) -> Finding:
    """The blocking finding of a probe that no probe worker completed (gone, overloaded).

    An MCP server nobody ran has an unverified scope; the submitter can do nothing about
    it, so the fix speaks to the operators, and a revision (or ``agentreg`` re-run of the
    evaluation) tries again.
    """
    return make_finding(
        CATALOG,
        "probe.failed",
        message=f"the live probe of the MCP server did not complete: {reason}",
        file=SERVER_FILE,
        line=None,
        field=None,
        fix="Nothing to change in the bundle if it starts locally; the registry's "
        "operators check that probe workers are running (agentreg-worker --probe), then "
        "the version is submitted again.",
    )


def install_failed_finding(asset: ParsedAsset, spec: LaunchSpec, reason: str) -> Finding:
    """The blocking finding of a server whose pinned packages could not be installed."""
    file, line = _launch_place(asset, spec.source_field)
    return make_finding(
        CATALOG,
        "probe.failed",
        message=f"the MCP server ({spec.source}) could not be installed for the probe: {reason}",
        file=file,
        line=line,
        field=spec.source_field,
        fix="Pin versions that exist and publish wheels (PyPI: the probe installs wheels "
        "only, it never runs a setup.py; npm: install scripts are not run).",
    )


def not_probed_finding(asset: ParsedAsset, reason: NotProbeable) -> Finding:
    """The ``info`` finding of a server the probe did not start, saying why."""
    file, line = _launch_place(asset, reason.field)
    return make_finding(
        CATALOG,
        "probe.not-probed",
        message=f"the MCP server was not started to verify its tools: {reason.reason}",
        file=file,
        line=line,
        field=reason.field,
        fix="Nothing to fix for a hosted server; reviewers check its tools by hand. For a "
        "stdio server, declare launch: {command: …, args: […]} in scope.yaml so that the "
        "registry can start it.",
    )


def scope_findings(asset: ParsedAsset, tools: list[ExposedTool]) -> list[Finding]:
    """Exposed tools against ``scope.yaml``: undeclared, destructive "read", missing."""
    declared = _declared_index(asset)
    findings: list[Finding] = []
    exposed_names: set[str] = set()
    for tool in tools:
        exposed_names.add(tool.name)
        entry = declared.get(tool.name)
        name = shown(tool.name)
        if entry is None:
            findings.append(
                make_finding(
                    CATALOG,
                    "probe.undeclared-tool",
                    message=f"the server exposes tool '{name}', which scope.yaml does not declare",
                    file=SCOPE_FILE,
                    line=asset.line_of("tools"),
                    field="tools",
                    fix=f"Declare '{name}' in scope.yaml with the effects it has "
                    f"(e.g. - name: {name}, effects: [write]), or remove it from the "
                    "server.",
                )
            )
            continue
        index, declared_tool = entry
        contradiction = _destructive_hint(tool, declared_tool)
        if contradiction is not None:
            findings.append(
                make_finding(
                    CATALOG,
                    "probe.destructive-read-tool",
                    message=f"tool '{name}' is declared effects: [read], but the server "
                    f"annotates it {contradiction}",
                    file=SCOPE_FILE,
                    line=line_of_path(asset, f"tools[{index}].effects"),
                    field=f"tools[{index}].effects",
                    fix=f"Declare what '{name}' really does (e.g. effects: [write] or "
                    "[delete]); if it only reads, fix its annotations in the server "
                    "(readOnlyHint: true, destructiveHint: false).",
                )
            )
    for declared_name, (index, _tool) in declared.items():
        if declared_name not in exposed_names:
            name = shown(declared_name)
            findings.append(
                make_finding(
                    CATALOG,
                    "probe.declared-not-exposed",
                    message=f"scope.yaml declares tool '{name}', but the server does not expose it",
                    file=SCOPE_FILE,
                    line=line_of_path(asset, f"tools[{index}]"),
                    field=f"tools[{index}]",
                    fix=f"Remove '{name}' from scope.yaml, or check that the pinned server "
                    "version still has it (and under that exact name).",
                )
            )
    return findings


def version_findings(asset: ParsedAsset, spec: LaunchSpec, result: ProbeResult) -> list[Finding]:
    """The version ``initialize`` reports against the version ``server.json`` pins."""
    expected, reported = spec.expected_version, result.server_version
    if expected is None or reported is None or _same_version(expected, reported):
        return []
    field = spec.expected_version_field
    return [
        make_finding(
            CATALOG,
            "probe.version-mismatch",
            message=f"the server reports version '{shown(reported)}' in initialize, but "
            f"{field or 'server.json'} declares {expected!r}",
            file=SERVER_FILE,
            line=line_of_path(asset, field) if field else None,
            field=field,
            fix="Pin the version that was tested, or make the server report its own "
            "package version (some SDKs report theirs unless given one).",
        )
    ]


def drift_findings(
    asset: ParsedAsset, current: list[ToolFingerprint], baseline: list[ToolFingerprint]
) -> list[Finding]:
    """Tools added, removed or changed since the fingerprints approved for this content."""
    before = {fingerprint.name: fingerprint for fingerprint in baseline}
    now = {fingerprint.name: fingerprint for fingerprint in current}
    findings: list[Finding] = []
    for name, fingerprint in now.items():
        old = before.get(name)
        if old is None:
            findings.append(
                _drift(
                    asset,
                    "probe.tool-added",
                    name,
                    f"tool '{shown(name)}' appeared since it was approved",
                )
            )
        elif old.digest != fingerprint.digest:
            what = _what_changed(old, fingerprint)
            findings.append(
                _drift(
                    asset,
                    "probe.tool-changed",
                    name,
                    f"tool '{shown(name)}' changed its {what} since it was approved",
                )
            )
    for name in before.keys() - now.keys():
        findings.append(
            _drift(
                asset,
                "probe.tool-removed",
                name,
                f"tool '{shown(name)}' is no longer exposed since it was approved",
            )
        )
    return findings


def _drift(asset: ParsedAsset, check_id: str, name: str, message: str) -> Finding:
    index = _declared_index(asset).get(name, (None, None))[0]
    field = "tools" if index is None else f"tools[{index}]"
    return make_finding(
        CATALOG,
        check_id,
        message=message,
        file=SCOPE_FILE,
        line=line_of_path(asset, field),
        field=field,
        fix="The same submitted content now behaves differently: find out why (an "
        "unpinned dependency, tools built from the network or the environment) and "
        "submit a new version so that review sees the change.",
    )


def _what_changed(old: ToolFingerprint, new: ToolFingerprint) -> str:
    parts = []
    if old.description_digest != new.description_digest:
        parts.append("description")
    if old.schema_digest != new.schema_digest:
        parts.append("input schema")
    return " and ".join(parts) or "definition"


def _declared_index(asset: ParsedAsset) -> dict[str, tuple[int, DeclaredTool]]:
    """Declared tools by name, with their index in ``scope.yaml`` (the first, if repeated)."""
    index: dict[str, tuple[int, DeclaredTool]] = {}
    if asset.scope is not None:
        for position, tool in enumerate(asset.scope.tools):
            index.setdefault(tool.name, (position, tool))
    return index


def _destructive_hint(tool: ExposedTool, declared: DeclaredTool) -> str | None:
    """The annotation that contradicts a read-only declaration, or None.

    Only explicit hints count: the protocol's defaults (not read-only, destructive)
    would flag every server that gives no annotations at all.
    """
    if set(declared.effects) != {Effect.READ} or tool.annotations is None:
        return None
    if tool.annotations.destructive_hint is True:
        return "destructiveHint: true"
    if tool.annotations.read_only_hint is False:
        return "readOnlyHint: false"
    return None


def _launch_place(asset: ParsedAsset, field: str | None) -> tuple[str, int | None]:
    """The file and line a launch key path is on: scope.yaml for launch, else server.json."""
    if field is None:
        return SERVER_FILE, None
    file = SCOPE_FILE if field.split(".")[0].split("[")[0] == "launch" else SERVER_FILE
    return file, line_of_path(asset, field)


def _same_version(expected: str, reported: str) -> bool:
    return expected.strip().removeprefix("v") == reported.strip().removeprefix("v")
