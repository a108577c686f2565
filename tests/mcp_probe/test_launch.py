"""Resolving how to start a server, and the ``launch`` key of ``scope.yaml``."""

from __future__ import annotations

import os
import sys
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import pytest

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.mcp_probe.launch import SYSTEM_PATH, LaunchSpec, NotProbeable, resolve_launch
from tests.evals import builders
from tests.mcp_probe.support import READ_TOOLS, bundled_server

BIN = str(Path(sys.executable).parent)
MCP_VERSION = installed_version("mcp")


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


def test_python_launch_gets_its_own_venv_never_the_worker_interpreter(tmp_path: Path) -> None:
    asset = bundled_server(tmp_path / "notes", "notes.py", tools=READ_TOOLS, install=False)
    spec = resolve_launch(asset)
    assert isinstance(spec, LaunchSpec)
    assert spec.runtime is not None
    assert spec.runtime.kind == "python"
    assert spec.runtime.packages == [f"mcp=={MCP_VERSION}"]
    assert BIN not in spec.search_path
    assert not spec.command.startswith(BIN)
    assert spec.args == ["server.py"]


def test_system_command_is_found_on_the_sandbox_path_only(tmp_path: Path) -> None:
    bundled_server(tmp_path / "notes", "notes.py", tools=READ_TOOLS, install=False)
    (tmp_path / "notes" / "scope.yaml").write_text(
        (tmp_path / "notes" / "scope.yaml").read_text().replace("command: python", "command: sh")
    )
    spec = resolve_launch(load_path(tmp_path / "notes", limits=BundleLimits()))
    assert isinstance(spec, LaunchSpec)
    assert os.path.dirname(spec.command) in SYSTEM_PATH
    assert spec.runtime is None


def test_explicit_launch_with_unknown_command_is_not_probeable(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    bundled_server(folder, "notes.py", tools=READ_TOOLS, install=False)
    scope = (folder / "scope.yaml").read_text().replace("command: python", "command: no-such-cmd")
    (folder / "scope.yaml").write_text(scope)
    reason = resolve_launch(load_path(folder, limits=BundleLimits()))
    assert isinstance(reason, NotProbeable)
    assert "'no-such-cmd' is not on the sandbox's PATH" in reason.reason
    assert reason.field == "launch.command"


def test_pypi_package_is_installed_at_its_pinned_version() -> None:
    asset = server(package(identifier="mcp-server-time", version="2026.10.19"))
    spec = resolve_launch(asset)
    assert isinstance(spec, LaunchSpec)
    assert spec.runtime is not None
    assert (spec.runtime.kind, spec.runtime.packages) == ("pypi", ["mcp-server-time==2026.10.19"])
    assert spec.runtime.entry == "mcp-server-time"
    assert spec.args == []
    assert spec.expected_version == "2026.10.19"
    assert spec.expected_version_field == "packages[0].version"


@pytest.mark.parametrize("version", [""])
def test_unpinned_package_is_not_probeable(version: str) -> None:
    entry = (
        package(version=version)
        if version
        else {k: v for k, v in package().items() if k != "version"}
    )
    reason = resolve_launch(server(entry))
    assert isinstance(reason, NotProbeable)
    assert "not pinned to an exact version" in reason.reason


def test_npm_package_is_installed_pinned_with_non_secret_env_only() -> None:
    variables = [
        {"name": "NOTES_REGION", "default": "eu"},
        {"name": "NOTES_TOKEN", "isSecret": True, "default": "not-given"},
        {"name": "NOTES_FLAG"},
    ]
    entry = package(
        registryType="npm", identifier="@acme/notes-mcp", environmentVariables=variables
    )
    spec = resolve_launch(server(entry))
    assert isinstance(spec, LaunchSpec)
    assert spec.runtime is not None
    assert (spec.runtime.kind, spec.runtime.packages) == ("npm", ["@acme/notes-mcp@1.2.0"])
    assert spec.runtime.entry == "notes-mcp"
    assert spec.env == {"NOTES_REGION": "eu"}


def test_runtime_key_names_package_and_version() -> None:
    spec = resolve_launch(server(package(identifier="mcp-server-time", version="2026.10.19")))
    other = resolve_launch(server(package(identifier="mcp-server-time", version="2026.10.20")))
    assert isinstance(spec, LaunchSpec) and isinstance(other, LaunchSpec)
    assert spec.runtime is not None and other.runtime is not None
    assert spec.runtime.key.startswith("pypi-mcp-server-time==2026.10.19-")
    assert spec.runtime.key != other.runtime.key


def test_first_stdio_package_is_chosen() -> None:
    http = package(identifier="acme-http", transport={"type": "streamable-http"})
    stdio = package(identifier="mcp-server-time", version="2026.10.19")
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
    asset = bundled_server(
        tmp_path / "notes", "notes.py", tools=READ_TOOLS, env={"MODE": "a"}, install=False
    )
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
    bundled_server(folder, "notes.py", tools=READ_TOOLS, install=False)
    scope = (folder / "scope.yaml").read_text().split("launch:")[0] + f"launch: {launch}\n"
    (folder / "scope.yaml").write_text(scope)
    asset = load_path(folder, limits=BundleLimits())
    assert asset.scope is None
    problems = [p for p in asset.problems if p.file == "scope.yaml"]
    assert problems
    assert any(message in f"{p.field} {p.message}" for p in problems), problems
    assert all(p.line == asset.line_of("launch") for p in problems)


def test_install_failure_names_the_package_and_masks_credentials(tmp_path: Path) -> None:
    from agent_registry.mcp_probe.runtime import InstallError, RuntimeNeed, ensure_runtime

    need = RuntimeNeed(kind="python", packages=["agentreg-no-such-project-x7q==0.0.1"])
    with pytest.raises(InstallError) as raised:
        ensure_runtime(need, tmp_path / "cache")
    assert "installing agentreg-no-such-project-x7q==0.0.1 failed" in str(raised.value)
    assert not (tmp_path / "cache" / need.key).exists(), "a failed install leaves nothing"


def test_redaction_masks_tokens_url_passwords_and_keys() -> None:
    from agent_registry.mcp_probe.output import redact_secrets

    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    text = (
        f"token {token} url https://user:hunter2pass@pypi.internal/simple "
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done"
    )
    masked = redact_secrets(text)
    assert token not in masked and "ghp_…" in masked
    assert "hunter2pass" not in masked
    assert "MIIEow" not in masked
    assert masked.endswith(" done")
