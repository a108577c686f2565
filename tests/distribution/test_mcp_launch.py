"""The ``.mcp.json`` entry each kind of MCP server gets, per Claude Code's documented format."""

from __future__ import annotations

import json

import pytest

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.kinds import parse_mcp_server
from agent_registry.distribution.errors import UnsupportedServerError
from agent_registry.distribution.mcp_launch import McpLaunch, mcp_launch, project_bundle_root

SCOPE = "tools:\n  - name: list_tickets\n    effects: [read]\n"


def _launch(server: dict[str, object], scope: str = SCOPE, **files: str) -> McpLaunch:
    bundle = Bundle(
        root_name="tickets",
        files=tuple(
            sorted(
                (
                    BundleFile("server.json", json.dumps(server).encode()),
                    BundleFile("scope.yaml", scope.encode()),
                    *(BundleFile(name, text.encode()) for name, text in files.items()),
                ),
                key=lambda f: f.path,
            )
        ),
    )
    return mcp_launch(parse_mcp_server(bundle), bundle_root=project_bundle_root("tickets"))


def _server(**extra: object) -> dict[str, object]:
    return {
        "name": "io.github.acme/tickets",
        "description": "Reads tickets.",
        "version": "1.4.0",
        **extra,
    }


def test_an_npm_package_runs_with_npx_pinned_and_secrets_as_placeholders() -> None:
    launch = _launch(
        _server(
            packages=[
                {
                    "registryType": "npm",
                    "identifier": "@acme/tickets-mcp",
                    "version": "1.4.0",
                    "transport": {"type": "stdio"},
                    "environmentVariables": [
                        {"name": "TICKETS_TOKEN", "isSecret": True, "isRequired": True},
                        {"name": "TICKETS_REGION", "default": "eu"},
                        {"name": "TICKETS_URL", "isRequired": True},
                        {"name": "TICKETS_DEBUG"},
                    ],
                }
            ]
        )
    )
    assert launch.entry == {
        "type": "stdio",
        "command": "npx",
        "args": ["-y", "@acme/tickets-mcp@1.4.0"],
        "env": {
            "TICKETS_TOKEN": "${TICKETS_TOKEN}",
            "TICKETS_REGION": "eu",
            "TICKETS_URL": "${TICKETS_URL}",
        },
    }
    assert launch.server_command == ("npx", "-y", "@acme/tickets-mcp@1.4.0")


def test_a_pypi_package_without_its_own_version_uses_the_servers() -> None:
    launch = _launch(
        _server(
            packages=[
                {
                    "registryType": "pypi",
                    "identifier": "tickets-mcp",
                    "transport": {"type": "stdio"},
                }
            ]
        )
    )
    assert launch.entry == {
        "type": "stdio",
        "command": "uvx",
        "args": ["tickets-mcp==1.4.0"],
    }


@pytest.mark.parametrize(("transport", "expected"), [("streamable-http", "http"), ("sse", "sse")])
def test_a_remote_server_gets_the_type_claude_code_reads(transport: str, expected: str) -> None:
    url = "https://tickets.example.com/mcp"
    launch = _launch(_server(remotes=[{"type": transport, "url": url}]))
    assert launch.entry == {"type": expected, "url": url}
    assert launch.server_url == url and launch.server_command is None


def test_a_launch_rewrites_only_paths_into_the_bundle() -> None:
    scope = SCOPE + "launch:\n  command: ./bin/serve\n  args: [lib, --port, '9000', server.py]\n"
    launch = _launch(_server(), scope, **{"bin/serve": "#!/bin/sh\n", "lib/a.py": ""})
    root = "${CLAUDE_PROJECT_DIR:-.}/.claude/mcp-servers/tickets"
    assert launch.entry == {
        "type": "stdio",
        "command": f"{root}/bin/serve",
        "args": [f"{root}/lib", "--port", "9000", "server.py"],
    }
    assert launch.ships_bundle


def test_an_oci_only_server_is_refused_with_what_it_has() -> None:
    server = _server(
        packages=[
            {"registryType": "oci", "identifier": "acme/tickets", "transport": {"type": "stdio"}}
        ]
    )
    with pytest.raises(UnsupportedServerError, match=r"oci \(stdio\)"):
        _launch(server)
