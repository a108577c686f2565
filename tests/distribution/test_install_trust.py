"""Install believes nothing it is told: answers, signatures and paths are all checked.

The attacks: a registry (or anything between the CLI and a plain ``http://`` URL) that
answers with another name, kind, version or a path that climbs out of the project; a
version nobody signed, or signed by a key nobody trusts; a bundle that hashes right but
is not what was signed. Each is refused with nothing written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import ActivityEnvironment
from typer.testing import CliRunner

from activities.models import PublishInput
from activities.registry import RegistryActivities
from activities.registry_writes import RegistryWrites
from agent_registry.assets.refs import AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.http import HttpCatalog
from agent_registry.catalog.models import VersionDetail
from agent_registry.cli.main import build_app
from agent_registry.config import Settings
from agent_registry.distribution.answers import UntrustedAnswerError
from agent_registry.distribution.errors import DistributionError, UntrustedSignatureError
from agent_registry.distribution.install import InstallOutcome, install_version
from agent_registry.registry.db import session_scope
from agent_registry.signing.keys import Keyring
from agent_registry.signing.trust import trusted_keyring
from tests import seeding
from tests.distribution.seeding import seed, skill_copy
from tests.security.signing_keys import keyring_file, new_key
from tests.support import EXAMPLES

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SKILL = "skill/release-notes@1.0.0"


class LyingCatalog(DatabaseCatalog):
    """The real catalog answering every ``show`` with the real skill, passed through ``lie``."""

    def __init__(self, engine: Engine, lie: Callable[[VersionDetail], VersionDetail]) -> None:
        super().__init__(engine)
        self._lie = lie

    def show(self, ref: str) -> VersionDetail:
        return self._lie(super().show(SKILL))


def _install(
    catalog: DatabaseCatalog, settings: Settings, ref: str, project: Path, keyring: Keyring
) -> InstallOutcome:
    return install_version(
        catalog, ref, project=project, limits=settings.bundle_limits, now=NOW, keyring=keyring
    )


def _parsed(data: dict[str, object]) -> VersionDetail:
    """An answer as the HTTP catalog would parse it off the wire."""
    return VersionDetail.model_validate(data)


def _everything(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


@pytest.mark.parametrize(
    ("asked", "lie", "words"),
    [
        (SKILL, {"name": "../../../x", "ref": "skill/../../../x@1.0.0"}, "names '../../../x'"),
        ("skill/release-notes", {"name": "../../../x"}, "names '../../../x'"),
        (SKILL, {"kind": "subagent", "ref": "subagent/release-notes@1.0.0"}, "is a subagent"),
        (SKILL, {"version": "9.9.9", "ref": "skill/release-notes@9.9.9"}, "version '9.9.9'"),
        ("skill/release-notes", {"version": "1.0.0/../../x"}, "not a semantic version"),
        (SKILL, {"ref": "skill/other@1.0.0"}, "calls itself 'skill/other@1.0.0'"),
        (SKILL, {"content_hash": "../../etc"}, "is not a sha256"),
    ],
)
def test_a_lying_answer_is_refused_and_nothing_is_written(
    sqlite_engine: Engine,
    settings: Settings,
    tmp_path: Path,
    asked: str,
    lie: dict[str, str],
    words: str,
) -> None:
    seed(sqlite_engine, settings, EXAMPLES / "skills" / "release-notes")
    project = tmp_path / "deep" / "er" / "project"
    project.mkdir(parents=True)
    before = _everything(tmp_path)
    catalog = LyingCatalog(sqlite_engine, lambda answer: _parsed({**answer.model_dump(), **lie}))
    with pytest.raises(UntrustedAnswerError, match=words.replace("(", r"\(").replace(".", r"\.")):
        _install(catalog, settings, asked, project, trusted_keyring(settings))
    assert _everything(tmp_path) == before


def test_a_name_no_submission_could_have_is_refused_even_when_asked_for(
    sqlite_engine: Engine, settings: Settings, project: Path
) -> None:
    seed(sqlite_engine, settings, EXAMPLES / "skills" / "release-notes")

    def renamed(answer: VersionDetail) -> VersionDetail:
        return _parsed({**answer.model_dump(), "name": "..", "ref": "skill/..@1.0.0"})

    with pytest.raises(UntrustedAnswerError, match="is not a skill name"):
        _install(
            LyingCatalog(sqlite_engine, renamed),
            settings,
            "skill/..@1.0.0",
            project,
            trusted_keyring(settings),
        )


def test_a_folder_linked_out_of_the_project_is_not_written_through(
    sqlite_engine: Engine, settings: Settings, tmp_path: Path, project: Path
) -> None:
    seed(sqlite_engine, settings, EXAMPLES / "skills" / "release-notes")
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / ".claude").mkdir()
    os.symlink(outside, project / ".claude" / "skills")
    with pytest.raises(DistributionError, match="outside the project"):
        _install(
            DatabaseCatalog(sqlite_engine), settings, SKILL, project, trusted_keyring(settings)
        )
    assert list(outside.iterdir()) == []


def test_non_loopback_plain_http_is_refused() -> None:
    with pytest.raises(ValueError, match="use https://"):
        HttpCatalog("http://registry.example.com:3000")
    with pytest.raises(ValueError, match="use https://"):
        HttpCatalog("http://10.0.0.5")
    for fine in ("http://127.0.0.1:3000", "http://localhost:3000", "http://[::1]:3000"):
        HttpCatalog(fine)
    HttpCatalog("https://registry.example.com")


def test_an_unsigned_version_is_refused_where_keys_are_trusted(
    sqlite_engine: Engine, tmp_path: Path, project: Path
) -> None:
    unsigned = Settings(_env_file=None, data_dir=tmp_path / "d", database_url="sqlite://")
    seed(sqlite_engine, unsigned, EXAMPLES / "skills" / "release-notes")
    _, registry = new_key(tmp_path, "registry.pem")
    with pytest.raises(UntrustedSignatureError, match="carries no signed publication"):
        _install(
            DatabaseCatalog(sqlite_engine),
            unsigned,
            SKILL,
            project,
            Keyring((registry.public_key,)),
        )
    assert _everything(project) == []


def test_a_version_signed_by_a_key_nobody_trusts_is_refused(
    sqlite_engine: Engine, settings: Settings, tmp_path: Path, project: Path
) -> None:
    seed(sqlite_engine, settings, EXAMPLES / "skills" / "release-notes")  # signed by the test key
    _, other = new_key(tmp_path, "someone-else.pem")
    with pytest.raises(UntrustedSignatureError, match="does not verify with any trusted key"):
        _install(
            DatabaseCatalog(sqlite_engine), settings, SKILL, project, Keyring((other.public_key,))
        )
    assert _everything(project) == []


def test_a_signature_moved_onto_other_content_is_refused(
    sqlite_engine: Engine, settings: Settings, project: Path, tmp_path: Path
) -> None:
    """The attacker stores other content and serves the real version's signature with it."""
    seed(sqlite_engine, settings, EXAMPLES / "skills" / "release-notes")
    real = DatabaseCatalog(sqlite_engine).show(SKILL)
    unreviewed = skill_copy(tmp_path, "release-notes", description="Does something else.")
    other_ref = seed(sqlite_engine, settings, unreviewed, version="6.6.6")
    other = DatabaseCatalog(sqlite_engine).show(str(other_ref))
    assert other.content_hash != real.content_hash

    def swapped(answer: VersionDetail) -> VersionDetail:
        return answer.model_copy(update={"content_hash": other.content_hash})

    with pytest.raises(UntrustedSignatureError, match="not the reviewed content"):
        _install(
            LyingCatalog(sqlite_engine, swapped),
            settings,
            SKILL,
            project,
            trusted_keyring(settings),
        )


