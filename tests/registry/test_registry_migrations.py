"""The migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import UniqueConstraint, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from agent_registry.assets.refs import AssetRef, semver_key
from agent_registry.registry import store, tables
from agent_registry.registry.db import alembic_config, make_engine, upgrade_database
from tests import pg

NOW = datetime(2026, 11, 24, tzinfo=UTC)

TABLES = {
    "asset",
    "asset_version",
    "blob",
    "eval_run",
    "eval_finding",
    "review_decision",
    "audit_event",
    "audit_chain_head",
    "slack_message",
    "tool_fingerprint",
    "install_event",
    "usage_event",
}


def test_upgrade_from_empty_matches_the_models(empty_db_url: str) -> None:
    upgrade_database(empty_db_url)

    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
            assert set(inspect(connection).get_table_names()) == TABLES | {"alembic_version"}
            assert context.get_current_revision() == "0010"
    finally:
        engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_db_url: str) -> None:
    upgrade_database(empty_db_url)
    upgrade_database(empty_db_url)

    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == "0010"
    finally:
        engine.dispose()


LIFE_COLUMNS = {
    "recertify_by",
    "recertified_at",
    "deprecated_at",
    "deprecated_by",
    "deprecation_reason",
    "replacement",
    "sunset_at",
    "retired_at",
}


def test_life_columns_arrive_empty_on_existing_versions_and_leave_cleanly(
    empty_db_url: str,
) -> None:
    config = alembic_config(empty_db_url)
    command.upgrade(config, "0002")
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO asset (id, kind, name, owner_team, created_at) "
                    "VALUES (1, 'skill', 'pdf-report', 'platform', :now)"
                ),
                {"now": NOW},
            )
            connection.execute(
                text(
                    "INSERT INTO asset_version (id, asset_id, version, version_sort, stage, "
                    "content_hash, manifest_json, description, tier_reasons, submitter, "
                    "authors, changelog, machine_authored, workflow_id, submitted_at, "
                    "updated_at, published_at, approvers) VALUES (1, 1, '1.0.0', 'k', "
                    "'Published', 'abc', '{}', 'd', '[]', 'ada', '[]', '', false, 'w', :now, "
                    ":now, :now, '[]')"
                ),
                {"now": NOW},
            )

        command.upgrade(config, "head")  # the models read every later column too
        with Session(engine) as session:
            version = store.get_version(session, ref=AssetRef.parse("skill/pdf-report@1.0.0"))
            assert version.stage == "Published"
            assert all(getattr(version, column) is None for column in LIFE_COLUMNS)

        command.downgrade(config, "0002")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("asset_version")}
            assert not columns & LIFE_COLUMNS
            assert connection.execute(text("SELECT version FROM asset_version")).all() == [
                ("1.0.0",)
            ]
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
