"""The migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import UniqueConstraint, inspect
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from agent_registry.assets.refs import semver_key
from agent_registry.registry import tables
from agent_registry.registry.db import make_engine, upgrade_database
from tests import pg

TABLES = {
    "asset",
    "asset_version",
    "blob",
    "eval_run",
    "eval_finding",
    "review_decision",
    "audit_event",
    "slack_message",
}


def test_upgrade_from_empty_matches_the_models(empty_db_url: str) -> None:
    upgrade_database(empty_db_url)

    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
            assert set(inspect(connection).get_table_names()) == TABLES | {"alembic_version"}
            assert context.get_current_revision() == "0002"
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_db_url: str) -> None:
    upgrade_database(empty_db_url)
    upgrade_database(empty_db_url)

    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "0002"
    finally:
        engine.dispose()


def test_models_declare_the_agreed_constraints() -> None:
    version = SQLModel.metadata.tables["asset_version"]
    unique = {
        tuple(c.columns.keys()) for c in version.constraints if isinstance(c, UniqueConstraint)
    }
    assert ("asset_id", "version") in unique
    assert {index.name for index in version.indexes} >= {
        "ix_asset_version_stage",
        "ix_asset_version_content_hash",
    }


def test_sqlite_engine_creates_the_parent_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'deeper' / 'registry.db'}"
    upgrade_database(url)
    assert (tmp_path / "nested" / "deeper" / "registry.db").is_file()


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres@db/registry", "postgres://postgres@db/registry"],
)
def test_plain_postgres_urls_use_psycopg(url: str) -> None:
    engine = make_engine(url)
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_schema_is_refused_for_sqlite(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL only"):
        make_engine(f"sqlite:///{tmp_path / 'registry.db'}", schema="elsewhere")


def test_unsupported_database_names_itself_without_password() -> None:
    with pytest.raises(ValueError, match="unsupported") as caught:
        make_engine("mysql://ada:hunter2@db/registry")
    assert "hunter2" not in str(caught.value)


@pytest.mark.postgres
def test_schema_keyword_and_url_options_reach_the_same_schema(postgres_url: str) -> None:
    schema = pg.new_schema_name()
    pg.create_schema(postgres_url, schema)
    try:
        upgrade_database(postgres_url, schema=schema)
        engine = make_engine(pg.url_with_schema(postgres_url, schema))
        try:
            with engine.connect() as connection:
                assert set(inspect(connection).get_table_names()) >= TABLES
        finally:
            engine.dispose()
    finally:
        pg.drop_schema(postgres_url, schema)


@pytest.mark.postgres
def test_upgrade_never_logs_the_password(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The test server trusts every local user, so any password connects.
    with_password = make_url(postgres_url).set(password="hunter2")
    with (
        pg.isolated_schema(with_password.render_as_string(hide_password=False)) as url,
        caplog.at_level(logging.DEBUG),
    ):
        upgrade_database(url)
    assert caplog.records
    assert "hunter2" not in caplog.text


VERSIONS_IN_ORDER = [
    "0.9.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.9.0",
    "1.10.0",
    "1.10.0-A",
    "2.0.0-0",
    "2.0.0-0.0",
    "2.0.0-0A",
    "2.0.0-a-b",
    "2.0.0-a.b",
    "2.0.0",
    "10.0.0",
    "123456789012345678901.0.0",
]


def test_version_sort_key_orders_like_semver() -> None:
    by_semver = sorted(VERSIONS_IN_ORDER, key=semver_key)
    by_key = sorted(VERSIONS_IN_ORDER, key=tables.version_sort_key)
    assert by_key == by_semver
    assert all(tables.version_sort_key(v).isdigit() for v in VERSIONS_IN_ORDER)


def test_version_sort_key_ignores_build_metadata() -> None:
    assert tables.version_sort_key("1.2.3+build.7") == tables.version_sort_key("1.2.3")
