"""Reuse before rebuild: the similarity index finds near duplicates and stays quiet otherwise."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_registry.assets.refs import AssetKind
from agent_registry.reuse import (
    DEFAULT_LIMIT,
    DEFAULT_MIN_SCORE,
    CatalogEntry,
    Match,
    SimilarityIndex,
)
from agent_registry.reuse.terms import name_grams, split_words, stem, word_terms

SKILL, SUBAGENT, MCP = AssetKind.SKILL, AssetKind.SUBAGENT, AssetKind.MCP_SERVER


def entry(
    name: str,
    description: str,
    *,
    kind: AssetKind = SKILL,
    version: str = "1.0.0",
    team: str = "platform",
) -> CatalogEntry:
    return CatalogEntry(
        kind=kind, name=name, version=version, description=description, owner_team=team
    )


PDF_REPORT = entry(
    "pdf-report",
    "Extracts tables from PDF reports into CSV so analysts can work with them. "
    "Use when a user shares a PDF report and asks for its tables.",
    version="1.2.0",
    team="documents",
)

CATALOG = [
    PDF_REPORT,
    entry(
        "csv-cleaner",
        "Cleans messy CSV files: trims whitespace, normalises dates and drops duplicate "
        "rows. Use when importing spreadsheets.",
    ),
    entry(
        "k8s-deploy",
        "Deploys services to Kubernetes clusters with Helm charts and checks rollout "
        "status. Use when shipping a release.",
        team="infra",
    ),
    entry(
        "slack-standup",
        "Summarises a Slack channel's messages into a daily standup digest for the team.",
    ),
    entry(
        "sql-query-review",
        "Reviews SQL queries for performance problems, missing indexes and injection risks "
        "before they are merged.",
        team="data",
    ),
    entry(
        "invoice-parser",
        "Parses supplier invoices in PDF form and returns line items, totals and VAT as JSON.",
        team="finance",
    ),
    entry("git-commit-message", "Writes conventional commit messages from the staged diff."),
    entry(
        "code-review",
        "Reviews pull requests for bugs, style problems and missing tests, and leaves comments.",
        kind=SUBAGENT,
    ),
    entry(
        "io.github.acme/weather",
        "MCP server exposing current weather and forecasts for a city.",
        kind=MCP,
    ),
    entry(
        "terraform-plan-check",
        "Checks Terraform plans for destructive changes and security group exposure before apply.",
        team="infra",
    ),
    entry("meeting-notes", "Turns meeting transcripts into notes with decisions and action items."),
    entry("pdf-merge", "Merges several PDF documents into one and adds a table of contents."),
    entry(
        "docx-to-markdown",
        "Converts Word documents to Markdown, keeping headings, lists and tables.",
    ),
    entry(
        "incident-postmortem",
        "Drafts an incident postmortem from the timeline, alerts and chat log of an outage.",
        team="sre",
    ),
    entry(
        "translate-docs",
        "Translates product documentation between English, German and Japanese, keeping "
        "Markdown intact.",
    ),
]


@pytest.fixture(scope="module")
def index() -> SimilarityIndex:
    return SimilarityIndex.build(CATALOG)


def names(matches: list[Match]) -> list[str]:
    return [match.entry.name for match in matches]


# --- near duplicates ------------------------------------------------------------------


def test_a_near_duplicate_is_reported_with_its_owner(index: SimilarityIndex) -> None:
    matches = index.closest(
        "pdf-table-extractor",
        "Pull tables out of PDF files and save them as CSV. Use when someone sends a PDF "
        "and wants the tables.",
        exclude_name=(SKILL, "pdf-table-extractor"),
    )

    assert matches, "a reworded duplicate of skill/pdf-report must be reported"
    top = matches[0]
    assert top.entry.ref == "skill/pdf-report@1.2.0"
    assert top.entry.owner_team == "documents"
    assert DEFAULT_MIN_SCORE <= top.score <= 1.0


@pytest.mark.parametrize(
    ("name", "description", "expected"),
    [
        ("pdf-reports", "Extract tables from PDF reports.", "pdf-report"),
        ("report-pdf", "Gets tabular data out of PDF reports as CSV.", "pdf-report"),
        ("pdfReport", "Turns the tables in a PDF report into CSV.", "pdf-report"),
        (
            "kubernetes-deployer",
            "Deploy a service to a Kubernetes cluster using Helm and watch the rollout.",
            "k8s-deploy",
        ),
        (
            "standup-summary",
            "Summarize Slack channel messages into a daily standup digest.",
            "slack-standup",
        ),
        (
            "sql-reviewer",
            "Review SQL queries for slow joins, missing indexes and SQL injection.",
            "sql-query-review",
        ),
        (
            "invoice-extractor",
            "Extract line items and totals from PDF invoices as JSON.",
            "invoice-parser",
        ),
        (
            "commit-writer",
            "Generate conventional commit messages from staged changes.",
            "git-commit-message",
        ),
        (
            "pr-reviewer",
            "Review pull requests for bugs and missing tests and comment on them.",
            "code-review",
        ),
        (
            "meeting-summarizer",
            "Summarizes meeting transcripts into decisions and action items.",
            "meeting-notes",
        ),
        (
            "postmortem-writer",
            "Write an incident postmortem from an outage's timeline and alerts.",
            "incident-postmortem",
        ),
        (
            "csv-tidy",
            "Tidy up messy CSV spreadsheets: trim whitespace, fix dates, remove duplicate rows.",
            "csv-cleaner",
        ),
    ],
)
def test_reworded_duplicates_come_first(
    index: SimilarityIndex, name: str, description: str, expected: str
) -> None:
    matches = index.closest(name, description, exclude_name=(SKILL, name))

    assert names(matches)[:1] == [expected]


@pytest.mark.parametrize("name", ["pdf-reports", "report-pdf", "pdfReport", "PDF_Report"])
def test_name_variants_match_on_the_name_alone(index: SimilarityIndex, name: str) -> None:
    matches = index.closest(name, "")

    assert names(matches)[:1] == ["pdf-report"]
    assert matches[0].score >= 0.5


def test_matches_are_ranked_closest_first(index: SimilarityIndex) -> None:
    matches = index.closest(
        "pdf-tables",
        "Extracts the tables of PDF reports and documents.",
        min_score=0.0,
        limit=len(CATALOG),
    )

    scores = [match.score for match in matches]
    assert scores == sorted(scores, reverse=True)
    assert names(matches)[:2] == ["pdf-report", "pdf-merge"]
    assert all(0.0 < score <= 1.0 for score in scores)


def test_the_same_asset_scores_one(index: SimilarityIndex) -> None:
    matches = index.closest(PDF_REPORT.name, PDF_REPORT.description)

    assert matches[0].entry == PDF_REPORT
    assert matches[0].score == pytest.approx(1.0)
    assert matches[0].score <= 1.0


def test_other_kinds_are_compared_too(index: SimilarityIndex) -> None:
    matches = index.closest(
        "pull-request-review",
        "Reviews pull requests for bugs and missing tests.",
        exclude_name=(SKILL, "pull-request-review"),
    )

    assert matches[0].entry.kind is SUBAGENT
    assert matches[0].entry.name == "code-review"


# --- staying quiet --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("jira-ticket-triage", "Use when a Jira ticket arrives: helps label it and assign it."),
        ("dockerfile-lint", "Lints Dockerfiles for pinned images and root. Use when files change."),
        ("email-tone-check", "Helps rewrite emails in a friendly tone. Use when drafting replies."),
        ("password-rotation", "Rotates database passwords stored in Vault on a schedule."),
        ("pdf-sign", "Adds a digital signature to a PDF contract with the company certificate."),
        ("unit-test-generator", "Generates pytest unit tests for Python functions."),
        ("image-resize", "Resizes and compresses images for the site, use when uploading files."),
        ("calendar-scheduler", "Finds a free slot across attendees' calendars and books a room."),
        ("log-anomaly", "Detects anomalies in application logs and opens an alert."),
        ("sales-forecast", "Forecasts quarterly sales from CRM pipeline data."),
    ],
)
def test_unrelated_assets_stay_quiet(index: SimilarityIndex, name: str, description: str) -> None:
    assert index.closest(name, description, exclude_name=(SKILL, name)) == []


def test_sharing_only_generic_words_is_no_match() -> None:
    index = SimilarityIndex.build(
        [
            entry("changelog-writer", "Use when a release is cut: helps write the changelog."),
            entry("ticket-router", "Helps route support tickets to the right queue."),
        ]
    )

    matches = index.closest(
        "photo-tagger",
        "Use when photos are uploaded: helps tag the files so users can find them.",
    )

    assert matches == []


def test_sharing_one_name_word_is_no_match(index: SimilarityIndex) -> None:
    matches = index.closest("weather-report", "Tells the user the weather.")

    assert names(matches) == ["io.github.acme/weather"]


def test_an_mcp_namespace_is_no_likeness() -> None:
    index = SimilarityIndex.build(
        [entry("io.github.acme/weather", "Current weather and forecasts.", kind=MCP)]
    )

    assert index.closest("io.github.acme/payroll", "Runs payroll for employees.") == []


# --- exclusions, limits, edge cases ---------------------------------------------------


def test_other_versions_of_the_submitted_asset_are_excluded() -> None:
    index = SimilarityIndex.build(
        [
            entry("pdf-report", PDF_REPORT.description, version="1.0.0"),
            entry("pdf-report", PDF_REPORT.description, version="2.0.0"),
            entry("pdf-report", PDF_REPORT.description, kind=SUBAGENT, team="analytics"),
        ]
    )

    matches = index.closest(
        "pdf-report", PDF_REPORT.description, exclude_name=(SKILL, "pdf-report")
    )

    assert [match.entry.ref for match in matches] == ["subagent/pdf-report@1.0.0"]


def test_an_asset_is_reported_once_whatever_its_versions() -> None:
    index = SimilarityIndex.build(
        [
            entry("pdf-report", "Extracts tables from PDF reports.", version="1.0.0"),
            entry("pdf-report", PDF_REPORT.description, version="2.0.0"),
            replace(PDF_REPORT, name="pdf-reporting"),
        ]
    )

    matches = index.closest("pdf-reports", "Extracts tables from PDF reports.")

    assert [match.entry.ref for match in matches] == [
        "skill/pdf-report@1.0.0",
        "skill/pdf-reporting@1.2.0",
    ]


def test_limit_keeps_the_closest(index: SimilarityIndex) -> None:
    everything = index.closest("pdf-tables", "PDF tables and reports.", min_score=0.0, limit=10)
    two = index.closest("pdf-tables", "PDF tables and reports.", min_score=0.0, limit=2)

    assert len(everything) > 2
    assert two == everything[:2]
    assert len(index.closest("pdf-tables", "PDF tables", min_score=0.0)) <= DEFAULT_LIMIT


def test_equal_scores_are_ordered_by_ref() -> None:
    twins = [entry("b-pdf-report", "PDF tables."), entry("a-pdf-report", "PDF tables.")]
    index = SimilarityIndex.build(twins)

    matches = index.closest("pdf-tables", "PDF tables.", min_score=0.0)

    assert matches[0].score == matches[1].score
    assert names(matches) == ["a-pdf-report", "b-pdf-report"]


def test_min_score_zero_still_needs_something_in_common(index: SimilarityIndex) -> None:
    assert index.closest("zzz", "qqq xxyz", min_score=0.0) == []


def test_an_empty_catalog_has_no_matches() -> None:
    index = SimilarityIndex.build([])

    assert len(index) == 0
    assert index.closest("pdf-report", PDF_REPORT.description, min_score=0.0) == []


def test_an_empty_submission_has_no_matches(index: SimilarityIndex) -> None:
    assert index.closest("", "", min_score=0.0) == []
    assert index.closest("--", "Use it when it helps.", min_score=0.0) == []


def test_non_ascii_text_is_compared_not_refused() -> None:
    index = SimilarityIndex.build(
        [
            entry("rechnungsprüfung", "Prüft eingehende Rechnungen auf Umsatzsteuer-Fehler."),
            entry("請求書チェック", "請求書 の 金額 を 確認 します"),
            entry("emoji-🚀-launcher", "Launches rockets 🚀 — naïve café façade."),
        ]
    )

    german = index.closest("rechnungsprüfer", "Prüft Rechnungen auf Umsatzsteuer-Fehler.")
    japanese = index.closest("請求書チェック", "請求書 の 金額 を 確認")
    mixed = index.closest("🚀", "naïve café — façade ✓")

    assert names(german)[:1] == ["rechnungsprüfung"]
    assert names(japanese)[:1] == ["請求書チェック"]
    assert all(0.0 <= match.score <= 1.0 for match in mixed)


@pytest.mark.parametrize(("limit", "min_score"), [(0, 0.3), (3, -0.1), (3, 1.5)])
def test_nonsense_arguments_are_refused(
    index: SimilarityIndex, limit: int, min_score: float
) -> None:
    with pytest.raises(ValueError, match=r"limit|min_score"):
        index.closest("pdf-report", "", limit=limit, min_score=min_score)


def test_entry_ref_reads_like_a_reference() -> None:
    assert PDF_REPORT.ref == "skill/pdf-report@1.2.0"
    assert (
        entry("io.github.acme/weather", "", kind=MCP).ref
        == "mcp-server/io.github.acme/weather@1.0.0"
    )


# --- terms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("pdf-report", ["pdf", "report"]),
        ("pdf_report.v2", ["pdf", "report", "v2"]),
        ("pdfReport", ["pdf", "report"]),
        ("HTTPServer2Go", ["http", "server2", "go"]),
        ("Release 2024 for S3", ["release", "for", "s3"]),
        ("Straße ÜBER naïve", ["strasse", "über", "naïve"]),
    ],
)
def test_words_split_at_punctuation_case_and_script(text: str, words: list[str]) -> None:
    assert split_words(text) == words


@pytest.mark.parametrize(
    "group",
    [
        ["extract", "extracts", "extracted", "extracting", "extractor", "extraction"],
        ["report", "reports", "reporting", "reporter"],
        ["parse", "parses", "parsed", "parsing", "parser"],
        ["table", "tables"],
        ["library", "libraries"],
        ["filter", "filters", "filtering", "filtered"],
        ["generate", "generates", "generator", "generation"],
        ["deploy", "deploys", "deployment", "deployer"],
        ["run", "running"],
    ],
)
def test_inflections_share_a_stem(group: list[str]) -> None:
    assert len({stem(word) for word in group}) == 1


def test_stop_words_and_the_mcp_namespace_carry_no_terms() -> None:
    assert word_terms("io.github.acme/weather", "Use when it helps with the files.") == {"weath": 1}
    assert set(name_grams("report-pdf")) == set(name_grams("pdf-report"))
