"""``agentreg report``: the same report in the terminal, and as JSON for scripts."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import InstallEvent, OrgReport
from agent_registry.cli.main import build_app
from agent_registry.cli.report import print_report
from tests.api.seed import SKILL, seed_registry
from tests.dashboard.sample import HOSTILE, empty_report, sample_report


def printed(report: OrgReport) -> str:
    console = Console(file=io.StringIO(), width=160, highlight=False)
    print_report(report, console)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_every_part_is_printed_and_user_text_is_not_markup() -> None:
    text = printed(sample_report())
    for title in (
        "By kind",
        "By stage",
        "By owner team",
        "By risk tier",
        "What published assets can touch",
        "Pending reviews (1)",
        "Re-certifications due (2)",
        "Deprecations and sunsets (1)",
        "Installs and uses per day",
        "Reuse per asset",
        "Nobody uses (1)",
    ):
        assert title in text
    assert HOSTILE in text  # printed literally, not interpreted as rich markup
    assert "breached" in text
    assert "overdue 3 d ago" in text


def test_an_empty_report_prints() -> None:
    text = printed(empty_report())
    assert "Pending reviews (0)" in text
    assert "every published asset is installed or used" in text


def test_report_command_reads_the_database(
    sqlite_engine: Engine, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_registry(sqlite_engine)
    DatabaseCatalog(sqlite_engine).record_install(
        InstallEvent(ref=str(SKILL), team="docs", user="ada", at=datetime.now(UTC))
    )
    for name in ("AGENT_REGISTRY_API_URL", "AGENT_REGISTRY_POLICY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENT_REGISTRY_DATABASE_URL", sqlite_url)
    runner = CliRunner()

    as_json = runner.invoke(build_app(), ["report", "--json"])
    assert as_json.exit_code == 0, as_json.output
    report = OrgReport.model_validate_json(as_json.stdout)
    skill = next(r for r in report.reuse if r.ref == f"skill/{SKILL.name}")
    assert skill.installs == 1

    as_text = runner.invoke(build_app(), ["report"])
    assert as_text.exit_code == 0, as_text.output
    assert f"skill/{SKILL.name}" in as_text.stdout
    assert "Reuse per asset" in as_text.stdout
