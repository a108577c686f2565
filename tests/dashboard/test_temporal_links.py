"""Links from the dashboard into the Temporal UI: a version to its lifecycle, a section to
the UI's workflow list filtered by the query that selects the same versions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from typer.testing import CliRunner

from agent_registry.api.app import build_web_app
from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.report import ReportInputs, VersionFacts, build_report
from agent_registry.cli.devstack import stack_environment
from agent_registry.cli.main import build_app
from agent_registry.config import Settings
from agent_registry.dashboard.page import REFRESH_SECONDS, render_dashboard
from agent_registry.dashboard.routes import add_routes
from agent_registry.dashboard.sections import PAGE_ROWS
from agent_registry.lifecycle.visibility import (
    AWAITING_SUNSET,
    EVAL_FAILURES,
    PAST_SLA,
    PENDING_REVIEWS,
    RECERTIFICATIONS_DUE,
    TemporalConsole,
    lifecycle_workflow_id,
    view,
    views,
)
from tests.api.seed import seed_registry
from tests.dashboard.sample import NOW, sample_report

CONSOLE = TemporalConsole(ui_url="http://ui.test:9999/", namespace="registry prod")


def links(page: str, css_class: str) -> dict[str, str]:
    """``data-view`` (or the version) of each ``<a class=...>`` and its href, unescaped."""
    found: dict[str, str] = {}
    for match in re.finditer(rf'<a class="{css_class}"([^>]*)>(.*?)</a>', page):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))
        key = attrs.get("data-view") or re.sub(r"<[^>]+>", "", match.group(2))
        found[key] = attrs["href"].replace("&amp;", "&")
    return found


@pytest.mark.parametrize(
    "ref",
    [
        "skill/release-notes@1.0.0",
        "subagent/code-reviewer@2.0.0-rc.1",
        "mcp-server/io.github.modelcontextprotocol/time@2026.10.19",
    ],
)
def test_the_workflow_id_is_the_lifecycles_own(ref: str) -> None:
    assert lifecycle_workflow_id(ref) == AssetRef.parse(ref).workflow_id


def test_every_listed_version_links_to_its_lifecycle_in_the_ui() -> None:
    report = sample_report()
    page = render_dashboard(report, console=CONSOLE)
    rows = links(page, "wf")
    listed = (
        [r.ref for r in report.pending_reviews]
        + [d.ref for d in report.recertifications_due]
        + [d.ref for d in report.deprecations]
        + [f.ref for f in report.eval_failures]
    )
    assert set(rows) == set(listed)
    for ref, href in rows.items():
        workflow_id = AssetRef.parse(ref).workflow_id
        parts = urlsplit(href)
        assert (parts.scheme, parts.netloc) == ("http", "ui.test:9999")
        prefix = "/namespaces/registry%20prod/workflows/"
        assert parts.path.startswith(prefix)
        # The id is one path segment: its slashes are encoded, as the UI expects.
        assert "/" not in parts.path[len(prefix) :]
        assert unquote(parts.path[len(prefix) :]) == workflow_id


def test_every_section_links_to_the_filtered_list_with_its_query() -> None:
    page = render_dashboard(sample_report(), console=CONSOLE)
    sections = links(page, "view")
    assert set(sections) == {
        PENDING_REVIEWS,
        PAST_SLA,
        RECERTIFICATIONS_DUE,
        AWAITING_SUNSET,
        EVAL_FAILURES,
    }
    for key, href in sections.items():
        parts = urlsplit(href)
        assert parts.path == "/namespaces/registry%20prod/workflows"
        assert parse_qs(parts.query)["query"] == [view(key, NOW).query]


def test_the_queries_restate_the_sections_rules() -> None:
    by_key = {v.key: v.query for v in views(NOW)}
    lifecycle = 'WorkflowType="AssetLifecycle"'
    assert all(query.startswith(lifecycle + " AND ") for query in by_key.values())
    assert by_key[PENDING_REVIEWS] == f'{lifecycle} AND LifecycleStage="InReview"'
    assert by_key[PAST_SLA] == (
        f'{lifecycle} AND LifecycleStage="InReview" AND ReviewDeadline < "2026-03-02T12:00:00Z"'
    )
    assert by_key[RECERTIFICATIONS_DUE] == (
        f'{lifecycle} AND LifecycleStage IN ("Published", "Recertifying") '
        'AND RecertifyBy <= "2026-04-01T12:00:00Z"'
    )
    assert by_key[AWAITING_SUNSET] == f'{lifecycle} AND LifecycleStage="Deprecated"'
    assert by_key[EVAL_FAILURES] == (
        f'{lifecycle} AND LifecycleStage="EvalFailed" AND StartTime >= "2026-02-23T12:00:00Z"'
    )


def test_times_in_queries_are_utc_whatever_the_offset_of_now() -> None:
    shifted = NOW.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert view(PAST_SLA, shifted).query == view(PAST_SLA, NOW).query


def test_an_unknown_view_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match="no Temporal view named 'nope'"):
        view("nope", NOW)


def test_the_page_says_when_it_was_generated_and_refreshes_itself() -> None:
    page = render_dashboard(sample_report(), console=CONSOLE)
    assert '<time datetime="2026-03-02T12:00:00+00:00">2026-03-02 12:00:00 UTC</time>' in page
    assert f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' in page
    assert f"refreshes every {REFRESH_SECONDS} s" in page


def test_the_eval_failures_of_the_week_are_listed() -> None:
    page = render_dashboard(sample_report(), console=CONSOLE)
    assert "Eval failures this week (1)" in page
    assert 'data-ref="mcp-server/io.github.acme/leaky@2.0.0"' in page


def test_the_report_command_prints_the_same_queries_and_links(
    sqlite_engine: Engine, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_registry(sqlite_engine)
    for name in ("AGENT_REGISTRY_API_URL", "AGENT_REGISTRY_POLICY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENT_REGISTRY_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("AGENT_REGISTRY_UI_URL", "http://ui.test:9999")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "registry")

    ran = CliRunner().invoke(build_app(), ["report"])

    assert ran.exit_code == 0, ran.output
    generated = re.search(r"generated (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", ran.stdout)
    assert generated is not None
    printed_queries = re.findall(r"^    query: (.*)$", ran.stdout, flags=re.MULTILINE)
    printed_links = re.findall(r"^    (http://\S+)$", ran.stdout, flags=re.MULTILINE)
    assert len(printed_queries) == len(printed_links) == 5
    for query, link in zip(printed_queries, printed_links, strict=True):
        parts = urlsplit(link)
        assert parts.path == "/namespaces/registry/workflows"
        assert parse_qs(parts.query)["query"] == [query]
    now = datetime.strptime(generated.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    expected = [v.query for v in views(now)]
    # Time-bound queries are fixed at the report's second; compare all but the instant.
    strip = re.compile(r'"\d{4}-\d\d-\d\dT[\d:]+Z"')
    assert [strip.sub("T", q) for q in printed_queries] == [strip.sub("T", q) for q in expected]


async def test_the_served_dashboard_links_to_the_configured_ui_and_namespace(
    sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_registry(sqlite_engine)
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "registry")
    monkeypatch.setenv("AGENT_REGISTRY_UI_URL", "http://127.0.0.1:18233")
    settings = Settings(_env_file=None, data_dir=tmp_path)
    app = build_web_app(settings, DatabaseCatalog(sqlite_engine), extra_routes=[add_routes])
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        page = await (await client.get("/dashboard")).text()
    finally:
        await client.close()
    rows = links(page, "wf")
    pending = "subagent/code-reviewer@2.0.0-rc.1"
    assert rows[pending] == (
        "http://127.0.0.1:18233/namespaces/registry/workflows/"
        + quote(AssetRef.parse(pending).workflow_id, safe="")
    )
    for href in links(page, "view").values():
        assert href.startswith("http://127.0.0.1:18233/namespaces/registry/workflows?query=")


def test_agentreg_up_points_the_links_at_the_ui_it_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = stack_environment(
        {"AGENT_REGISTRY_UI_URL": "http://elsewhere:8233", "HOME": "/root"},
        port=17233,
        ui_port=18233,
    )

    assert env["TEMPORAL_ADDRESS"] == "127.0.0.1:17233"
    assert env["HOME"] == "/root"
    # What the worker and the server it starts read from that environment:
    monkeypatch.setenv("AGENT_REGISTRY_UI_URL", env["AGENT_REGISTRY_UI_URL"])
    assert Settings(_env_file=None).ui_url == "http://localhost:18233"


def test_eval_failures_are_those_of_lifecycles_started_this_week() -> None:
    def facts(version_id: int, stage: str, started_days_ago: float) -> VersionFacts:
        started = NOW - timedelta(days=started_days_ago)
        return VersionFacts(
            version_id=version_id,
            asset_id=version_id,
            kind="skill",
            name=f"s{version_id}",
            owner_team="docs",
            version="1.0.0",
            version_sort="1.0.0",
            stage=stage,
            risk_tier="low",
            updated_at=started + timedelta(minutes=1),
            submitted_at=started,
        )

    report = build_report(
        ReportInputs(
            now=NOW,
            review_sla=timedelta(hours=48),
            versions=[
                facts(1, "EvalFailed", 1),
                facts(2, "EvalFailed", 6.9),
                facts(3, "EvalFailed", 7.1),  # started before the week: the view leaves it
                facts(4, "InReview", 1),
            ],
            reach={},
            review_started={},
            uses=[],
            days=[],
        )
    )

    assert [f.ref for f in report.eval_failures] == ["skill/s1@1.0.0", "skill/s2@1.0.0"]


def test_the_saved_views_in_the_docs_are_the_dashboard_s_queries() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    instants = {
        "2026-03-02T12:00:00Z": "<now>",
        "2026-04-01T12:00:00Z": "<now + 30 days>",
        "2026-02-23T12:00:00Z": "<now - 7 days>",
    }
    for shown in views(NOW):
        query = shown.query
        for instant, placeholder in instants.items():
            query = query.replace(instant, placeholder)
        row = f"| {shown.title} | `{query}` | {', '.join(shown.columns)} |"
        assert row in doc, f"docs/operations.md lacks the saved view: {row}"


def test_a_long_list_shows_its_first_rows_and_links_to_all_of_them() -> None:
    report = sample_report()
    template = report.pending_reviews[0]
    report.pending_reviews = [
        template.model_copy(update={"ref": f"skill/s{i:03d}@1.0.0"}) for i in range(PAGE_ROWS + 50)
    ]
    page = render_dashboard(report, console=CONSOLE)
    governance = page.split('id="governance"')[1].split("Re-certifications due")[0]
    assert governance.count('<a class="wf"') == PAGE_ROWS
    assert f"skill/s{PAGE_ROWS - 1:03d}@1.0.0" in governance
    assert f"skill/s{PAGE_ROWS:03d}@1.0.0" not in governance
    assert f"Showing the first {PAGE_ROWS} of {PAGE_ROWS + 50}" in governance
    assert 'data-view="pending-reviews"' in governance  # the list with all of them
