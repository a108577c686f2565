"""``show`` and ``bundle`` over the registry database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import Bundle, BundleLimits
from agent_registry.assets.refs import InvalidRefError
from agent_registry.catalog import scopes
from agent_registry.catalog.database import CorruptBundleError, DatabaseCatalog
from agent_registry.catalog.models import CatalogNotFoundError, ScopeTool
from agent_registry.lifecycle.stages import RiskTier, Stage
from agent_registry.registry import store
from agent_registry.registry.tables import Blob
from agent_registry.vocabulary.findings import Finding, Severity
from tests.catalog.seeding import (
    SUNSET,
    deprecate,
    mcp_archive,
    move,
    published,
    register,
    retire,
)

RECERTIFY_BY = datetime(2027, 2, 1, tzinfo=UTC)


def test_a_versioned_ref_shows_that_version_completely(
    session: Session, catalog: DatabaseCatalog
) -> None:
    ref = published(session, "skill/pdf-report@1.2.0", description="Reads PDFs.", team="docs")
    store.record_eval(
        session,
        ref=ref,
        run_key="pdf-report/eval/1",
        policy_version="2026.11",
        passed=True,
        risk_tier=RiskTier.MEDIUM,
        tier_reasons=["runs scripts"],
        findings=[
            Finding(check_id="hygiene.todo", severity=Severity.WARN, message="A TODO is left."),
            Finding(check_id="scope.bash", severity=Severity.INFO, message="Uses Bash."),
        ],
    )
    store.schedule_recertification(
        session, ref=ref, recertify_by=RECERTIFY_BY, event_key="pdf-report/recert"
    )
    session.commit()
    published(session, "skill/pdf-report@1.3.0", team="docs")
    register(session, "skill/pdf-report@2.0.0-rc.1", team="docs")
    session.commit()

    detail = catalog.show("skill/pdf-report@1.2.0")

    assert (detail.ref, detail.stage, detail.owner_team) == (str(ref), "Published", "docs")
    assert detail.description == "Reads PDFs."
    assert detail.submitter == "ada@example.com"
    assert detail.authors == ["ada@example.com"]
    assert detail.approvers == ["grace@example.com"]
    assert (detail.risk_tier, detail.tier_reasons) == ("medium", ["runs scripts"])
    assert detail.policy_version == "2026.11"
    assert detail.recertify_by == RECERTIFY_BY
    assert detail.published_at is not None
    assert detail.workflow_id == ref.workflow_id
    assert detail.manifest == {"name": "pdf-report", "description": "Reads PDFs."}
    assert detail.deprecation is None
    assert detail.scope == []
    assert detail.eval is not None
    assert (detail.eval.policy_version, detail.eval.passed) == ("2026.11", True)
    assert (detail.eval.blocking, detail.eval.warnings) == (0, 1)
    assert [f.check_id for f in detail.eval.findings] == ["hygiene.todo", "scope.bash"]
    assert detail.eval.evaluated_at is not None
    assert [(v.ref, v.stage) for v in detail.other_versions] == [
        ("skill/pdf-report@2.0.0-rc.1", "Submitted"),
        ("skill/pdf-report@1.3.0", "Published"),
    ]


def test_kind_and_name_show_the_latest_published(
    session: Session, catalog: DatabaseCatalog
) -> None:
    published(session, "skill/pdf-report@1.9.0")
    published(session, "skill/pdf-report@1.10.0")
    move(session, register(session, "skill/pdf-report@2.0.0"), Stage.IN_REVIEW)
    session.commit()

    assert catalog.show("skill/pdf-report").ref == "skill/pdf-report@1.10.0"


def test_a_deprecated_asset_is_still_shown_with_its_replacement(
    session: Session, catalog: DatabaseCatalog
) -> None:
    published(session, "skill/pdf-tables@1.0.0")
    old = published(session, "skill/pdf-report@1.0.0")
    newer = published(session, "skill/pdf-report@1.1.0")
    deprecate(session, old, replacement="skill/pdf-tables@1.0.0", reason="merged")
    retire(session, newer)

    detail = catalog.show("skill/pdf-report")

    assert (detail.ref, detail.stage) == ("skill/pdf-report@1.0.0", "Deprecated")
    assert detail.deprecation is not None
    assert detail.deprecation.reason == "merged"
    assert detail.deprecation.replacement == "skill/pdf-tables@1.0.0"
    assert detail.deprecation.sunset_at == SUNSET == detail.sunset_at
    assert detail.deprecation.deprecated_by == "grace@example.com"
    assert detail.replacement == "skill/pdf-tables@1.0.0"

    retired = catalog.show("skill/pdf-report@1.1.0")
    assert retired.stage == "Retired"
    assert retired.retired_at is not None
    assert retired.deprecation is not None and retired.deprecation.reason == "superseded"


def test_unknown_refs_are_named_with_what_exists(
    session: Session, catalog: DatabaseCatalog
) -> None:
    retire(session, published(session, "skill/pdf-report@1.0.0"))
    move(session, register(session, "skill/pdf-report@2.0.0"), Stage.IN_REVIEW)
    session.commit()

    with pytest.raises(CatalogNotFoundError, match=r"^skill/nothing is not in the registry$"):
        catalog.show("skill/nothing")
    with pytest.raises(
        CatalogNotFoundError,
        match=r"^skill/pdf-report has no published version; "
        r"its versions: 2\.0\.0 \(InReview\), 1\.0\.0 \(Retired\)$",
    ):
        catalog.show("skill/pdf-report")
    with pytest.raises(
        CatalogNotFoundError, match=r"^skill/pdf-report@9\.0\.0 is not in the registry;"
    ):
        catalog.show("skill/pdf-report@9.0.0")
    with pytest.raises(InvalidRefError):
        catalog.show("skill/pdf-report@latest")


def test_an_mcp_server_shows_its_declared_scope_read_once_per_bundle(
    session: Session, catalog: DatabaseCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = mcp_archive("tickets", {"search_tickets": ["read"], "close_ticket": ["write"]})
    content_hash = store.put_blob(session, data=archive)
    published(session, "mcp-server/io.github.acme/tickets@1.0.0", content_hash=content_hash)
    reads: list[bytes] = []
    real = bundle_from_archive

    def counting(data: bytes, *, limits: BundleLimits) -> Bundle:
        reads.append(data)
        return real(data, limits=limits)

    monkeypatch.setattr(scopes, "bundle_from_archive", counting)

    first = catalog.show("mcp-server/io.github.acme/tickets")
    again = catalog.show("mcp-server/io.github.acme/tickets@1.0.0")

    assert (
        first.scope
        == again.scope
        == [
            ScopeTool(name="search_tickets", effects=["read"]),
            ScopeTool(name="close_ticket", effects=["write"]),
        ]
    )
    assert len(reads) == 1


def test_an_mcp_server_without_a_readable_bundle_shows_no_scope(
    session: Session, catalog: DatabaseCatalog
) -> None:
    published(session, "mcp-server/io.github.acme/ghost@1.0.0")  # no blob stored

    assert catalog.show("mcp-server/io.github.acme/ghost").scope == []


# --- bundle ---------------------------------------------------------------------------


def test_a_bundle_comes_back_as_stored(session: Session, catalog: DatabaseCatalog) -> None:
    archive = mcp_archive("tickets", {"search_tickets": ["read"]})
    content_hash = store.put_blob(session, data=archive)
    session.commit()

    assert catalog.bundle(content_hash) == archive
    assert catalog.bundle(content_hash.upper()) == archive


def test_an_unknown_bundle_is_not_found(catalog: DatabaseCatalog) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(CatalogNotFoundError, match=missing):
        catalog.bundle(missing)
    with pytest.raises(CatalogNotFoundError, match="64 hex digits"):
        catalog.bundle("../etc/passwd")


def test_a_bundle_whose_bytes_changed_is_refused(
    session: Session, catalog: DatabaseCatalog
) -> None:
    claimed = hashlib.sha256(b"the reviewed bytes").hexdigest()
    session.add(Blob(content_hash=claimed, size=9, data=b"tampered!"))
    session.commit()

    with pytest.raises(CorruptBundleError, match=claimed):
        catalog.bundle(claimed)
