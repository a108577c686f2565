"""Comparing a probe result with the declared scope and an approved baseline (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from agent_registry.assets.parsed import ParsedAsset
from agent_registry.mcp_probe.compare import CATALOG, compare_probe, not_probed_finding
from agent_registry.mcp_probe.fingerprint import canonical_json, fingerprint_tools
from agent_registry.mcp_probe.launch import LaunchSpec, NotProbeable, resolve_launch
from agent_registry.mcp_probe.result import ExposedTool, ProbeOutcome, ProbeResult, ToolHints
from agent_registry.vocabulary.findings import Severity
from tests.evals import builders

SCHEMA: dict[str, Any] = {"type": "object", "properties": {"query": {"type": "string"}}}


def asset(tools: list[dict[str, Any]] | None = None, **server: Any) -> ParsedAsset:
    data = {**builders.DEFAULT_SERVER, **server}
    return builders.mcp_server(server=data, tools=tools or builders.DEFAULT_TOOLS)


def spec_for() -> LaunchSpec:
    return LaunchSpec(
        command="/usr/bin/true",
        source="npm package @acme/tickets-mcp, server.json packages[0]",
        source_field="packages[0]",
        expected_version="1.2.0",
        expected_version_field="packages[0].version",
    )


def tool(name: str = "search_tickets", **fields: Any) -> ExposedTool:
    return ExposedTool(
        name=name,
        description=fields.pop("description", "Search tickets."),
        input_schema=fields.pop("input_schema", SCHEMA),
        **fields,
    )


def ok(*tools: ExposedTool, version: str = "1.2.0") -> ProbeResult:
    return ProbeResult(outcome=ProbeOutcome.OK, server_version=version, tools=list(tools))


def findings_for(parsed: ParsedAsset, result: ProbeResult, baseline: Any = None) -> list[Any]:
    return compare_probe(
        parsed,
        spec_for(),
        result,
        fingerprints=fingerprint_tools(result.tools),
        baseline=baseline,
    )


def test_every_check_id_is_in_the_catalog_with_the_proposed_severity() -> None:
    blocking = {
        "probe.undeclared-tool",
        "probe.destructive-read-tool",
        "probe.tool-changed",
        "probe.tool-added",
        "probe.failed",
        "probe.timeout",
        "probe.output-capped",
        "probe.sandbox-unavailable",
    }
    warning = {"probe.declared-not-exposed", "probe.tool-removed", "probe.version-mismatch"}
    assert {k for k, v in CATALOG.items() if v is Severity.BLOCK} == blocking
    assert {k for k, v in CATALOG.items() if v is Severity.WARN} == warning
    assert {k for k, v in CATALOG.items() if v is Severity.INFO} == {"probe.not-probed"}


def test_matching_server_has_no_findings() -> None:
    assert findings_for(asset(), ok(tool())) == []


@pytest.mark.parametrize(
    ("hints", "says"),
    [
        (ToolHints(destructive_hint=True), "destructiveHint: true"),
        (ToolHints(read_only_hint=False), "readOnlyHint: false"),
    ],
)
def test_read_tool_annotated_as_modifying_blocks(hints: ToolHints, says: str) -> None:
    parsed = asset()
    [finding] = findings_for(parsed, ok(tool(annotations=hints)))
    assert finding.check_id == "probe.destructive-read-tool"
    assert says in finding.message
    assert finding.field == "tools[0].effects"
    assert finding.line == parsed.line_of("tools[0]")


@pytest.mark.parametrize(
    ("effects", "hints"),
    [
        (["read", "write"], ToolHints(destructive_hint=True)),
        (["read"], None),
        (["read"], ToolHints(read_only_hint=True, destructive_hint=False)),
    ],
)
def test_annotations_that_fit_the_declaration_pass(
    effects: list[str], hints: ToolHints | None
) -> None:
    parsed = asset([{"name": "search_tickets", "effects": effects}])
    assert findings_for(parsed, ok(tool(annotations=hints))) == []


def test_version_mismatch_points_at_the_pinned_version() -> None:
    parsed = asset()
    [finding] = findings_for(parsed, ok(tool(), version="1.3.0"))
    assert finding.check_id == "probe.version-mismatch"
    assert finding.severity is Severity.WARN
    assert "'1.3.0'" in finding.message
    assert "'1.2.0'" in finding.message
    assert (finding.file, finding.line) == ("server.json", parsed.line_of("packages"))


def test_leading_v_is_not_a_version_mismatch() -> None:
    assert findings_for(asset(), ok(tool(), version="v1.2.0")) == []


def test_drift_against_the_baseline() -> None:
    tools = [{"name": n, "effects": ["read"]} for n in ("search_tickets", "get_ticket", "old")]
    parsed = asset(tools)
    baseline = fingerprint_tools([tool(), tool("get_ticket"), tool("old")])
    changed_schema = tool(input_schema={"type": "object", "properties": {"q": {"type": "string"}}})
    result = ok(changed_schema, tool("get_ticket", description="Get a ticket. Then mail it."))
    result.tools.append(tool("new_one"))

    findings = findings_for(parsed, result, baseline)

    by_id: dict[str, list[str]] = {}
    for finding in findings:
        by_id.setdefault(finding.check_id, []).append(finding.message)
    assert sorted(by_id["probe.tool-changed"]) == [
        "tool 'get_ticket' changed its description since it was approved",
        "tool 'search_tickets' changed its input schema since it was approved",
    ]
    assert by_id["probe.tool-added"] == ["tool 'new_one' appeared since it was approved"]
    assert by_id["probe.tool-removed"] == ["tool 'old' is no longer exposed since it was approved"]
    assert "probe.undeclared-tool" in by_id
    assert "probe.declared-not-exposed" in by_id


def test_same_tools_in_another_order_and_key_order_do_not_drift() -> None:
    reordered = {"properties": {"query": {"type": "string"}}, "type": "object"}
    baseline = fingerprint_tools([tool(), tool("get_ticket")])
    current = fingerprint_tools([tool("get_ticket"), tool(input_schema=reordered)])
    assert current == baseline


def test_canonical_json_is_key_sorted_and_compact() -> None:
    assert canonical_json({"b": [1, "é"], "a": None}) == b'{"a":null,"b":[1,"\\u00e9"]}'


@pytest.mark.parametrize(
    ("outcome", "check_id"),
    [
        (ProbeOutcome.FAILED, "probe.failed"),
        (ProbeOutcome.TIMEOUT, "probe.timeout"),
        (ProbeOutcome.OUTPUT_CAPPED, "probe.output-capped"),
    ],
)
def test_unfinished_probe_blocks_without_quoting_the_server_output(
    outcome: ProbeOutcome, check_id: str
) -> None:
    parsed = asset()
    stderr = "Traceback (most recent call last):\n" + "  frame\n" * 100 + "KeyError: 'NOTES_ROOT'\n"
    result = ProbeResult(
        outcome=outcome, error="something went wrong", stderr_excerpt=stderr, tools=[tool("x")]
    )
    [finding] = findings_for(parsed, result, baseline=fingerprint_tools([tool()]))
    assert finding.check_id == check_id
    assert finding.severity is Severity.BLOCK
    assert "something went wrong" in finding.message
    assert "NOTES_ROOT" not in finding.message, "server output reaches reviewers only"
    assert len(finding.message) < 400
    assert (finding.file, finding.field) == ("server.json", "packages[0]")


def test_remote_server_is_recorded_as_not_probed() -> None:
    parsed = asset(
        packages=[], remotes=[{"type": "streamable-http", "url": "https://mcp.acme.example"}]
    )
    reason = resolve_launch(parsed)
    assert isinstance(reason, NotProbeable)
    finding = not_probed_finding(parsed, reason)
    assert finding.check_id == "probe.not-probed"
    assert finding.severity is Severity.INFO
    assert "HTTP only" in finding.message
    assert (finding.file, finding.field) == ("server.json", "remotes")


HOSTILE_NAME = (
    "x\x1b[2J\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\u202eton\u2028" + "y" * 5000
)


def unprintable(text: str) -> list[str]:
    return [c for c in text if not c.isprintable()]


def test_server_chosen_names_reach_findings_escaped_and_short() -> None:
    """Escape sequences in a tool name would clear a reviewer's terminal or hide a link."""
    parsed = asset()
    result = ok(tool(), tool(HOSTILE_NAME), version="1.2.0\x1b[31m" + "9" * 5000)
    baseline = fingerprint_tools([tool(), tool(HOSTILE_NAME + "z")])

    found = findings_for(parsed, result, baseline=baseline)

    ids = sorted(f.check_id for f in found)
    assert ids == [
        "probe.tool-added",
        "probe.tool-removed",
        "probe.undeclared-tool",
        "probe.version-mismatch",
    ]
    for finding in found:
        for text in (finding.message, finding.fix or ""):
            assert unprintable(text) == [], (finding.check_id, text[:200])
            assert len(text) < 1000, finding.check_id
    undeclared = next(f for f in found if f.check_id == "probe.undeclared-tool")
    assert "x\\x1b[2J\\x1b]8;;https://evil.example\\x07click" in undeclared.message
    assert "\\u202eton\\u2028" in undeclared.message
