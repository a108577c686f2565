"""The MCP Registry's publishing rules: for each, a document it accepts and one it refuses."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.refs import AssetKind
from agent_registry.evals import mcp_publish, spec
from agent_registry.evals.runner import CATALOG
from agent_registry.policy.loader import load_policy
from agent_registry.vocabulary.findings import Finding, Severity

from .builders import DEFAULT_SERVER, mcp_server, skill

GOOD_SERVERS = Path(__file__).parent.parent / "evalbar_corpus" / "good" / "mcp-servers"
SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


def server(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEFAULT_SERVER)
    data["$schema"] = SCHEMA
    data.update(changes)
    return data


def package(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DEFAULT_SERVER["packages"][0])
    data.update(changes)
    return data


def remote(url: str, **changes: Any) -> dict[str, Any]:
    return {"type": "streamable-http", "url": url, **changes}


def findings(data: dict[str, Any]) -> list[Finding]:
    return mcp_publish.check(mcp_server(server=data))


def ids(data: dict[str, Any]) -> list[str]:
    return [finding.check_id for finding in findings(data)]


def test_a_well_formed_server_json_meets_every_rule() -> None:
    data = server(
        title="Acme Tickets",
        websiteUrl="https://acme.example/tickets",
        repository={
            "url": "https://github.com/acme/tickets-mcp",
            "source": "github",
            "subfolder": "servers/tickets",
        },
        icons=[{"src": "https://acme.example/icon.png"}],
        remotes=[remote("https://mcp.acme.example/{tenant}/mcp", variables={"tenant": {}})],
    )
    assert findings(data) == []


@pytest.mark.parametrize("path", sorted(GOOD_SERVERS.iterdir()), ids=lambda p: p.name)
def test_the_published_server_json_of_real_servers_meet_every_rule(path: Path) -> None:
    assert mcp_publish.check(load_path(path, limits=BundleLimits())) == []


def test_every_rule_runs_with_the_spec_family_and_is_in_the_runner_catalog() -> None:
    assert set(mcp_publish.CHECKS) <= set(spec.CHECKS)
    assert set(mcp_publish.CATALOG) <= set(CATALOG)


def test_the_default_policy_blocks_what_the_official_registry_refuses() -> None:
    policy = load_policy(None)
    for check_id, proposed in mcp_publish.CATALOG.items():
        kind = AssetKind.MCP_SERVER
        assert policy.severity_for(check_id, proposed, kind=kind) is proposed, check_id


# $schema


def test_schema_of_a_published_version_is_accepted() -> None:
    assert "spec.mcp-schema" not in ids(server())


def test_schema_that_is_not_the_registry_s_blocks() -> None:
    data = server(**{"$schema": "https://schemas.example/server.schema.json"})
    (finding,) = findings(data)
    assert finding.check_id == "spec.mcp-schema"
    assert finding.severity is Severity.BLOCK
    assert finding.field == "$schema"
    assert "schemas.example" in finding.message


def test_missing_schema_is_accepted_for_in_house_entries() -> None:
    data = server()
    del data["$schema"]
    assert findings(data) == []


# name


@pytest.mark.parametrize("name", ["io.github.acme/tickets", "com.example/my_server.v2"])
def test_names_starting_and_ending_alphanumeric_are_accepted(name: str) -> None:
    assert findings(server(name=name)) == []


@pytest.mark.parametrize(
    ("name", "part"),
    [("-acme.example/tickets", "namespace '-acme.example'"), ("io.github.acme/tickets.", "name")],
)
def test_names_the_registry_refuses_block(name: str, part: str) -> None:
    (finding,) = findings(server(name=name))
    assert finding.check_id == "spec.mcp-server-name"
    assert part in finding.message
    assert "must start and end with alphanumeric characters" in finding.message


# title


def test_title_with_text_is_accepted() -> None:
    assert findings(server(title="Tickets")) == []


def test_whitespace_title_blocks() -> None:
    (finding,) = findings(server(title="   "))
    assert (finding.check_id, finding.message) == (
        "spec.mcp-title",
        "title cannot be only whitespace",
    )


# repository


@pytest.mark.parametrize(
    "repo",
    [
        {"url": "https://github.com/acme/tickets-mcp", "source": "github"},
        {"url": "https://gitlab.com/acme/group/tickets", "source": "gitlab"},
    ],
)
def test_github_and_gitlab_project_urls_are_accepted(repo: dict[str, str]) -> None:
    assert findings(server(repository=repo)) == []


@pytest.mark.parametrize(
    "repo",
    [
        {"url": "https://github.com/acme", "source": "github"},
        {"url": "https://gitlab.com/acme/tickets", "source": "github"},
        {"url": "https://git.acme.example/acme/tickets", "source": "gitea"},
    ],
)
def test_repository_urls_the_registry_refuses_block(repo: dict[str, str]) -> None:
    (finding,) = findings(server(repository=repo))
    assert finding.check_id == "spec.mcp-repository"
    assert finding.field == "repository.url"
    assert finding.message.startswith("invalid repository URL")


@pytest.mark.parametrize("subfolder", ["/abs", "servers/", "../other", "a//b", "a b"])
def test_subfolders_outside_the_repository_or_malformed_block(subfolder: str) -> None:
    repo = {"url": "https://github.com/acme/tickets", "source": "github", "subfolder": subfolder}
    (finding,) = findings(server(repository=repo))
    assert (finding.check_id, finding.field) == ("spec.mcp-repository", "repository.subfolder")


# websiteUrl


def test_https_website_is_accepted() -> None:
    assert findings(server(websiteUrl="https://acme.example/docs")) == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [("http://acme.example", "must use https scheme"), ("acme.example/docs", "absolute")],
)
def test_website_not_https_or_relative_blocks(url: str, reason: str) -> None:
    (finding,) = findings(server(websiteUrl=url))
    assert finding.check_id == "spec.mcp-website-url"
    assert reason in finding.message


# icons


def test_https_icon_is_accepted() -> None:
    assert findings(server(icons=[{"src": "https://acme.example/i.png"}])) == []


@pytest.mark.parametrize("src", ["http://acme.example/i.png", "data:image/png;base64,AAAA"])
def test_icon_not_served_over_https_blocks(src: str) -> None:
    (finding,) = findings(server(icons=[{"src": src}]))
    assert (finding.check_id, finding.field) == ("spec.mcp-icon", "icons[0].src")


# package identifier and registry base URL


def test_package_identifier_with_a_space_blocks() -> None:
    (finding,) = findings(server(packages=[package(identifier="@acme/tickets mcp")]))
    assert finding.check_id == "spec.mcp-package-identifier"
    assert finding.message == "package name cannot contain spaces: '@acme/tickets mcp'"


@pytest.mark.parametrize(
    ("kind", "base"),
    [
        ("npm", "https://registry.npmjs.org"),
        ("npm", None),
        ("pypi", "https://pypi.org"),
        ("nuget", "https://api.nuget.org/v3/index.json"),
    ],
)
def test_public_registry_base_urls_are_accepted(kind: str, base: str | None) -> None:
    item = package(registryType=kind, registryBaseUrl=base)
    assert findings(server(packages=[item])) == []


@pytest.mark.parametrize(
    ("kind", "base"),
    [("npm", "https://npm.attacker.example"), ("pypi", "https://pypi.org.attacker.example")],
)
def test_a_package_from_another_registry_blocks(kind: str, base: str) -> None:
    (finding,) = findings(server(packages=[package(registryType=kind, registryBaseUrl=base)]))
    assert finding.check_id == "spec.mcp-registry-base-url"
    assert finding.severity is Severity.BLOCK
    assert "registry type and base URL do not match" in finding.message


# OCI and MCPB packages


def oci(identifier: str, **changes: Any) -> dict[str, Any]:
    item = package(registryType="oci", identifier=identifier)
    del item["version"]  # an OCI image carries its version in its reference
    item.update(changes)
    return item


@pytest.mark.parametrize(
    "identifier",
    ["ghcr.io/acme/tickets:1.2.0", "acme/tickets:1.2.0", "us-docker.pkg.dev/acme/t/tickets:1"],
)
def test_oci_images_on_public_registries_are_accepted(identifier: str) -> None:
    assert findings(server(packages=[oci(identifier)])) == []


def test_oci_image_from_another_registry_blocks() -> None:
    (finding,) = findings(server(packages=[oci("registry.attacker.example/acme/tickets:1")]))
    assert finding.check_id == "spec.mcp-oci-package"
    assert finding.message == "unsupported OCI registry: registry.attacker.example"


@pytest.mark.parametrize("key", ["version", "registryBaseUrl", "fileSha256"])
def test_oci_fields_beside_the_canonical_reference_block(key: str) -> None:
    item = oci("ghcr.io/acme/tickets:1.2.0", **{key: "1.2.0"})
    (finding,) = findings(server(packages=[item]))
    assert (finding.check_id, finding.field) == ("spec.mcp-oci-package", f"packages[0].{key}")
    assert f"OCI packages must not have '{key}' field" in finding.message


def test_oci_version_beside_the_identifier_is_accepted_under_the_older_schema() -> None:
    item = oci("ghcr.io/acme/tickets", version="1.2.0", registryBaseUrl="https://docker.io")
    older = "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json"
    assert findings(server(packages=[item], **{"$schema": older})) == []


def mcpb(identifier: str, **changes: Any) -> dict[str, Any]:
    return package(registryType="mcpb", identifier=identifier, **changes)


def test_mcpb_bundle_over_https_with_its_hash_is_accepted() -> None:
    item = mcpb("https://github.com/acme/tickets/releases/download/v1/tickets-mcp.mcpb")
    item["fileSha256"] = "a" * 64
    assert findings(server(packages=[item])) == []


@pytest.mark.parametrize(
    ("identifier", "words"),
    [
        ("http://acme.example/tickets-mcp.mcpb", "must use HTTPS"),
        ("https://acme.example/tickets.bundle", "must contain 'mcp'"),
    ],
)
def test_mcpb_address_the_registry_refuses_blocks(identifier: str, words: str) -> None:
    (finding,) = findings(server(packages=[mcpb(identifier, fileSha256="a" * 64)]))
    assert finding.check_id == "spec.mcp-mcpb-package"
    assert words in finding.message


def test_mcpb_bundle_without_its_hash_blocks() -> None:
    (finding,) = findings(server(packages=[mcpb("https://acme.example/tickets-mcp.mcpb")]))
    assert (finding.check_id, finding.field) == ("spec.mcp-mcpb-package", "packages[0].fileSha256")


# package transports


def test_http_package_transport_with_defined_variables_is_accepted() -> None:
    item = package(transport={"type": "streamable-http", "url": "http://localhost:{PORT}/mcp"})
    item["environmentVariables"].append({"name": "PORT"})
    assert findings(server(packages=[item])) == []


@pytest.mark.parametrize(
    ("transport", "words"),
    [
        ({"type": "stdio", "url": "https://acme.example/mcp"}, "url must be empty for stdio"),
        ({"type": "streamable-http"}, "url is required"),
        ({"type": "sse", "url": "ftp://acme.example/sse"}, "invalid package transport URL"),
        ({"type": "streamable-http", "url": "http://localhost:{PORT}/mcp"}, "undefined"),
    ],
)
def test_package_transports_the_registry_refuses_block(
    transport: dict[str, str], words: str
) -> None:
    (finding,) = findings(server(packages=[package(transport=transport)]))
    assert finding.check_id == "spec.mcp-transport"
    assert finding.field == "packages[0].transport.url"
    assert words in finding.message


# remotes


def test_public_https_remote_is_accepted() -> None:
    assert findings(server(remotes=[remote("https://mcp.acme.example/mcp")])) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://mcp.acme.example/mcp",
        "https://localhost/mcp",
        "https://127.0.0.1:8443/mcp",
        "https://tickets.localhost/mcp",
        "https://mcp.acme.example/{tenant}/mcp",
    ],
)
def test_remotes_the_registry_refuses_block(url: str) -> None:
    (finding,) = findings(server(remotes=[remote(url)]))
    assert finding.check_id == "spec.mcp-remote-url"
    assert finding.severity is Severity.BLOCK
    assert finding.field == "remotes[0].url"
    assert url in finding.message


def test_a_remote_listed_twice_warns() -> None:
    entries = [remote("https://mcp.acme.example/mcp"), remote("https://mcp.acme.example/mcp")]
    (finding,) = findings(server(remotes=entries))
    assert (finding.check_id, finding.field) == ("spec.mcp-duplicate-remote", "remotes[1]")
    assert finding.severity is Severity.WARN


def test_the_same_url_over_two_transports_is_not_a_duplicate() -> None:
    entries = [
        remote("https://mcp.acme.example/mcp"),
        {"type": "sse", "url": "https://mcp.acme.example/mcp"},
    ]
    assert findings(server(remotes=entries)) == []


# arguments


def test_well_shaped_arguments_are_accepted() -> None:
    item = package(
        runtimeArguments=[{"type": "named", "name": "-e", "value": "TOKEN={token}"}],
        packageArguments=[
            {"type": "positional", "valueHint": "directory"},
            {"type": "named", "name": "--port", "default": "8080"},
        ],
    )
    assert findings(server(packages=[item])) == []


@pytest.mark.parametrize(
    ("argument", "words"),
    [
        ({"type": "named", "name": "--dir <path>"}, "invalid named argument name format"),
        ({"type": "named", "name": "--port 8080"}, "invalid named argument name format"),
        ({"type": "named", "name": "--token=$TOKEN"}, "invalid named argument name format"),
        ({"type": "named", "name": "--port", "value": "--port=8080"}, "cannot start with"),
        ({"type": "named", "name": "--port", "default": "--port 8080"}, "cannot start with"),
        ({"type": "named", "value": "x"}, "named argument name is required"),
        ({"type": "positional"}, "must provide a value or a valueHint"),
        ({"type": "flag", "name": "-v"}, "must be 'positional' or 'named'"),
    ],
)
def test_argument_shapes_the_registry_refuses_block(argument: dict[str, str], words: str) -> None:
    (finding,) = findings(server(packages=[package(packageArguments=[argument])]))
    assert finding.check_id == "spec.mcp-argument"
    assert finding.field is not None
    assert finding.field.startswith("packages[0].packageArguments[0].")
    assert words in finding.message


# publisher-provided _meta


def test_small_publisher_meta_is_accepted() -> None:
    meta = {mcp_publish.PUBLISHER_META_KEY: {"build": "abc123"}}
    assert findings(server(_meta=meta)) == []


def test_publisher_meta_over_4kb_blocks() -> None:
    meta = {mcp_publish.PUBLISHER_META_KEY: {"notes": "x" * 5000}}
    (finding,) = findings(server(_meta=meta))
    assert finding.check_id == "spec.mcp-publisher-meta"
    assert "exceeds 4KB limit" in finding.message


def test_skills_are_not_judged_by_server_json_rules() -> None:
    assert mcp_publish.check(skill()) == []
