"""The public format rules, as a submitter sees them: one finding per field, with its line."""

from __future__ import annotations

import json

import pytest

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.loader import parse_asset
from agent_registry.assets.manifests import RegistryMetadata, is_exact_version
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.vocabulary.findings import Finding, Severity

SCOPE = "tools:\n  - name: search\n    effects: [read]\n"


def skill(frontmatter: str, *, folder: str = "pdf-report") -> ParsedAsset:
    text = f"---\n{frontmatter}---\n# Instructions\n"
    bundle = Bundle(root_name=folder, files=(BundleFile("SKILL.md", text.encode()),))
    return parse_asset(bundle, AssetKind.SKILL)


def subagent(frontmatter: str) -> ParsedAsset:
    text = f"---\n{frontmatter}---\nYou review code.\n"
    bundle = Bundle(
        root_name="code-reviewer.md",
        files=(BundleFile("code-reviewer.md", text.encode()),),
        single_file=True,
    )
    return parse_asset(bundle, AssetKind.SUBAGENT)


def mcp_server(server: dict[str, object]) -> ParsedAsset:
    files = (
        BundleFile("scope.yaml", SCOPE.encode()),
        BundleFile("server.json", json.dumps(server, indent=2).encode()),
    )
    return parse_asset(Bundle(root_name="tickets", files=files), AssetKind.MCP_SERVER)


def only_problem(parsed: ParsedAsset) -> Finding:
    assert len(parsed.problems) == 1, parsed.problems
    problem = parsed.problems[0]
    assert problem.severity is Severity.BLOCK
    return problem


SERVER: dict[str, object] = {
    "name": "io.github.acme/tickets",
    "description": "Search and close support tickets.",
    "version": "1.2.0",
    "packages": [
        {
            "registryType": "npm",
            "identifier": "@acme/tickets-mcp",
            "version": "1.2.0",
            "transport": {"type": "stdio"},
        }
    ],
}


# --- skills -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["-pdf-report", "pdf-report-", "pdf--report", "PDF-report", "pdf_report"]
)
def test_skill_name_shape(name: str) -> None:
    problem = only_problem(skill(f"name: {name}\ndescription: Makes reports.\n", folder=name))

    assert problem.check_id == "spec.invalid-field"
    assert problem.field == "frontmatter.name"
    assert (problem.file, problem.line) == ("SKILL.md", 2)
    assert problem.message.startswith("name: must be lowercase letters, digits and hyphens")
    assert "double hyphen" in problem.message


def test_skill_name_of_65_characters_is_too_long() -> None:
    name = "a" * 65

    problem = only_problem(skill(f"name: {name}\ndescription: Makes reports.\n", folder=name))

    assert problem.message == "name: must be at most 64 characters (it has 65)"


def test_skill_name_of_64_characters_with_digits_is_fine() -> None:
    name = "a1-" * 21 + "b"

    parsed = skill(f"name: {name}\ndescription: Makes reports.\n", folder=name)

    assert parsed.problems == []
    assert parsed.skill is not None
    assert parsed.skill.name == name


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ('""', "description: must not be empty"),
        ('"   "', "description: must not be blank"),
        ("x" * 1025, "description: must be at most 1024 characters (it has 1025)"),
    ],
)
def test_skill_description_length(description: str, message: str) -> None:
    problem = only_problem(skill(f"name: pdf-report\ndescription: {description}\n"))

    assert problem.field == "frontmatter.description"
    assert problem.line == 3
    assert problem.message == message


def test_skill_description_of_1024_characters_is_fine() -> None:
    assert skill(f"name: pdf-report\ndescription: {'x' * 1024}\n").problems == []


def test_skill_compatibility_of_501_characters() -> None:
    frontmatter = f"name: pdf-report\ndescription: d\ncompatibility: {'c' * 501}\n"

    problem = only_problem(skill(frontmatter))

    assert problem.field == "frontmatter.compatibility"
    assert problem.line == 4
    assert "at most 500 characters (it has 501)" in problem.message
    assert skill(f"name: pdf-report\ndescription: d\ncompatibility: {'c' * 500}\n").problems == []


