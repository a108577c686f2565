"""``make up`` keys its audit chain, and production refuses to run without the keys.

The attack (issue 15): on the embedded stack, rewrite an approver and re-hash every
row; with no audit key ``agentreg audit verify`` said intact. Now the stack generates
a key on first start, keys the chain written before it, and every writer (worker,
server, CLI in another terminal) finds it in the data folder.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent_registry.cli.devstack import _embedded_audit_key, probe_environment
from agent_registry.cli.errors import CliError
from agent_registry.cli.main import build_app
from agent_registry.config import Settings
from agent_registry.production_keys import missing_production_key
from agent_registry.registry.audit_chain import keyed_engine
from agent_registry.registry.audit_key import (
    AUDIT_KEY_FILE,
    embedded_audit_key,
    resolve_audit_key,
)
from tests.registry.test_audit_chain import _lifecycle
from tests.registry.test_audit_keyed import DigestFn, _rewrite, _verify
from worker import run_probe_worker, run_worker


def test_the_embedded_audit_key_is_private_stable_and_kept_from_the_probe(
    tmp_path: Path,
) -> None:
    env, created = embedded_audit_key(tmp_path, {})
    key = tmp_path / AUDIT_KEY_FILE
    assert created and env == {"AGENT_REGISTRY_AUDIT_KEY": str(key)}
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_bytes()
    assert embedded_audit_key(tmp_path, {}) == (env, False)
    assert key.read_bytes() == first  # never regenerated: the chain stays verifiable
    assert embedded_audit_key(tmp_path, {"AGENT_REGISTRY_AUDIT_KEY": "/etc/a.key"}) == ({}, False)
    assert probe_environment({"PATH": "/usr/bin", **env}) == {"PATH": "/usr/bin"}


def test_a_cli_beside_make_up_uses_the_stacks_key_unless_one_is_named(tmp_path: Path) -> None:
    assert resolve_audit_key(None, tmp_path) is None
    embedded_audit_key(tmp_path, {})
    stack_key = resolve_audit_key(None, tmp_path)
    assert stack_key is not None and len(stack_key) >= 32
    named = tmp_path / "named.key"
    named.write_bytes(b"n" * 40)
    assert resolve_audit_key(named, tmp_path) == b"n" * 40


def test_a_rehashed_rewrite_of_the_make_up_chain_is_caught_by_audit_verify(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENT_REGISTRY_AUDIT_KEY", raising=False)
    monkeypatch.setenv("AGENT_REGISTRY_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_REGISTRY_DATA_DIR", str(tmp_path))
    # A chain written before the stack had a key: the first start keys it.
    _lifecycle(engine)
    _embedded_audit_key(tmp_path, Settings())
    key = resolve_audit_key(None, tmp_path)
    assert key is not None and _verify(engine, key).intact
    runner = CliRunner()
    ok = runner.invoke(build_app(), ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "checked without an audit key" not in ok.output
    # The attack: rewrite an approver, re-hash every row and the head without the key.
    chain = _rewrite(engine, index=4, actor="mallory@example.com", digest=DigestFn(None))
    failed = runner.invoke(build_app(), ["audit", "verify"])
    assert failed.exit_code == 1, failed.output
    assert f"event id {chain[0].id}" in failed.output


def test_rows_the_stack_appends_after_the_first_start_stay_keyed(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENT_REGISTRY_AUDIT_KEY", raising=False)
    monkeypatch.setenv("AGENT_REGISTRY_DATABASE_URL", db_url)
    _embedded_audit_key(tmp_path, Settings(data_dir=tmp_path))
    key = resolve_audit_key(None, tmp_path)
    assert key is not None
    _lifecycle(keyed_engine(engine, key))
    assert _verify(engine, key).count == 10
    assert not _verify(engine, None).intact


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, "AGENT_REGISTRY_SIGNING_KEY"),
        ({"signing_key": Path("/k.pem")}, "AGENT_REGISTRY_AUDIT_KEY"),
        ({"audit_key": Path("/a.key")}, "AGENT_REGISTRY_SIGNING_KEY"),
    ],
)
def test_production_refuses_to_start_without_either_key(
    present: dict[str, Path], missing: str
) -> None:
    settings = Settings(identity_mode="oidc", **present)  # type: ignore[arg-type]
    for who in ("worker", "server"):
        refusal = missing_production_key(settings, who=who)
        assert refusal is not None and missing in refusal and "\n" not in refusal
    both = Settings(identity_mode="oidc", signing_key=Path("/k"), audit_key=Path("/a"))
    assert missing_production_key(both, who="worker") is None
    assert missing_production_key(Settings(identity_mode="local"), who="worker") is None


def test_the_worker_refuses_an_oidc_start_without_an_audit_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AGENT_REGISTRY_AUDIT_KEY", raising=False)
    settings = Settings(identity_mode="oidc", signing_key=Path("/k.pem"))
    with pytest.raises(SystemExit, match="set AGENT_REGISTRY_AUDIT_KEY"):
        asyncio.run(run_worker(settings))


def test_the_server_refuses_an_oidc_start_without_a_signing_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AGENT_REGISTRY_SIGNING_KEY", "AGENT_REGISTRY_AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENT_REGISTRY_IDENTITY_MODE", "oidc")
    monkeypatch.setenv("AGENT_REGISTRY_OIDC_ISSUER", "https://id.example.com")
    monkeypatch.setenv("AGENT_REGISTRY_OIDC_AUDIENCE", "agent-registry")
    monkeypatch.setenv("AGENT_REGISTRY_OIDC_JWKS_URL", "https://id.example.com/jwks")
    result = CliRunner().invoke(build_app(), ["serve", "--host", "127.0.0.1", "--port", "1"])
    assert isinstance(result.exception, CliError)
    assert "set AGENT_REGISTRY_SIGNING_KEY" in str(result.exception)


@pytest.mark.parametrize("variable", ["AGENT_REGISTRY_SIGNING_KEY", "AGENT_REGISTRY_AUDIT_KEY"])
def test_a_probe_worker_holding_a_key_refuses_to_start(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AGENT_REGISTRY_SIGNING_KEY", "AGENT_REGISTRY_AUDIT_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "/etc/some.key")
    settings = Settings(_env_file=None, database_url=None)  # type: ignore[call-arg]
    with pytest.raises(SystemExit, match=variable):
        asyncio.run(run_probe_worker(settings))
