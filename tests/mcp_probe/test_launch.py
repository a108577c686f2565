"""Resolving how to start a server, and the ``launch`` key of ``scope.yaml``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.mcp_probe import launch as launch_module
from agent_registry.mcp_probe.launch import LaunchSpec, NotProbeable, probe_path, resolve_launch
from tests.evals import builders
from tests.mcp_probe.support import READ_TOOLS, bundled_server

BIN = str(Path(sys.executable).parent)


def package(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "registryType": "pypi",
        "identifier": "acme-notes-mcp",
        "version": "1.2.0",
        "transport": {"type": "stdio"},
    }
    return {**entry, **overrides}


def server(*packages: dict[str, Any], remotes: list[dict[str, Any]] | None = None) -> Any:
    data: dict[str, Any] = {
        "name": "io.github.acme/notes",
        "description": "Notes for the team.",
        "version": "1.2.0",
        "packages": list(packages),
    }
    if remotes:
        data["remotes"] = remotes
    return builders.mcp_server(server=data)


def fake_command(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_system_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the interpreter's directory and what a test adds: no uvx or npx by accident."""
    monkeypatch.setattr(launch_module, "SYSTEM_PATH", ())


def test_probe_path_starts_with_the_interpreter_directory(tmp_path: Path) -> None:
    path = probe_path([tmp_path, BIN])
    assert path == [BIN, "/usr/local/bin", "/usr/bin", "/bin", str(tmp_path)]


def test_explicit_launch_runs_python_from_the_worker_environment(tmp_path: Path) -> None:
    asset = bundled_server(tmp_path / "notes", "notes.py", tools=READ_TOOLS, env={"MODE": "a"})
    spec = resolve_launch(asset)
    assert isinstance(spec, LaunchSpec)
    assert spec.command == os.path.join(BIN, "python")
    assert spec.args == ["server.py"]
    assert spec.env == {"MODE": "a"}
    assert spec.source_field == "launch"
    assert (spec.expected_version, spec.expected_version_field) == ("1.0.0", "version")


def test_explicit_launch_with_unknown_command_is_not_probeable(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    bundled_server(folder, "notes.py", tools=READ_TOOLS)
    scope = (folder / "scope.yaml").read_text().replace("command: python", "command: notes-srv")
    (folder / "scope.yaml").write_text(scope)
    asset = load_path(folder, limits=BundleLimits())
    reason = resolve_launch(asset)
    assert isinstance(reason, NotProbeable)
    assert "'notes-srv' is not on the probe PATH" in reason.reason
    assert reason.field == "launch.command"


def test_pypi_console_script_beside_the_interpreter_is_used() -> None:
    asset = server(package(identifier="mcp-server-time", version="2026.10.19"))
    spec = resolve_launch(asset)
    assert isinstance(spec, LaunchSpec)
    assert spec.command == os.path.join(BIN, "mcp-server-time")
    assert spec.args == []
    assert spec.expected_version == "2026.10.19"
    assert spec.expected_version_field == "packages[0].version"


@pytest.mark.usefixtures("no_system_path")
def test_pypi_package_without_script_runs_through_uvx(tmp_path: Path) -> None:
    uvx = fake_command(tmp_path / "tools", "uvx")
    spec = resolve_launch(server(package()), extra_path=[tmp_path / "tools"])
    assert isinstance(spec, LaunchSpec)
    assert (spec.command, spec.args) == (str(uvx), ["acme-notes-mcp==1.2.0"])


@pytest.mark.usefixtures("no_system_path")
def test_pypi_package_without_script_or_uvx_is_not_probeable() -> None:
    reason = resolve_launch(server(package()))
    assert isinstance(reason, NotProbeable)
    assert "neither the console script 'acme-notes-mcp' nor uvx" in reason.reason
    assert reason.field == "packages[0]"


@pytest.mark.usefixtures("no_system_path")
def test_npm_package_runs_through_npx_with_non_secret_env_only(tmp_path: Path) -> None:
    npx = fake_command(tmp_path / "tools", "npx")
    variables = [
        {"name": "NOTES_REGION", "default": "eu"},
        {"name": "NOTES_TOKEN", "isSecret": True, "default": "not-given"},
        {"name": "NOTES_FLAG"},
    ]
    entry = package(
        registryType="npm", identifier="@acme/notes-mcp", environmentVariables=variables
    )
    spec = resolve_launch(server(entry), extra_path=[tmp_path / "tools"])
    assert isinstance(spec, LaunchSpec)
    assert (spec.command, spec.args) == (str(npx), ["-y", "@acme/notes-mcp@1.2.0"])
    assert spec.env == {"NOTES_REGION": "eu"}


def test_first_stdio_package_is_chosen() -> None:
    http = package(identifier="acme-http", transport={"type": "streamable-http"})
    stdio = package(identifier="mcp-server-time")
    spec = resolve_launch(server(http, stdio))
    assert isinstance(spec, LaunchSpec)
    assert spec.source_field == "packages[1]"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (package(registryType="oci", identifier="ghcr.io/acme/notes"), "oci packages are not run"),
        (package(identifier="--from=evil"), "not a PyPI project name"),
        (package(registryType="npm", identifier="-y"), "not an npm package name"),
    ],
)
def test_packages_the_probe_does_not_run(entry: dict[str, Any], expected: str) -> None:
    reason = resolve_launch(server(entry))
    assert isinstance(reason, NotProbeable)
    assert expected in reason.reason


def test_remote_only_server_is_not_probeable() -> None:
    reason = resolve_launch(
        server(remotes=[{"type": "streamable-http", "url": "https://mcp.acme.example/notes"}])
    )
    assert isinstance(reason, NotProbeable)
    assert "HTTP only" in reason.reason
    assert reason.field == "remotes"


def test_launch_keys_have_lines(tmp_path: Path) -> None:
    asset = bundled_server(tmp_path / "notes", "notes.py", tools=READ_TOOLS, env={"MODE": "a"})
    text = (tmp_path / "notes" / "scope.yaml").read_text().split("\n")
    for key, start in [("launch", "launch:"), ("launch.command", "  command:")]:
        line = asset.line_of(key)
        assert line is not None
        assert text[line - 1].startswith(start)


@pytest.mark.parametrize(
    ("launch", "message"),
    [
        ("{command: python, env: {PATH: /tmp}}", "PATH cannot be set"),
        ("{command: python, env: {PORT: 8080}}", "quote the value of PORT"),
        ("{command: python, env: {'BAD-NAME': x}}", "is not a variable name"),
        ("{command: '  '}", "must not be blank"),
        ("{command: python, user: root}", "launch.user"),
    ],
)
def test_invalid_launch_is_a_spec_problem(tmp_path: Path, launch: str, message: str) -> None:
    folder = tmp_path / "notes"
    bundled_server(folder, "notes.py", tools=READ_TOOLS)
    scope = (folder / "scope.yaml").read_text().split("launch:")[0] + f"launch: {launch}\n"
    (folder / "scope.yaml").write_text(scope)
    asset = load_path(folder, limits=BundleLimits())
    assert asset.scope is None
    problems = [p for p in asset.problems if p.file == "scope.yaml"]
    assert problems
    assert any(message in f"{p.field} {p.message}" for p in problems), problems
    assert all(p.line == asset.line_of("launch") for p in problems)
