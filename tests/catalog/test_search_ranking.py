"""Ranking on its own: exact name, then name prefix and name words, then description."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from agent_registry.catalog import search
from agent_registry.catalog.search import (
    ALL_WORDS_IN_NAME,
    EXACT_NAME,
    IN_DESCRIPTION,
    NAME_PREFIX,
    Document,
    SearchIndex,
    document,
    parse_query,
    score,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def doc(
    name: str, description: str = "Does a thing.", *, kind: str = "skill", age_days: int = 0
) -> Document[str]:
    return document(
        name,
        kind=kind,
        name=name,
        description=description,
        recency=T0 - timedelta(days=age_days),
    )


def ranked(query: str, docs: list[Document[str]]) -> list[tuple[float, str]]:
    index = SearchIndex(sorted(docs, key=lambda d: (d.kind, d.name)))
    return index.search(parse_query(query)).hits


def names(query: str, docs: list[Document[str]]) -> list[str]:
    return [item for _, item in ranked(query, docs)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pdf-report", EXACT_NAME),
        ("PDF-Report", EXACT_NAME),
        ("skill/pdf-report", EXACT_NAME),
        ("pdf-rep", NAME_PREFIX),
        ("skill/pdf", NAME_PREFIX),
        ("report pdf", ALL_WORDS_IN_NAME),
        ("reports", ALL_WORDS_IN_NAME),
        ("tables", IN_DESCRIPTION),
        ("extraction", IN_DESCRIPTION),
        ("invoice", None),
        ("port", None),
        ("pdf invoice", None),
    ],
)
def test_tiers(query: str, expected: float | None) -> None:
    target = doc("pdf-report", "Extracts tables from PDF files into CSV.")
    assert score(parse_query(query), target) == expected


def test_mcp_servers_match_by_full_name_and_last_part() -> None:
    server = doc("io.github.acme/weather", "Forecasts.", kind="mcp-server")
    assert score(parse_query("weather"), server) == EXACT_NAME
    assert score(parse_query("io.github.acme/weather"), server) == EXACT_NAME
    assert score(parse_query("weath"), server) == NAME_PREFIX
    assert score(parse_query("acme weather"), server) == ALL_WORDS_IN_NAME


def test_a_single_letter_does_not_start_every_kind_name() -> None:
    assert score(parse_query("s"), doc("pdf-report", "Reads PDFs.")) is None


def test_words_found_partly_in_the_name_beat_words_only_in_the_description() -> None:
    mixed = doc("pdf-tools", "Extracts tables.")
    described = doc("extractor", "Pulls tables out of PDF files.")
    query = parse_query("pdf tables")
    mixed_score, described_score = score(query, mixed), score(query, described)
    assert mixed_score is not None and described_score is not None
    assert described_score == IN_DESCRIPTION < mixed_score < ALL_WORDS_IN_NAME


def test_order_is_exact_then_prefix_then_name_words_then_description_then_recency() -> None:
    docs = [
        doc("old-notes", "Writes a report.", age_days=30),
        doc("new-notes", "Writes a report.", age_days=1),
        doc("report-builder"),
        doc("report"),
        doc("weekly-report"),
        doc("unrelated", "Nothing to see."),
    ]
    assert names("report", docs) == [
        "report",
        "report-builder",
        "weekly-report",
        "new-notes",
        "old-notes",
    ]


def test_camel_case_and_stems_meet() -> None:
    assert score(parse_query("pdf report"), doc("pdfReportTool")) == ALL_WORDS_IN_NAME
    assert score(parse_query("libraries"), doc("x", "A library of prompts.")) == IN_DESCRIPTION
    assert score(parse_query("kube"), doc("x", "Deploys to Kubernetes.")) == IN_DESCRIPTION


def test_stop_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert score(parse_query("the pdf skill"), doc("pdf-report")) == ALL_WORDS_IN_NAME
    assert score(parse_query("mcp server"), doc("x", "An MCP server for time.")) is not None


def test_no_text_matches_everything_in_index_order() -> None:
    docs = [doc("b"), doc("a", kind="subagent"), doc("a")]
    assert ranked("   ", docs) == [(1.0, "a"), (1.0, "b"), (1.0, "a")]
    assert [d.kind for d in sorted(docs, key=lambda d: (d.kind, d.name))] == [
        "skill",
        "skill",
        "subagent",
    ]


def test_text_without_words_matches_names_only() -> None:
    assert score(parse_query("2024"), doc("2024-planner")) == NAME_PREFIX
    assert score(parse_query("2024"), doc("planner", "Plans 2024.")) is None


def test_pages_and_filters_of_an_index() -> None:
    docs = [doc(f"tool-{number}", age_days=number) for number in range(5)]
    index = SearchIndex(docs)

    page = index.search(parse_query("tool"), offset=1, limit=2)
    assert page.total == 5
    assert page.hits == [(NAME_PREFIX, "tool-1"), (NAME_PREFIX, "tool-2")]
    odd = index.search(parse_query(""), where=lambda item: item[-1] in "13")
    assert (odd.total, [item for _, item in odd.hits]) == (2, ["tool-1", "tool-3"])


WORDS = ["pdf", "report", "reports", "table", "tables", "extract", "libraries", "kube", "s3"]
NAMES = ["pdf-report", "pdfReportTool", "io.github.acme/s3-tables", "extractor", "kubectl"]


@pytest.mark.parametrize("scans", [0, 1_000_000], ids=["postings", "scanning"])
def test_the_index_agrees_with_scoring_each_document(
    scans: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Word postings from the first query, or never: both must rank as score() does.
    monkeypatch.setattr(search, "SCANS_BEFORE_POSTINGS", scans)
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
    docs = [
        doc(
            f"{rng.choice(NAMES)}-{number}",
            " ".join(rng.choice([*WORDS, "Library", "Kubernetes", "Extraction"]) for _ in range(6)),
            kind=rng.choice(["skill", "subagent", "mcp-server"]),
            age_days=rng.randrange(100),
        )
        for number in range(300)
    ]
    ordered = sorted(docs, key=lambda d: (d.kind, d.name))
    index = SearchIndex(ordered)
    queries = [*WORDS, *NAMES, "pdf tables", "report s3", "skill/pdf", "mcp-server/io.github", "x"]
    queries += [f"{NAMES[0]}-1{digit}" for digit in range(10)]
    for text in queries:
        query = parse_query(text)
        scored = [(score(query, d), d) for d in ordered]
        matches = [(value, d) for value, d in scored if value is not None]
        matches.sort(key=lambda pair: (-pair[0], -pair[1].recency))
        expected = [(value, d.item) for value, d in matches]
        assert index.search(query).hits == expected, text