def test_skill_metadata_values_must_be_strings() -> None:
    problem = only_problem(skill("name: pdf-report\ndescription: d\nmetadata:\n  revision: 1.0\n"))

    assert problem.field == "frontmatter.metadata"
    assert problem.line == 4
    assert problem.message == "metadata: values must be strings; quote the value of revision"


def test_skill_missing_fields_are_named() -> None:
    parsed = skill("license: MIT\n")

    assert [(p.check_id, p.field, p.message, p.line) for p in parsed.problems] == [
        ("spec.missing-field", "frontmatter.name", "name: is required", 1),
        ("spec.missing-field", "frontmatter.description", "description: is required", 1),
    ]
    assert parsed.manifest is None


def test_skill_unquoted_yaml_boolean_name_says_to_quote_it() -> None:
    problem = only_problem(skill("name: no\ndescription: d\n", folder="no"))

    assert problem.message == "name: must be text, but it reads as False; put the value in quotes"


@pytest.mark.parametrize(
    ("value", "tools"),
    [
        ("Read Grep Bash(git log:*)", ["Read", "Grep", "Bash(git log:*)"]),
        ("Read, Grep", ["Read", "Grep"]),
        ("[Read, Write]", ["Read", "Write"]),
    ],
)
def test_skill_allowed_tools_as_string_or_list(value: str, tools: list[str]) -> None:
    parsed = skill(f"name: pdf-report\ndescription: d\nallowed-tools: {value}\n")

    assert parsed.problems == []
    assert parsed.skill is not None
    assert parsed.skill.allowed_tools == tools


# --- subagents ----------------------------------------------------------------------


def test_subagent_minimal_inherits_tools() -> None:
    parsed = subagent("name: code-reviewer\ndescription: Reviews code.\n")

    assert parsed.problems == []
    assert parsed.subagent is not None
    assert parsed.subagent.tools is None
    assert parsed.manifest_file == "code-reviewer.md"
    assert parsed.body == "You review code.\n"
    assert parsed.body_line == 5


def test_subagent_name_shape() -> None:
    problem = only_problem(subagent("name: Code_Reviewer\ndescription: d\n"))

    assert (problem.file, problem.line, problem.field) == (
        "code-reviewer.md",
        2,
        "frontmatter.name",
    )
    assert "e.g. code-reviewer" in problem.message


@pytest.mark.parametrize(
    "model",
    [
        "sonnet",
        "opus",
        "haiku",
        "inherit",
        "opusplan",
        "sonnet[1m]",
        "default",
        "claude-opus-4-1-20250805",
    ],
)
def test_subagent_model_aliases_and_full_ids(model: str) -> None:
    # No alias list is kept: Claude Code adds aliases with its releases (opusplan,
    # sonnet[1m]), and a documented one must never be refused by a stale copy.
    parsed = subagent(f"name: r\ndescription: d\nmodel: {model}\n")

    assert parsed.problems == []
    assert parsed.subagent is not None
    assert parsed.subagent.model == model


def test_subagent_model_that_is_not_one_word() -> None:
    problem = only_problem(subagent("name: r\ndescription: d\nmodel: the fast one\n"))

    assert problem.line == 4
    assert problem.message == (
        "model: must be a model alias (e.g. sonnet, opus) or a full model id, one word"
    )


@pytest.mark.parametrize(
    "mode", ["default", "acceptEdits", "auto", "dontAsk", "bypassPermissions", "plan"]
)
def test_subagent_permission_modes(mode: str) -> None:
    assert subagent(f"name: r\ndescription: d\npermissionMode: {mode}\n").problems == []


def test_subagent_bad_permission_mode_lists_the_allowed_ones() -> None:
    problem = only_problem(subagent("name: r\ndescription: d\npermissionMode: yolo\n"))

    assert problem.field == "frontmatter.permissionMode"
    assert problem.line == 4
    assert "'acceptEdits'" in problem.message
    assert "(it is 'yolo')" in problem.message


