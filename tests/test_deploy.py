"""``deploy/compose.yaml``, checked structurally (no Docker here to run it).

Every variable our services are given must be one the code reads: an ``AGENT_REGISTRY_*``
field of :class:`~agent_registry.config.Settings` (or one of its aliases), or a
``TEMPORAL_*`` variable that Temporal's envconfig actually honours. Every command must
be a console script of the package (and, for ``agentreg``, a registered command).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from temporalio.envconfig import ClientConfig

from agent_registry.cli.main import build_app
from agent_registry.config import Settings
from agent_registry.temporal import DEV_SERVER_DYNAMIC_CONFIG
from worker import CREDENTIAL_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "deploy" / "compose.yaml"
PREFIX = Settings.model_config.get("env_prefix", "")


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _our_services() -> dict[str, dict[str, Any]]:
    """Services built from our Dockerfile (the rest are third-party images)."""
    services = _compose()["services"]
    return {name: spec for name, spec in services.items() if "build" in spec}


def _settings_variables() -> set[str]:
    names: set[str] = set()
    for field_name, info in Settings.model_fields.items():
        names.add(f"{PREFIX}{field_name}".upper())
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {str(choice).upper() for choice in alias.choices}
        elif isinstance(alias, str):
            names.add(alias.upper())
    return names


def _honoured_by_envconfig(name: str, value: str) -> bool:
    """Whether Temporal's envconfig (what ``agent_registry.temporal.connect`` uses) reads it."""
    baseline = ClientConfig.load_client_connect_config(disable_file=True, override_env_vars={})
    loaded = ClientConfig.load_client_connect_config(
        disable_file=True, override_env_vars={name: value}
    )
    return loaded != baseline


def test_compose_has_the_whole_stack() -> None:
    services = _compose()["services"]
    assert {"postgresql", "temporal", "temporal-ui", "worker", "server"} <= set(services)
    assert set(_our_services()) == {"worker", "worker-next", "server", "probe-worker"}
    assert services["worker-next"]["profiles"] == ["rollout"]  # only during a rollout
    for spec in _our_services().values():
        assert spec["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (COMPOSE.parent / spec["build"]["context"] / spec["build"]["dockerfile"]).is_file()
    # Scaled with --scale: a fixed name or host port would collide between replicas.
    assert "container_name" not in services["worker"]
    assert "ports" not in services["worker"]
    temporal_env = services["temporal"]["environment"]
    assert temporal_env["DB"] == "postgres12"
    assert temporal_env["POSTGRES_SEEDS"] == "postgresql"


def test_the_temporal_service_gets_the_settings_the_dev_servers_get() -> None:
    """A drained worker's pending polls are completed by the server, in production too."""
    temporal = _compose()["services"]["temporal"]
    inside = temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    mounts = dict(volume.removesuffix(":ro").split(":", 1)[::-1] for volume in temporal["volumes"])
    loaded = yaml.safe_load((COMPOSE.parent / mounts[inside]).read_text(encoding="utf-8"))

    settings = {key: str(values[0]["value"]).lower() for key, values in loaded.items()}
    assert settings == DEV_SERVER_DYNAMIC_CONFIG


@pytest.mark.parametrize("service", ["worker", "worker-next", "server", "probe-worker"])
def test_every_variable_is_one_the_code_reads(service: str) -> None:
    environment = _our_services()[service]["environment"]
    assert isinstance(environment, dict)
    known = _settings_variables()
    for name, value in environment.items():
        if name.startswith("TEMPORAL_"):
            assert _honoured_by_envconfig(name, str(value)), f"{service}: {name} is not read"
        else:
            assert name in known, f"{service}: {name} is not a Settings variable"
    if service != "probe-worker":
        assert environment["AGENT_REGISTRY_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"} <= set(environment)


def test_the_probe_worker_holds_no_credential_and_can_make_its_sandbox() -> None:
    """It runs submitted servers: nothing to take, and bubblewrap must work in Docker."""
    spec = _compose()["services"]["probe-worker"]
    assert spec["command"] == ["agentreg-worker", "--probe"]
    env_files = [entry["path"] for entry in spec["env_file"]]
    assert env_files == ["probe.env"], "registry.env holds the Slack tokens"
    credentials = {f"{PREFIX}{name}".upper() for name in CREDENTIAL_SETTINGS}
    assert credentials, "the probe worker's refusal list"
    assert not credentials & set(spec["environment"])
    assert not any("SLACK" in name or "DATABASE" in name for name in spec["environment"])
    assert set(spec["depends_on"]) == {"temporal"}, "no database to wait for"
    cache = spec["environment"]["AGENT_REGISTRY_PROBE_CACHE_DIR"]
    assert f"probe-cache:{cache}" in spec["volumes"]
    assert "probe-cache" in _compose()["volumes"]
    assert cache in (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    options = set(spec["security_opt"])
    assert {"seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"} <= options
    assert "no-new-privileges:true" in options
    assert spec["cap_drop"] == ["ALL"] and not spec.get("privileged", False)
    documented = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for option in ("seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"):
        assert option in documented


def test_commands_are_console_scripts() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    commands = {name: spec["command"] for name, spec in _our_services().items()}
    assert commands["worker"][0] == "agentreg-worker"
    assert commands["server"][:2] == ["agentreg", "serve"]
    for command in commands.values():
        assert command[0] in scripts
    registered = {info.name or info.callback.__name__ for info in build_app().registered_commands}
    assert {"serve", "setup"} <= registered


def test_dockerfile_installs_the_project() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install ." in dockerfile
    for copied in ("pyproject.toml", "worker.py", "src", "workflows", "activities"):
        assert copied in dockerfile
    init = (ROOT / "deploy" / "postgres-init.sql").read_text(encoding="utf-8")
    assert "CREATE DATABASE registry" in init


def test_the_worker_and_the_server_get_both_keys_and_the_probe_worker_neither() -> None:
    """In oidc mode they refuse to start without them (docs/security.md)."""
    compose = _compose()
    files = {name: spec["file"] for name, spec in compose["secrets"].items()}
    assert set(files) == {"registry_signing_key", "registry_audit_key"}
    for service in ("worker", "worker-next", "server"):
        spec = _our_services()[service]
        assert set(spec["secrets"]) == set(files), service
        environment = spec["environment"]
        assert environment["AGENT_REGISTRY_IDENTITY_MODE"] == "oidc"
        assert environment["AGENT_REGISTRY_SIGNING_KEY"] == "/run/secrets/registry_signing_key"
        assert environment["AGENT_REGISTRY_AUDIT_KEY"] == "/run/secrets/registry_audit_key"
    probe = _our_services()["probe-worker"]
    assert "secrets" not in probe
    assert not {"AGENT_REGISTRY_SIGNING_KEY", "AGENT_REGISTRY_AUDIT_KEY"} & set(
        probe["environment"]
    )
    documented = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for path in files.values():
        assert f"deploy/{path}" in documented, f"docs/deploy.md does not say how to make {path}"
