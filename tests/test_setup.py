"""``agentreg setup``: namespace check, search attributes, migrations, and its refusals.

Temporal runs as the real dev server started *without* our search attributes, so setup
has to add them; the database step runs on a fresh SQLite file and, for the refusal, on
PostgreSQL as a throwaway role that may not create tables.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from agent_registry.cli.setup import (
    ensure_temporal,
    required_search_attributes,
    setup_database,
    setup_temporal,
)
from agent_registry.registry.db import make_engine
from agent_registry.temporal import ALL_SEARCH_ATTRIBUTES
from tests import pg

BIN = Path(sys.executable).parent
AGENTREG = BIN / "agentreg"
CONFLICT_NS = "setup-conflict"
CLOUD_NS = "setup-cloudlike"


@pytest.fixture(scope="module")
async def bare_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server with no custom search attributes, plus two spare namespaces."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_log_level="error",
        dev_server_extra_args=["--namespace", CONFLICT_NS, "--namespace", CLOUD_NS],
    )
    async with env:
        yield env


def _address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


def _run_setup(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``agentreg setup`` through its console script, with only our TEMPORAL_* settings."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "AGENT_REGISTRY_"))
    }
    return subprocess.run(
        [str(AGENTREG), "setup", *args],
        env={**clean, **env},
        cwd=cwd,  # no stray .env from the checkout
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _custom_attributes(client: Client, namespace: str) -> dict[str, int]:
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(listed.custom_attributes)


async def test_setup_twice_adds_then_finds_everything_in_place(
    bare_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    before = await _custom_attributes(bare_env.client, "default")
    assert not set(before) & {key.name for key in ALL_SEARCH_ATTRIBUTES}
    env = {
        "TEMPORAL_ADDRESS": _address(bare_env),
        "TEMPORAL_NAMESPACE": "default",
        "AGENT_REGISTRY_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
    }

    first = await asyncio.to_thread(_run_setup, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    for key in ALL_SEARCH_ATTRIBUTES:
        assert f"done: added search attribute {key.name} (" in first.stdout
    assert "already in place: namespace default exists" in first.stdout
    assert "done: migrated the schema from an empty database" in first.stdout

    second = await asyncio.to_thread(_run_setup, env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "done:" not in second.stdout
    for key in ALL_SEARCH_ATTRIBUTES:
        assert f"already in place: search attribute {key.name} (" in second.stdout
    assert "already in place: schema at the newest migration" in second.stdout

    after = await _custom_attributes(bare_env.client, "default")
    for name, kind in required_search_attributes().items():
        assert after[name] == kind
    assert after["ReviewDeadline"] == IndexedValueType.INDEXED_VALUE_TYPE_DATETIME
    assert after["AssetKind"] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD


async def test_missing_namespace_is_refused_with_the_command_to_create_it(
    bare_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = {"TEMPORAL_ADDRESS": _address(bare_env), "TEMPORAL_NAMESPACE": "no-such-namespace"}
    done = await asyncio.to_thread(_run_setup, "--skip-database", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert "namespace no-such-namespace does not exist" in done.stderr
    assert "temporal operator namespace create --namespace no-such-namespace" in done.stderr


async def test_unreachable_temporal_is_refused() -> None:
    result = await setup_temporal(address="127.0.0.1:1", namespace="default")
    assert result.refusal is not None
    assert "cannot reach Temporal at 127.0.0.1:1" in result.refusal


async def test_attribute_with_another_type_is_refused_and_nothing_added(
    bare_env: WorkflowEnvironment,
) -> None:
    await bare_env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=CONFLICT_NS,
            search_attributes={"AssetKind": IndexedValueType.INDEXED_VALUE_TYPE_TEXT},
        )
    )
    result = await setup_temporal(address=_address(bare_env), namespace=CONFLICT_NS)
    assert result.refusal is not None
    assert "AssetKind is Text, the registry needs Keyword" in result.refusal
    assert "Nothing was added" in result.refusal
    assert not result.done
    assert set(await _custom_attributes(bare_env.client, CONFLICT_NS)) & {
        key.name for key in ALL_SEARCH_ATTRIBUTES
    } == {"AssetKind"}


async def test_cloud_refusal_names_each_attribute_and_type(
    bare_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await Client.connect(_address(bare_env), namespace=CLOUD_NS)

    async def refused(*_args: object, **_kwargs: object) -> None:
        raise RPCError("Request unauthorized.", RPCStatusCode.PERMISSION_DENIED, b"")

    monkeypatch.setattr(client.operator_service, "add_search_attributes", refused)
    result = await ensure_temporal(client)
    assert result.refusal is not None
    assert "PERMISSION_DENIED" in result.refusal
    assert "Cloud UI" in result.refusal
    for name, kind in required_search_attributes().items():
        spelled = "Datetime" if kind == IndexedValueType.INDEXED_VALUE_TYPE_DATETIME else "Keyword"
        assert f"    {name}  {spelled}" in result.refusal
        assert f"--search-attribute {name}={spelled}" in result.refusal
    assert f"tcld namespace search-attributes add --namespace {CLOUD_NS}" in result.refusal


def test_database_step_migrates_a_fresh_sqlite_file_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'registry.db'}"
    first = setup_database(url)
    assert first.refusal is None
    assert first.done and "from an empty database" in first.done[0]
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()
    second = setup_database(url)
    assert second.refusal is None
    assert not second.done
    assert second.in_place


def test_unreachable_database_is_refused_without_its_password() -> None:
    result = setup_database("postgresql+psycopg://reg:hunter2@127.0.0.1:1/registry")
    assert result.refusal is not None
    assert "cannot reach or open the registry database" in result.refusal
    assert "reg:***@127.0.0.1:1/registry" in result.refusal
    assert "hunter2" not in result.refusal + result.title


@pytest.fixture
def unprivileged_url(postgres_url: str) -> Iterator[str]:
    """A login role, and a schema it may use but not create tables in; both dropped after."""
    role = f"agentreg_setup_{uuid.uuid4().hex[:8]}"
    schema = pg.new_schema_name()
    pg.create_schema(postgres_url, schema)
    pg._execute(postgres_url, f'CREATE ROLE "{role}" LOGIN')
    pg._execute(postgres_url, f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
    as_role = make_url(postgres_url).set(username=role, password="s3cret-pw")
    try:
        yield pg.url_with_schema(as_role.render_as_string(hide_password=False), schema)
    finally:
        pg.drop_schema(postgres_url, schema)
        pg._execute(postgres_url, f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgres
def test_role_without_create_privilege_is_refused_clearly(
    unprivileged_url: str, tmp_path: Path
) -> None:
    result = setup_database(unprivileged_url)
    assert result.refusal is not None
    assert "may not create the registry's tables" in result.refusal
    assert "permission denied" in result.refusal
    assert ":***@" in result.refusal
    assert "s3cret-pw" not in result.refusal + result.title

    done = _run_setup(
        "--skip-temporal",
        env={"AGENT_REGISTRY_DATABASE_URL": unprivileged_url},
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "may not create the registry's tables" in done.stderr
    assert "s3cret-pw" not in done.stdout + done.stderr
