"""Registry activities on their own: idempotent under retries, refusals non-retryable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.models import PublishInput, StoreBundleInput
from activities.registry import RegistryActivities
from activities.registry_writes import RegistryWrites
from agent_registry.assets.loader import load_path
from agent_registry.assets.manifests import RegistryMetadata
from agent_registry.assets.refs import AssetRef
from agent_registry.config import Settings
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.tables import AuditEvent, Blob
from tests.support import EXAMPLES, copy_example

LIMITS = Settings(_env_file=None).bundle_limits  # type: ignore[call-arg]
REF = AssetRef.parse("skill/release-notes@1.0.0")
METADATA = RegistryMetadata(owner_team="developer-experience", version="1.0.0")


def _archive(path: Path) -> bytes:
    from agent_registry.assets.archive import canonical_archive

    return canonical_archive(load_path(path, limits=LIMITS).bundle)


def _store_input(archive: bytes, *, key: str = "wf/run/1") -> StoreBundleInput:
    return StoreBundleInput(
        ref=REF,
        metadata=METADATA,
        submitter="alice@example.com",
        actor="alice@example.com",
        archive=archive,
        workflow_id=REF.workflow_id,
        event_key=key,
    )


def _count(engine: Engine, model: type[Blob] | type[AuditEvent]) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one()[0])  # type: ignore[call-overload]


def test_a_retried_store_makes_one_blob_one_version_one_event(engine: Engine) -> None:
    activities = RegistryActivities(RegistryWrites(engine, limits=LIMITS), limits=LIMITS)
    env = ActivityEnvironment()
    archive = _archive(EXAMPLES / "skills/release-notes")
    first = env.run(activities.store_bundle, _store_input(archive))
    again = env.run(activities.store_bundle, _store_input(archive))
    assert first == again
    assert len(first.content_hash) == 64
    assert _count(engine, Blob) == 1
    assert _count(engine, AuditEvent) == 1


def test_an_unsafe_archive_is_refused_without_retries(engine: Engine) -> None:
    activities = RegistryActivities(RegistryWrites(engine, limits=LIMITS), limits=LIMITS)
    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(activities.store_bundle, _store_input(b"not a tar archive"))
    assert refused.value.non_retryable
    assert refused.value.type == "InvalidBundle"
    assert _count(engine, Blob) == 0


def test_a_manifest_naming_another_asset_is_refused(engine: Engine, tmp_path: Path) -> None:
    activities = RegistryActivities(RegistryWrites(engine, limits=LIMITS), limits=LIMITS)
    other = copy_example("skills/release-notes", tmp_path)
    renamed = other.with_name("changelog-writer")
    other.rename(renamed)
    skill_md = renamed / "SKILL.md"
    skill_md.write_text(
        skill_md.read_text().replace("name: release-notes", "name: changelog-writer")
    )
    with pytest.raises(ApplicationError) as refused:
        ActivityEnvironment().run(activities.store_bundle, _store_input(_archive(renamed)))
    assert refused.value.non_retryable
    assert "changelog-writer" in refused.value.message
    assert _count(engine, Blob) == 0


def test_published_content_cannot_change_and_publication_is_once(
    engine: Engine, tmp_path: Path
) -> None:
    activities = RegistryActivities(RegistryWrites(engine, limits=LIMITS), limits=LIMITS)
    env = ActivityEnvironment()
    stored = env.run(
        activities.store_bundle, _store_input(_archive(EXAMPLES / "skills/release-notes"))
    )
    publish = PublishInput(
        ref=REF, content_hash=stored.content_hash, approvers=["rita"], event_key="p"
    )
    env.run(activities.publish_version, publish)
    env.run(activities.publish_version, publish)
    with Session(engine) as session:
        assert store.get_version(session, ref=REF).stage == Stage.PUBLISHED.value
        published_events = [e for e in store.audit_for(session, ref=REF) if e.action == "published"]
    assert len(published_events) == 1

    changed = copy_example("skills/release-notes", tmp_path)
    (changed / "references" / "style-guide.md").write_text("# Shorter guide\n")
    with pytest.raises(ApplicationError) as refused:
        env.run(activities.store_bundle, _store_input(_archive(changed), key="wf/run/9"))
    assert refused.value.non_retryable
    assert "bump the version" in refused.value.message.lower()