def test_sign_at_publish_verify_at_install_and_with_agentreg_verify(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_path, _ = new_key(tmp_path, "worker.pem")
    unsigned = Settings(_env_file=None, data_dir=tmp_path / "d", database_url=sqlite_url)
    ref = _publish_through_the_activity(sqlite_engine, unsigned, key_path)
    client = Settings(_env_file=None, database_url=sqlite_url, signing_key=key_path)
    project = tmp_path / "project"
    project.mkdir()
    outcome = _install(
        DatabaseCatalog(sqlite_engine), client, str(ref), project, trusted_keyring(client)
    )
    assert outcome.warnings == ()

    monkeypatch.setenv("AGENT_REGISTRY_SIGNING_KEY", str(key_path))
    runner = CliRunner()
    ok = runner.invoke(build_app(), ["verify", str(project)])
    assert ok.exit_code == 0, ok.output
    assert f"ok      {ref}" in ok.output

    # A local edit of the installed skill is drift, named file by file.
    skill = project / ".claude" / "skills" / "release-notes"
    (skill / "SKILL.md").write_text("---\nname: release-notes\ndescription: edited\n---\n")
    (skill / "extra.sh").write_text("curl evil")
    changed = runner.invoke(build_app(), ["verify", str(project)])
    assert changed.exit_code == 1
    assert "changed: SKILL.md" in changed.output and "added: extra.sh" in changed.output


def _publish_through_the_activity(engine: Engine, settings: Settings, key_path: Path) -> AssetRef:
    """Register a version, then publish it with the publish activity holding ``key_path``."""
    from agent_registry.signing.keys import load_signer

    ref = seed_registered(engine, settings)
    writes = RegistryWrites(engine, limits=settings.bundle_limits, signer=load_signer(key_path))
    activities = RegistryActivities(writes, limits=settings.bundle_limits)
    version = DatabaseCatalog(engine).show(str(ref))
    request = PublishInput(
        ref=ref, content_hash=version.content_hash, approvers=["bob@example.com"], event_key="p/1"
    )
    env = ActivityEnvironment()
    env.run(activities.publish_version, request)
    env.run(activities.publish_version, request)  # a retry signs nothing twice
    return ref


def seed_registered(engine: Engine, settings: Settings) -> AssetRef:
    """The release-notes skill registered and in review, not yet published."""
    from agent_registry.assets.loader import load_path
    from agent_registry.cli.submit import prepare_submission
    from agent_registry.lifecycle.stages import Stage

    path = EXAMPLES / "skills" / "release-notes"
    submission = prepare_submission(settings, path, submitter="alice@example.com")
    parsed = load_path(path, limits=settings.bundle_limits)
    assert parsed.manifest is not None
    with session_scope(engine) as session:
        ref = seeding.register(
            session,
            submission.ref,
            description=parsed.manifest.description,
            team=submission.metadata.owner_team,
            manifest=parsed.manifest.model_dump(mode="json", by_alias=True),
            archive=submission.archive,
            submitter=submission.submitter,
        )
        seeding.move(session, ref, Stage.IN_REVIEW, actor="agent-registry")
    return ref


def test_key_rotation_with_real_keys(
    sqlite_engine: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    old_path, old = new_key(tmp_path, "old.pem")
    new_path, new = new_key(tmp_path, "new.pem")
    before = Settings(_env_file=None, database_url=sqlite_url, signing_key=old_path)
    first = seed(sqlite_engine, before, EXAMPLES / "skills" / "release-notes")
    rotated = Settings(
        _env_file=None,
        database_url=sqlite_url,
        signing_key=new_path,
        trusted_keys=keyring_file(tmp_path, old),
    )
    second = seed(sqlite_engine, rotated, EXAMPLES / "skills" / "release-notes", version="2.0.0")
    catalog = DatabaseCatalog(sqlite_engine)
    for ref in (first, second):
        project = tmp_path / f"p-{ref.version}"
        project.mkdir()
        _install(catalog, rotated, str(ref), project, trusted_keyring(rotated))
    # A client that was only ever given the new key accepts the new signature only.
    only_new = Keyring((new.public_key,))
    project = tmp_path / "p-new-only"
    project.mkdir()
    _install(catalog, rotated, str(second), project, only_new)
    with pytest.raises(UntrustedSignatureError):
        _install(catalog, rotated, str(first), tmp_path / "p-new-only", only_new)
