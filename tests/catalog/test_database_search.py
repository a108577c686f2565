"""Search over the registry database: ranking, filters, stages, pages, and freshness."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import SearchQuery
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from tests.catalog.seeding import deprecate, move, publish, published, register, retire


def refs(catalog: DatabaseCatalog, **query: object) -> list[str]:
    return [hit.ref for hit in catalog.search(SearchQuery.model_validate(query)).items]


def test_exact_name_then_prefix_then_description(
    session: Session, catalog: DatabaseCatalog
) -> None:
    published(session, "skill/notes@1.0.0", description="Writes a weekly report for the team.")
    published(session, "skill/report-builder@1.0.0", description="Builds documents.")
    published(session, "subagent/report@1.0.0", description="Reviews pull requests.")
    published(session, "skill/unrelated@1.0.0", description="Formats code.")

    page = catalog.search(SearchQuery(text="report"))

    assert [hit.ref for hit in page.items] == [
        "subagent/report@1.0.0",
        "skill/report-builder@1.0.0",
        "skill/notes@1.0.0",
    ]
    assert [hit.score for hit in page.items] == [1.0, 0.9, 0.4]
    assert page.total == 3
    assert page.next_offset is None


def test_hits_carry_the_version_summary(session: Session, catalog: DatabaseCatalog) -> None:
    ref = published(session, "skill/pdf-report@1.2.0", description="Reads PDFs.", team="docs")

    (hit,) = catalog.search(SearchQuery(text="pdf")).items

    assert hit.ref == str(ref)
    assert (hit.kind, hit.name, hit.version, hit.stage) == (
        AssetKind.SKILL,
        "pdf-report",
        "1.2.0",
        "Published",
    )
    assert (hit.owner_team, hit.description) == ("docs", "Reads PDFs.")
    assert hit.content_hash == store.get_version(session, ref=ref).content_hash
    assert hit.published_at is not None


def test_filters_by_kind_team_and_stage(session: Session, catalog: DatabaseCatalog) -> None:
    published(session, "skill/pdf-report@1.0.0", team="docs")
    published(session, "subagent/pdf-reviewer@1.0.0", team="docs")
    published(session, "skill/pdf-cleaner@1.0.0", team="data")
    pending = register(session, "skill/pdf-merger@1.0.0", team="docs")
    move(session, pending, Stage.IN_REVIEW)
    session.commit()

    assert refs(catalog, text="pdf", kind="skill") == [
        "skill/pdf-cleaner@1.0.0",
        "skill/pdf-report@1.0.0",
    ]
    # Same tier (name prefix): the more recently published first.
    assert refs(catalog, text="pdf", team="docs") == [
        "subagent/pdf-reviewer@1.0.0",
        "skill/pdf-report@1.0.0",
    ]
    assert refs(catalog, text="pdf", stage="InReview") == ["skill/pdf-merger@1.0.0"]
    assert refs(catalog, stage="inreview", team="data") == []


def test_default_stages_are_what_may_be_installed(
    session: Session, catalog: DatabaseCatalog
) -> None:
    in_review = register(session, "skill/in-review@1.0.0")
    move(session, in_review, Stage.IN_REVIEW)
    session.commit()
    retire(session, published(session, "skill/retired@1.0.0"))
    deprecate(session, published(session, "skill/deprecated@1.0.0"))
    published(session, "skill/updating@1.0.0")
    update = register(session, "skill/updating@2.0.0")
    move(session, update, Stage.IN_REVIEW)
    session.commit()
    published(session, "skill/hotfixed@1.0.0")
    deprecate(session, published(session, "skill/hotfixed@2.0.0"))
    recertifying = published(session, "subagent/recertifying@1.0.0")
    move(session, recertifying, Stage.RECERTIFYING)
    session.commit()

    page = catalog.search(SearchQuery())

    assert [(hit.ref, hit.stage) for hit in page.items] == [
        ("skill/deprecated@1.0.0", "Deprecated"),
        # The catalog version beats a higher deprecated one.
        ("skill/hotfixed@1.0.0", "Published"),
        ("skill/updating@1.0.0", "Published"),
        ("subagent/recertifying@1.0.0", "Recertifying"),
    ]
    assert {hit.score for hit in page.items} == {1.0}
    assert refs(catalog, stage="Retired") == ["skill/retired@1.0.0"]
    assert refs(catalog, stage="InReview") == ["skill/in-review@1.0.0", "skill/updating@2.0.0"]


def test_the_latest_version_is_ranked_by_its_own_description(
    session: Session, catalog: DatabaseCatalog
) -> None:
    published(session, "skill/converter@1.0.0", description="Converts invoices.")
    published(session, "skill/converter@1.10.0", description="Converts receipts.")
    published(session, "skill/converter@1.9.0", description="Converts invoices again.")

    assert refs(catalog, text="receipts") == ["skill/converter@1.10.0"]
    assert refs(catalog, text="invoices") == []


def test_pages_cover_every_match_once(session: Session, catalog: DatabaseCatalog) -> None:
    for number in range(25):
        register(session, f"skill/tool-{number:02d}@1.0.0")
        publish(session, AssetRef.parse(f"skill/tool-{number:02d}@1.0.0"))
    session.commit()

    pages = [catalog.search(SearchQuery(limit=10, offset=offset)) for offset in (0, 10, 20)]

    assert [page.next_offset for page in pages] == [10, 20, None]
    assert {page.total for page in pages} == {25}
    assert [hit.name for page in pages for hit in page.items] == [
        f"tool-{number:02d}" for number in range(25)
    ]
    assert catalog.search(SearchQuery(limit=10, offset=30)).items == []


def test_search_sees_every_change(session: Session, catalog: DatabaseCatalog) -> None:
    ref = published(session, "skill/pdf-report@1.0.0")
    assert refs(catalog, text="pdf") == ["skill/pdf-report@1.0.0"]

    published(session, "skill/pdf-report@1.1.0")
    assert refs(catalog, text="pdf") == ["skill/pdf-report@1.1.0"]

    deprecate(session, AssetRef.parse("skill/pdf-report@1.1.0"))
    assert refs(catalog, text="pdf") == [str(ref)]

    # Another catalog on the same engine shares the entries and sees the same.
    other = DatabaseCatalog(catalog._engine)
    retire(session, ref)
    assert refs(other, text="pdf") == ["skill/pdf-report@1.1.0"]
    assert refs(catalog, text="pdf") == ["skill/pdf-report@1.1.0"]


def test_an_unknown_stage_is_refused(catalog: DatabaseCatalog) -> None:
    with pytest.raises(ValueError, match="unknown stage 'Live'"):
        catalog.search(SearchQuery(stage="Live"))