def test_subagent_tools_as_comma_string() -> None:
    parsed = subagent("name: r\ndescription: d\ntools: Read, Grep, Glob\ndisallowedTools: Bash\n")

    assert parsed.subagent is not None
    assert parsed.subagent.tools == ["Read", "Grep", "Glob"]
    assert parsed.subagent.disallowed_tools == ["Bash"]


def test_subagent_max_turns_must_be_positive() -> None:
    problem = only_problem(subagent("name: r\ndescription: d\nmaxTurns: 0\n"))

    assert problem.message == "maxTurns: must be greater than or equal to 1"


def test_subagent_mcp_servers_of_wrong_type_is_one_finding() -> None:
    problem = only_problem(subagent("name: r\ndescription: d\nmcpServers: github\n"))

    assert problem.field == "frontmatter.mcpServers"
    assert problem.message == "mcpServers: must be a valid list or must be a valid dictionary"


# --- MCP servers --------------------------------------------------------------------


def test_mcp_server_valid() -> None:
    parsed = mcp_server(SERVER)

    assert parsed.problems == []
    assert parsed.mcp_server is not None
    assert parsed.mcp_server.packages[0].transport.type == "stdio"
    assert parsed.registry_metadata.version == "1.2.0"


def test_mcp_name_without_namespace() -> None:
    problem = only_problem(mcp_server({**SERVER, "name": "tickets"}))

    assert problem.field == "server.json.name"
    assert (problem.file, problem.line) == ("server.json", 2)
    assert "namespace/name" in problem.message


def test_mcp_description_of_101_characters() -> None:
    problem = only_problem(mcp_server({**SERVER, "description": "d" * 101}))

    assert problem.line == 3
    assert problem.message == "description: must be at most 100 characters (it has 101)"
    assert mcp_server({**SERVER, "description": "d" * 100}).problems == []


@pytest.mark.parametrize("version", ["^1.2.0", "latest", ">=1", "~1.2", "1.x", "1.0 - 2.0"])
def test_mcp_version_ranges_are_refused(version: str) -> None:
    problem = only_problem(mcp_server({**SERVER, "version": version}))

    assert problem.field == "server.json.version"
    assert problem.line == 4
    assert f"'{version}' is not an exact version" in problem.message


def test_mcp_package_version_range_points_at_the_package_line() -> None:
    package = {**SERVER["packages"][0], "version": "latest"}  # type: ignore[index]

    problem = only_problem(mcp_server({**SERVER, "packages": [package]}))

    assert problem.field == "server.json.packages.0.version"
    assert problem.line == 9
    assert "pin one release" in problem.message


def test_mcp_exact_version_is_fine() -> None:
    assert mcp_server({**SERVER, "version": "1.2.0"}).problems == []


def test_mcp_remote_with_non_http_url() -> None:
    server = {
        **SERVER,
        "packages": [],
        "remotes": [{"type": "sse", "url": "ftp://acme.example/mcp"}],
    }

    problem = only_problem(mcp_server(server))

    assert problem.field == "server.json.remotes.0.url"
    assert problem.line == 9
    assert "^https?://" in problem.message
    assert "ftp://acme.example/mcp" in problem.message


def test_mcp_package_with_bad_transport() -> None:
    package = {**SERVER["packages"][0], "transport": {"type": "tcp"}}  # type: ignore[index]

    problem = only_problem(mcp_server({**SERVER, "packages": [package]}))

    assert problem.field == "server.json.packages.0.transport.type"
    assert problem.line == 11
    assert problem.message == (
        "packages.0.transport.type: must be 'stdio', 'streamable-http' or 'sse' (it is 'tcp')"
    )


@pytest.mark.parametrize(("version", "exact"), [("2024.1", True), ("1.2.0", True), ("*", False)])
def test_is_exact_version_allows_non_semver_releases(version: str, exact: bool) -> None:
    assert is_exact_version(version) is exact


def test_registry_metadata_needs_semver() -> None:
    with pytest.raises(ValueError, match=r"'1\.2' is not an exact semantic version"):
        RegistryMetadata(owner_team="docs", version="1.2")
