"""A credential in a changelog or description never reaches a lifecycle's history.

Both travel into the start input (static details included) before any eval runs; the
scan refuses them first, naming the field and masking the value, and nothing is staged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.loader import load_path
from agent_registry.assets.manifests import RegistryMetadata
from agent_registry.assets.refs import AssetRef
from agent_registry.config import Settings
from agent_registry.evals.submission_text import SecretInSubmissionError
from agent_registry.lifecycle.contract import RevisionInput, Submission
from agent_registry.staging import staged_revision, staged_submission
from agent_registry.vocabulary.principal import Principal, VerifiedBy

KEY = "AKIA" + "Q3EGRKTWXMZ7P4LN"
REF = AssetRef.parse("skill/notes@1.0.0")


def _archive(tmp_path: Path, description: str) -> bytes:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "SKILL.md").write_text(f"---\nname: notes\ndescription: {description}\n---\nBody\n")
    return canonical_archive(load_path(folder, limits=Settings().bundle_limits).bundle)


def _submission(archive: bytes, changelog: str) -> Submission:
    metadata = RegistryMetadata(owner_team="docs", version="1.0.0", changelog=changelog)
    return Submission(ref=REF, metadata=metadata, submitter="ada@example.com", archive=archive)


def _nowhere(tmp_path: Path) -> Settings:
    # No registry at all: a refusal must come before any staging is attempted.
    return Settings(_env_file=None, data_dir=tmp_path / "absent")


@pytest.mark.parametrize(
    ("description", "changelog", "field"),
    [
        ("Takes notes.", f"rotate {KEY} later", "changelog"),
        (f"Takes notes with {KEY}.", "first cut", "description"),
    ],
)
def test_a_credential_in_the_changelog_or_description_refuses_the_submission(
    tmp_path: Path, description: str, changelog: str, field: str
) -> None:
    submission = _submission(_archive(tmp_path, description), changelog)
    with pytest.raises(SecretInSubmissionError) as refused:
        staged_submission(_nowhere(tmp_path), submission)
    message = str(refused.value)
    assert f"the {field} holds a credential" in message
    assert KEY not in message and "AKIA…" in message


def test_a_revision_changelog_is_scanned_too(tmp_path: Path) -> None:
    principal = Principal(email="ada@example.com", verified_by=VerifiedBy.LOCAL_UNVERIFIED)
    revision = RevisionInput(
        principal=principal,
        archive=_archive(tmp_path, "Takes notes."),
        changelog=f"oops {KEY}",
    )
    with pytest.raises(SecretInSubmissionError, match="changelog holds a credential"):
        staged_revision(_nowhere(tmp_path), revision)
