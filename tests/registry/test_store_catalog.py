"""The published catalog the reuse check reads, and the token that says it changed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.reuse import CatalogEntry
from tests import seeding

SUNSET = datetime(2027, 1, 1, tzinfo=UTC)


def register(session: Session, ref: str, description: str, *, team: str = "documents") -> AssetRef:
    """Register a version with its own description (the factories share one)."""
    return seeding.register(session, ref, description=description, team=team)


def published(session: Session, ref: str, description: str, *, team: str = "documents") -> AssetRef:
    parsed = register(session, ref, description, team=team)
    seeding.publish(session, parsed)
    session.commit()
    return parsed


def deprecate(session: Session, ref: AssetRef) -> None:
    seeding.deprecate(session, ref, sunset_at=SUNSET)
    session.commit()


def refs(catalog: list[CatalogEntry]) -> list[str]:
    return [entry.ref for entry in catalog]


# --- published_catalog ----------------------------------------------------------------


def test_an_empty_registry_has_an_empty_catalog(session: Session) -> None:
    assert store.published_catalog(session) == []


def test_the_catalog_lists_published_assets_with_description_and_owner(
    session: Session,
) -> None:
    published(session, "skill/pdf-report@1.2.0", "Extracts tables from PDF reports.")
    published(
        session,
        "mcp-server/io.github.acme/weather@0.3.0",
        "Current weather and forecasts.",
        team="platform",
    )
    register(session, "skill/csv-cleaner@1.0.0", "Cleans CSV files.")  # never published
    session.commit()

    assert store.published_catalog(session) == [
        CatalogEntry(
            kind=AssetKind.MCP_SERVER,
            name="io.github.acme/weather",
            version="0.3.0",
            description="Current weather and forecasts.",
            owner_team="platform",
        ),
        CatalogEntry(
            kind=AssetKind.SKILL,
            name="pdf-report",
            version="1.2.0",
            description="Extracts tables from PDF reports.",
            owner_team="documents",
        ),
    ]


def test_each_asset_appears_once_at_its_latest_published_version(session: Session) -> None:
    published(session, "skill/pdf-report@1.2.0", "Old words.")
    published(session, "skill/pdf-report@1.10.0", "New words.")  # semver, not text, order
    published(session, "skill/pdf-report@1.9.0", "Hotfix words.")
    register(session, "skill/pdf-report@2.0.0", "Not published yet.")
    session.commit()

    catalog = store.published_catalog(session)

    assert refs(catalog) == ["skill/pdf-report@1.10.0"]
    assert catalog[0].description == "New words."


def test_versions_being_recertified_stay_and_deprecated_ones_leave(session: Session) -> None:
    old = published(session, "skill/pdf-report@1.0.0", "Old.")
    newer = published(session, "skill/pdf-report@2.0.0", "Newer.")
    recertifying = published(session, "subagent/reviewer@1.0.0", "Reviews code.")
    store.set_stage(
        session,
        ref=recertifying,
        stage=Stage.RECERTIFYING,
        actor="registry",
        event_key="reviewer/recertify",
    )
    session.commit()

    deprecate(session, newer)

    assert refs(store.published_catalog(session)) == [
        str(old),
        "subagent/reviewer@1.0.0",
    ]

    deprecate(session, old)
    store.retire_version(session, ref=old, event_key="pdf-report/retire")
    session.commit()

    assert refs(store.published_catalog(session)) == ["subagent/reviewer@1.0.0"]


# --- catalog_generation ---------------------------------------------------------------


def test_the_generation_of_an_empty_catalog_is_stable(session: Session) -> None:
    first = store.catalog_generation(session)

    assert first == store.catalog_generation(session)
    assert isinstance(first, str)


def test_the_generation_changes_when_a_version_is_published(session: Session) -> None:
    before = store.catalog_generation(session)
    published(session, "skill/pdf-report@1.0.0", "Extracts tables.")
    after_first = store.catalog_generation(session)
    published(session, "skill/csv-cleaner@1.0.0", "Cleans CSV files.")

    assert len({before, after_first, store.catalog_generation(session)}) == 3


def test_the_generation_ignores_submissions_still_under_review(session: Session) -> None:
    published(session, "skill/pdf-report@1.0.0", "Extracts tables.")
    before = store.catalog_generation(session)

    register(session, "skill/pdf-report@2.0.0", "Under review.")
    register(session, "skill/csv-cleaner@1.0.0", "Cleans CSV files.")
    store.set_stage(
        session,
        ref=AssetRef.parse("skill/csv-cleaner@1.0.0"),
        stage=Stage.IN_REVIEW,
        actor="registry",
        event_key="csv-cleaner/in-review",
    )
    session.commit()

    assert store.catalog_generation(session) == before


def test_the_generation_changes_when_a_version_leaves(session: Session) -> None:
    ref = published(session, "skill/pdf-report@1.0.0", "Extracts tables.")
    published(session, "skill/csv-cleaner@1.0.0", "Cleans CSV files.")
    before = store.catalog_generation(session)

    deprecate(session, ref)

    assert store.catalog_generation(session) != before


def test_the_generation_changes_when_one_leaves_as_another_arrives(session: Session) -> None:
    old = published(session, "skill/pdf-report@1.0.0", "Extracts tables.")
    register(session, "skill/pdf-report@2.0.0", "Extracts tables, faster.")
    session.commit()
    before = store.catalog_generation(session)

    seeding.publish(session, AssetRef.parse("skill/pdf-report@2.0.0"))
    deprecate(session, old)

    assert store.catalog_generation(session) != before
    assert refs(store.published_catalog(session)) == ["skill/pdf-report@2.0.0"]
