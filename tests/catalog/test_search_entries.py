"""Search entries are read once, then kept up to date from what the store wrote since."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from agent_registry.assets.refs import AssetRef
from agent_registry.catalog import search_entries
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import SearchQuery
from agent_registry.registry.tables import AssetVersion, AuditEvent
from tests.catalog.seeding import deprecate, published


@pytest.fixture
def full_reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every full read of the entries, counted."""
    reads: list[object] = []
    real = search_entries._read_all

    def counting(*args: object) -> object:
        reads.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(search_entries, "_read_all", counting)
    return reads


def descriptions(catalog: DatabaseCatalog, text: str) -> list[str]:
    return [hit.description for hit in catalog.search(SearchQuery(text=text)).items]


def test_writes_are_read_as_changes_not_in_full(
    session: Session, catalog: DatabaseCatalog, full_reads: list[object]
) -> None:
    published(session, "skill/pdf-report@1.0.0", description="Reads PDFs.")
    assert descriptions(catalog, "pdf") == ["Reads PDFs."]
    published(session, "skill/pdf-report@1.1.0", description="Reads PDFs faster.")
    published(session, "skill/pdf-merger@1.0.0", description="Merges PDFs.")
    assert descriptions(catalog, "pdf") == ["Merges PDFs.", "Reads PDFs faster."]
    deprecate(session, AssetRef.parse("skill/pdf-report@1.1.0"))
    assert descriptions(catalog, "pdf") == ["Merges PDFs.", "Reads PDFs."]
    assert descriptions(catalog, "pdf") == ["Merges PDFs.", "Reads PDFs."]

    assert len(full_reads) == 1


def test_a_change_committed_out_of_id_order_is_still_seen(
    session: Session, engine: Engine, catalog: DatabaseCatalog, full_reads: list[object]
) -> None:
    ref = published(session, "skill/pdf-report@1.0.0", description="Reads PDFs.")
    assert descriptions(catalog, "pdf") == ["Reads PDFs."]
    top = session.exec(select(func.max(col(AuditEvent.id)))).one()
    assert top is not None

    def audit(event_id: int, key: str) -> None:
        session.add(
            AuditEvent(
                id=event_id,
                event_key=key,
                actor="t",
                action="revised",
                kind=ref.kind.value,
                name=ref.name,
                version=ref.version,
            )
        )
        session.commit()

    # A transaction that took a later id commits first...
    audit(top + 10, "later")
    assert descriptions(catalog, "pdf") == ["Reads PDFs."]
    # ...then one with an earlier id commits its change: the largest id stays the same.
    session.exec(
        update(AssetVersion)
        .where(col(AssetVersion.version) == "1.0.0")
        .values(description="Reads PDFs, late.")
    )
    audit(top + 5, "earlier")

    assert descriptions(catalog, "pdf") == ["Reads PDFs, late."]
    assert len(full_reads) == 1
