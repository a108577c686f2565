"""Loading assets from disk: kind detection, parsing, sidecars and registry metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_registry.assets.archive import bundle_from_archive, canonical_archive, content_hash
from agent_registry.assets.bundle import Bundle, BundleFile, BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.loader import AssetLoadError, detect_kind, load_path, parse_asset
from agent_registry.assets.manifests import Effect, RegistryMetadataDraft
from agent_registry.assets.metadata import MetadataError, missing_metadata, resolve_metadata
from agent_registry.assets.refs import AssetKind
from agent_registry.assets.sidecar import read_sidecar

LIMITS = BundleLimits()

PUBLIC_SKILL = """---
name: pdf-report
description: Builds monthly PDF reports from CSV exports. Use when asked for a report.
license: Apache-2.0
allowed-tools: Read Bash(python:*)
---
# PDF reports

Run `scripts/build.py` with the CSV file.
"""

SERVER = {
    "name": "io.github.acme/tickets",
    "description": "Search and close support tickets.",
    "version": "1.4.0",
    "remotes": [{"type": "streamable-http", "url": "https://mcp.acme.example/tickets"}],
}

SCOPE = """tools:
  - name: search_tickets
    effects: [read]
  - name: close_ticket
    effects: [write, network]
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def public_skill(tmp_path: Path, *, folder: str = "pdf-report", text: str = PUBLIC_SKILL) -> Path:
    root = tmp_path / folder
    write(root / "SKILL.md", text)
    write(root / "scripts" / "build.py", "print('report')\n")
    return root


def mcp_folder(tmp_path: Path, *, scope: str | None = SCOPE, server: str | None = None) -> Path:
    root = tmp_path / "tickets"
    write(root / "server.json", server if server is not None else json.dumps(SERVER, indent=2))
    if scope is not None:
        write(root / "scope.yaml", scope)
    return root


def load_error(path: Path) -> str:
    with pytest.raises(AssetLoadError) as caught:
        detect_kind(path)
    return str(caught.value)


# --- detect_kind --------------------------------------------------------------------


def test_detect_kind_of_each_asset_shape(tmp_path: Path) -> None:
    agent = write(tmp_path / "agents" / "code-reviewer.md", "---\n---\n")

    assert detect_kind(public_skill(tmp_path)) is AssetKind.SKILL
    assert detect_kind(mcp_folder(tmp_path)) is AssetKind.MCP_SERVER
    assert detect_kind(agent) is AssetKind.SUBAGENT


def test_skill_md_file_says_to_submit_the_folder(tmp_path: Path) -> None:
    root = public_skill(tmp_path)

    message = load_error(root / "SKILL.md")

    assert "submit the skill's folder" in message
    assert f"({root})" in message


def test_server_json_file_says_to_submit_its_folder(tmp_path: Path) -> None:
    root = mcp_folder(tmp_path)

    message = load_error(root / "server.json")

    assert str(root / "server.json") in message
    assert f"submit its folder ({root})" in message


