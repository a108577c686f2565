"""A registry seeded the way the lifecycle fills it: examples read, stored and published.

Every version goes through the real path: the asset is read and packaged exactly as
``agentreg submit`` does, its canonical archive is stored as a blob, the version is
registered with that blob's hash, moved to review and published, and deprecated or
retired through the store's life functions.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from agent_registry.assets.loader import load_path
from agent_registry.assets.refs import AssetRef
from agent_registry.cli.submit import prepare_submission
from agent_registry.config import Settings
from agent_registry.registry.db import session_scope
from agent_registry.registry.store.attestations import attest_publication
from agent_registry.signing.keys import generate_key
from agent_registry.signing.trust import registry_signer
from tests import seeding
from tests.support import EXAMPLES

SUNSET = datetime(2099, 1, 1, tzinfo=UTC)
APPROVER = "bob@example.com"
DEPRECATOR = "carol@example.com"

SKILL = "skill/release-notes@1.0.0"
SUBAGENT = "subagent/code-reviewer@1.0.0"
TIME = "mcp-server/io.github.modelcontextprotocol/time@2026.10.19"


SIGNING_KEY = "registry-signing.pem"
"""The test registry's Ed25519 key, a real one, under the test's folder."""


def signing_key(tmp_path: Path) -> Path:
    """The test registry's signing key file, created on first use."""
    path = tmp_path / SIGNING_KEY
    if not path.exists():
        generate_key(path)
    return path


def settings_for(tmp_path: Path, db_url: str) -> Settings:
    """Settings pointing at the test registry, with no ``.env`` read.

    The registry signs with a real key; these settings also trust it (its public half).
    """
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        database_url=db_url,
        signing_key=signing_key(tmp_path),
    )


def seed(
    engine: Engine,
    settings: Settings,
    path: Path,
    *,
    version: str | None = None,
    team: str | None = None,
) -> AssetRef:
    """Store, register and publish the asset at ``path``; returns its ref."""
    submission = prepare_submission(
        settings, path, submitter="alice@example.com", team=team, version=version
    )
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
            authors=submission.metadata.authors,
            changelog=submission.metadata.changelog,
            machine_authored=submission.metadata.machine_authored,
        )
        seeding.review_and_publish(session, ref, approvers=[APPROVER])
        signer = registry_signer(settings)
        if signer is not None:
            attest_publication(session, ref=ref, signer=signer, limits=settings.bundle_limits)
    return ref


def seed_examples(engine: Engine, settings: Settings) -> dict[str, AssetRef]:
    """The three good examples, published."""
    return {
        "skill": seed(engine, settings, EXAMPLES / "skills" / "release-notes"),
        "subagent": seed(engine, settings, EXAMPLES / "subagents" / "code-reviewer.md"),
        "mcp": seed(engine, settings, EXAMPLES / "mcp-servers" / "time"),
    }


def deprecate(
    engine: Engine, ref: AssetRef, *, replacement: str | None, reason: str = "superseded"
) -> None:
    """Deprecate a published version, as the lifecycle records it."""
    with session_scope(engine) as session:
        seeding.deprecate(
            session, ref, replacement=replacement, reason=reason, by=DEPRECATOR, sunset_at=SUNSET
        )


def retire(
    engine: Engine, ref: AssetRef, *, replacement: str | None, reason: str = "superseded"
) -> None:
    """Deprecate then retire a published version."""
    with session_scope(engine) as session:
        seeding.retire(
            session, ref, replacement=replacement, reason=reason, by=DEPRECATOR, sunset_at=SUNSET
        )


def skill_copy(tmp_path: Path, name: str, *, description: str | None = None) -> Path:
    """The release-notes example under another name (a second, independent skill)."""
    target = tmp_path / "assets" / name
    shutil.copytree(EXAMPLES / "skills" / "release-notes", target)
    manifest = target / "SKILL.md"
    text = manifest.read_text().replace("name: release-notes", f"name: {name}")
    if description is not None:
        text = text.replace(text.split("description: ", 1)[1].split("\n", 1)[0], description, 1)
    manifest.write_text(text)
    return target


def mcp_server(
    tmp_path: Path,
    folder: str,
    *,
    server: dict[str, object],
    scope: str,
    files: dict[str, str] | None = None,
    team: str = "platform",
) -> Path:
    """An MCP server folder written from its parts."""
    target = tmp_path / "assets" / folder
    target.mkdir(parents=True)
    (target / "server.json").write_text(json.dumps(server, indent=2))
    (target / "scope.yaml").write_text(scope)
    (target / "agentreg.yaml").write_text(f"owner-team: {team}\n")
    for name, text in (files or {}).items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)
    return target


def shipped_server(tmp_path: Path) -> Path:
    """An MCP server that runs from its own bundle (``scope.yaml`` has a ``launch``)."""
    return mcp_server(
        tmp_path,
        "clock",
        server={
            "name": "io.github.acme/clock",
            "description": "A tiny clock shipped with its source.",
            "version": "1.0.0",
            "packages": [],
        },
        scope=(
            "tools:\n"
            "  - name: now\n"
            "    effects: [read]\n"
            "launch:\n"
            "  command: python\n"
            "  args: [server.py, --zone, UTC]\n"
            "  env:\n"
            "    CLOCK_FORMAT: iso\n"
        ),
        files={"server.py": "print('clock')\n"},
    )