@pytest.mark.parametrize("name", ["notes.txt", "folder"])
def test_anything_else_lists_what_each_kind_looks_like(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "folder":
        write(path / "README.txt", "hi")
    else:
        write(path, "hi")

    message = load_error(path)

    assert str(path) in message
    assert "a skill is a folder holding SKILL.md" in message
    assert "a subagent is one .md file" in message
    assert "an MCP server is a folder holding server.json and scope.yaml" in message


def test_sidecar_file_says_to_submit_the_asset(tmp_path: Path) -> None:
    sidecar = write(tmp_path / "code-reviewer.agentreg.yaml", "owner-team: qa\n")

    message = load_error(sidecar)

    assert "is a registry sidecar" in message
    assert f"submit the asset it describes ({tmp_path / 'code-reviewer.md'})" in message


def test_missing_path_is_named(tmp_path: Path) -> None:
    assert load_error(tmp_path / "nope") == f"{tmp_path / 'nope'} does not exist"


def test_folder_with_both_manifests_is_ambiguous(tmp_path: Path) -> None:
    root = public_skill(tmp_path)
    write(root / "server.json", "{}")

    assert "both SKILL.md and server.json" in load_error(root)


# --- skills -------------------------------------------------------------------------


def test_public_skill_without_registry_metadata_parses_cleanly(tmp_path: Path) -> None:
    parsed = load_path(public_skill(tmp_path), limits=LIMITS)

    assert parsed.problems == []
    assert parsed.skill is not None
    assert parsed.skill.allowed_tools == ["Read", "Bash(python:*)"]
    assert parsed.body.startswith("# PDF reports")
    assert parsed.body_line == 7
    assert parsed.line_of("allowed-tools") == 5
    assert parsed.registry_metadata == RegistryMetadataDraft()
    assert missing_metadata(parsed.registry_metadata, kind=parsed.kind) == [
        "owner team: pass --team or set metadata.owner-team in SKILL.md "
        "(or owner-team in agentreg.yaml)",
        "version: pass --version or set metadata.version in SKILL.md (or version in agentreg.yaml)",
    ]


def test_skill_metadata_map_fills_the_draft(tmp_path: Path) -> None:
    text = PUBLIC_SKILL.replace(
        "license: Apache-2.0\n",
        "metadata:\n  owner-team: docs\n  version: 1.2.0\n  changelog: First cut\n"
        "  authors: ada, grace \n  machine-authored: 'true'\n",
    )

    parsed = load_path(public_skill(tmp_path, text=text), limits=LIMITS)

    assert parsed.problems == []
    assert parsed.registry_metadata == RegistryMetadataDraft(
        owner_team="docs",
        version="1.2.0",
        changelog="First cut",
        authors=["ada", "grace"],
        machine_authored=True,
    )
    assert missing_metadata(parsed.registry_metadata, kind=parsed.kind) == []


def test_bad_machine_authored_in_skill_metadata(tmp_path: Path) -> None:
    text = PUBLIC_SKILL.replace("license: Apache-2.0\n", "metadata:\n  machine-authored: partly\n")

    parsed = load_path(public_skill(tmp_path, text=text), limits=LIMITS)

    [problem] = parsed.problems
    assert problem.check_id == "spec.invalid-field"
    assert problem.field == "frontmatter.metadata.machine-authored"
    assert (problem.file, problem.line) == ("SKILL.md", 5)
    assert "'partly'" in problem.message


def test_name_mismatch_with_folder(tmp_path: Path) -> None:
    parsed = load_path(public_skill(tmp_path, folder="reports"), limits=LIMITS)

    [problem] = parsed.problems
    assert problem.check_id == "spec.name-mismatch"
    assert (problem.file, problem.line, problem.field) == ("SKILL.md", 2, "frontmatter.name")
    assert "'pdf-report'" in problem.message
    assert "'reports'" in problem.message
    assert problem.fix == "rename the folder to 'pdf-report' or set name: reports"
    assert parsed.skill is not None  # the manifest itself is valid


def test_skill_md_not_utf8(tmp_path: Path) -> None:
    root = tmp_path / "pdf-report"
    write(root / "SKILL.md", b"---\nname: pdf-report\ndescription: caf\xe9\n---\n")

    parsed = load_path(root, limits=LIMITS)

    [problem] = parsed.problems
    assert problem.check_id == "spec.not-utf8"
    assert (problem.file, problem.line) == ("SKILL.md", 3)
    assert parsed.manifest is None


def test_broken_frontmatter_leaves_no_manifest(tmp_path: Path) -> None:
    root = public_skill(tmp_path, text="---\nname: pdf-report\ndescription: a: b\n---\n")

    parsed = load_path(root, limits=LIMITS)

    assert [(p.check_id, p.line) for p in parsed.problems] == [("spec.yaml-syntax", 3)]
    assert parsed.manifest is None


def test_parse_asset_reports_a_misnamed_skill_md() -> None:
    bundle = Bundle("pdf-report", (BundleFile("skill.md", b"---\n---\n"),))

    parsed = parse_asset(bundle, AssetKind.SKILL)

    [problem] = parsed.problems
    assert problem.check_id == "spec.manifest-missing"
    assert "found skill.md; the name is case-sensitive" in problem.message


def test_parse_asset_is_the_same_on_a_bundle_read_back_from_storage(tmp_path: Path) -> None:
    loaded = load_path(public_skill(tmp_path), limits=LIMITS)

    stored = bundle_from_archive(canonical_archive(loaded.bundle), limits=LIMITS)
    reparsed = parse_asset(stored, AssetKind.SKILL)

    assert reparsed.manifest == loaded.manifest
    assert reparsed.field_lines == loaded.field_lines
    assert reparsed.body == loaded.body


# --- sidecars -----------------------------------------------------------------------


def test_sidecar_overrides_the_skill_metadata_and_is_not_content(tmp_path: Path) -> None:
    text = PUBLIC_SKILL.replace(
        "license: Apache-2.0\n", "metadata:\n  owner-team: docs\n  version: 1.0.0\n"
    )
    root = public_skill(tmp_path, text=text)
    before = content_hash(load_path(root, limits=LIMITS).bundle)
    write(root / "agentreg.yaml", "version: 2.0.0\nauthors: [ada]\nmachine-authored: true\n")

    parsed = load_path(root, limits=LIMITS)

    assert parsed.registry_metadata == RegistryMetadataDraft(
        owner_team="docs", version="2.0.0", authors=["ada"], machine_authored=True
    )
    assert content_hash(parsed.bundle) == before
    assert parsed.bundle.get("agentreg.yaml") is None


def test_subagent_sidecar_sits_beside_the_file(tmp_path: Path) -> None:
    agent = write(
        tmp_path / "code-reviewer.md", "---\nname: code-reviewer\ndescription: Reviews.\n---\n"
    )
    write(tmp_path / "code-reviewer.agentreg.yaml", "owner-team: qa\nauthors: ada, grace\n")

    parsed = load_path(agent, limits=LIMITS)

    assert parsed.problems == []
    assert [f.path for f in parsed.bundle.files] == ["code-reviewer.md"]
    assert parsed.registry_metadata.owner_team == "qa"
    assert parsed.registry_metadata.authors == ["ada", "grace"]
    assert missing_metadata(parsed.registry_metadata, kind=AssetKind.SUBAGENT) == [
        "version: pass --version or set version in <name>.agentreg.yaml beside the subagent file"
    ]


def test_unknown_sidecar_key(tmp_path: Path) -> None:
    root = public_skill(tmp_path)
    write(root / "agentreg.yaml", "owner-team: docs\nowner: ada\n")

    parsed = load_path(root, limits=LIMITS)

    [problem] = parsed.problems
    assert problem.check_id == "spec.unknown-key"
    assert (problem.file, problem.line) == ("agentreg.yaml", 2)
    assert problem.message == (
        "owner is not a sidecar key; known keys: owner-team, version, changelog, authors, "
        "machine-authored, false-positives"
    )
    assert parsed.registry_metadata.owner_team == "docs"


def test_invalid_sidecar_values(tmp_path: Path) -> None:
    root = public_skill(tmp_path)
    write(root / "agentreg.yaml", "version: 1.2\nmachine-authored: perhaps\nauthors: [1, 2]\n")

    draft, problems = read_sidecar(root)

    assert [(p.check_id, p.line, p.field) for p in problems] == [
        ("spec.invalid-field", 1, "agentreg.yaml.version"),
        ("spec.invalid-field", 2, "agentreg.yaml.machine-authored"),
        ("spec.invalid-field", 3, "agentreg.yaml.authors"),
    ]
    assert "put the value in quotes" in problems[0].message
    assert draft == RegistryMetadataDraft()


def test_sidecar_yaml_error_is_reported_with_its_line(tmp_path: Path) -> None:
    root = public_skill(tmp_path)
    write(root / "agentreg.yaml", "owner-team: docs\nchangelog: fixed: things\n")

    parsed = load_path(root, limits=LIMITS)

    assert [(p.check_id, p.file, p.line) for p in parsed.problems] == [
        ("spec.yaml-syntax", "agentreg.yaml", 2)
    ]


def test_missing_sidecar_is_an_empty_draft(tmp_path: Path) -> None:
    assert read_sidecar(public_skill(tmp_path)) == (RegistryMetadataDraft(), [])


# --- registry metadata --------------------------------------------------------------


def test_resolve_metadata_flags_override_the_draft() -> None:
    draft = RegistryMetadataDraft(owner_team="docs", version="1.0.0", changelog="old")

    metadata = resolve_metadata(
        draft,
        kind=AssetKind.SKILL,
        version="1.1.0",
        changelog="Adds charts",
        machine_authored=True,
        default_author="ada@example.com",
    )

    assert metadata.owner_team == "docs"
    assert metadata.version == "1.1.0"
    assert metadata.changelog == "Adds charts"
    assert metadata.authors == ["ada@example.com"]
    assert metadata.machine_authored is True


def test_resolve_metadata_names_everything_missing() -> None:
    with pytest.raises(MetadataError) as caught:
        resolve_metadata(RegistryMetadataDraft(), kind=AssetKind.MCP_SERVER, default_author="ada")

    problems = caught.value.problems
    assert [(p.check_id, p.field) for p in problems] == [
        ("metadata.missing", "owner-team"),
        ("metadata.missing", "version"),
    ]
    lines = str(caught.value).splitlines()
    assert lines == [
        "owner-team: owner team is missing "
        "(fix: pass --team or set owner-team in agentreg.yaml in the server folder)",
        "version: version is missing "
        "(fix: pass --version or set version in server.json (or in agentreg.yaml))",
    ]


def test_resolve_metadata_refuses_invalid_values() -> None:
    draft = RegistryMetadataDraft(owner_team="Docs Team", version="1.2")

    with pytest.raises(MetadataError) as caught:
        resolve_metadata(draft, kind=AssetKind.SKILL, default_author="ada")

    messages = [p.message for p in caught.value.problems]
    assert messages == [
        "owner team 'Docs Team' is not a team slug (lowercase letters, digits, '.', '_' and "
        "'-', starting with a letter or digit, at most 63 characters)",
        "version '1.2' is not an exact semantic version like 1.2.0",
    ]
    assert all(p.check_id == "metadata.invalid" for p in caught.value.problems)
    assert missing_metadata(draft, kind=AssetKind.SKILL)[1].startswith(
        "version '1.2' is not an exact semantic version like 1.2.0; pass --version"
    )


def test_resolve_metadata_flag_fixes_an_invalid_draft_value() -> None:
    draft = RegistryMetadataDraft(owner_team="docs", version="latest", authors=["grace"])

    metadata = resolve_metadata(
        draft, kind=AssetKind.SUBAGENT, version="0.1.0", default_author="ada"
    )

    assert (metadata.version, metadata.authors) == ("0.1.0", ["grace"])


# --- MCP servers --------------------------------------------------------------------


def test_mcp_server_folder_with_scope(tmp_path: Path) -> None:
    parsed = load_path(mcp_folder(tmp_path), limits=LIMITS)

    assert parsed.problems == []
    assert parsed.mcp_server is not None
    assert parsed.manifest_file == "server.json"
    assert parsed.frontmatter["name"] == "io.github.acme/tickets"
    assert parsed.scope is not None
    assert [(t.name, t.effects) for t in parsed.scope.tools] == [
        ("search_tickets", [Effect.READ]),
        ("close_ticket", [Effect.WRITE, Effect.NETWORK]),
    ]
    assert parsed.line_of("version") == 4
    assert parsed.line_of("tools[1]") == 4
    assert parsed.line_of("tools[1].effects") == 5
    assert parsed.registry_metadata.version == "1.4.0"
    assert missing_metadata(parsed.registry_metadata, kind=parsed.kind) == [
        "owner team: pass --team or set owner-team in agentreg.yaml in the server folder"
    ]


def test_missing_scope_yaml_shows_the_expected_shape(tmp_path: Path) -> None:
    parsed = load_path(mcp_folder(tmp_path, scope=None), limits=LIMITS)

    [problem] = parsed.problems
    assert problem.check_id == "spec.scope-missing"
    assert problem.file == "scope.yaml"
    assert problem.fix is not None
    assert "tools: [{name: search_tickets, effects: [read]}" in problem.fix
    assert parsed.mcp_server is not None
    assert parsed.scope is None


def test_invalid_scope_points_at_the_tool(tmp_path: Path) -> None:
    scope = (
        "tools:\n  - name: search\n    effects: [read]\n  - name: wipe\n    effects: [destroy]\n"
    )

    parsed = load_path(mcp_folder(tmp_path, scope=scope), limits=LIMITS)

    [problem] = parsed.problems
    assert problem.check_id == "spec.invalid-field"
    assert (problem.file, problem.line, problem.field) == (
        "scope.yaml",
        5,
        "scope.tools.1.effects.0",
    )
    assert "(it is 'destroy')" in problem.message


def test_unknown_scope_key(tmp_path: Path) -> None:
    scope = "tools:\n  - name: search\n    effect: read\n"

    parsed = load_path(mcp_folder(tmp_path, scope=scope), limits=LIMITS)

    [problem] = parsed.problems
    assert (problem.check_id, problem.line) == ("spec.unknown-key", 3)
    assert problem.message == "tools.0.effect: is not a known field"


def test_server_json_syntax_error(tmp_path: Path) -> None:
    server = '{\n  "name": "io.github.acme/tickets",\n  "version": "1.0.0",,\n}\n'

    parsed = load_path(mcp_folder(tmp_path, server=server), limits=LIMITS)

    [problem] = parsed.problems
    assert (problem.check_id, problem.file, problem.line) == ("spec.json-syntax", "server.json", 3)
    assert parsed.manifest is None
    assert parsed.scope is not None


def test_server_json_missing_fields_point_at_line_one(tmp_path: Path) -> None:
    server = json.dumps({"name": "io.github.acme/tickets"})

    parsed = load_path(mcp_folder(tmp_path, server=server), limits=LIMITS)

    assert [(p.check_id, p.field, p.line) for p in parsed.problems] == [
        ("spec.missing-field", "server.json.description", 1),
        ("spec.missing-field", "server.json.version", 1),
    ]


def test_load_path_raises_for_unsafe_bundles(tmp_path: Path) -> None:
    root = public_skill(tmp_path)
    (root / "link").symlink_to("/etc/hostname")

    with pytest.raises(BundleError) as caught:
        load_path(root, limits=LIMITS)

    assert "link: is a symlink to /etc/hostname" in str(caught.value)
