"""Names a file system can hold once: collisions, control characters, Windows devices.

On macOS or Windows, ``SKILL.md`` and ``skill.md`` are one file, so whichever is written
last is what gets installed: possibly the twin nobody reviewed. Every such bundle is
refused when read from disk and when it comes in as an archive (staging, install).
"""

from __future__ import annotations

import io
import tarfile
import unicodedata
from pathlib import Path

import pytest

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.bundle_reader import read_bundle

LIMITS = BundleLimits()
SKILL = b"---\nname: notes\ndescription: Notes.\n---\nBody\n"


def _refusal(error: BundleError, check_id: str) -> tuple[str, str]:
    found = [(p.file or "", p.message) for p in error.problems if p.check_id == check_id]
    assert found, [p.check_id for p in error.problems]
    return found[0]


def _archive(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in names:
            info = tarfile.TarInfo(f"notes/{name}")
            info.size = len(SKILL)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(SKILL))
    return buffer.getvalue()


def test_case_fold_twins_on_disk_are_refused_naming_both(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "SKILL.md").write_bytes(SKILL)
    (root / "skill.md").write_bytes(b"---\nname: notes\ndescription: Evil twin.\n---\n")
    with pytest.raises(BundleError) as raised:
        read_bundle(root, limits=LIMITS)
    file, message = _refusal(raised.value, "bundle.name-collision")
    assert file == "skill.md"
    assert "'SKILL.md'" in message and "'skill.md'" in message


def test_nfc_and_nfd_spellings_are_one_name(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "SKILL.md").write_bytes(SKILL)
    composed = unicodedata.normalize("NFC", "café.md")
    decomposed = unicodedata.normalize("NFD", "café.md")
    assert composed != decomposed
    (root / composed).write_text("one")
    (root / decomposed).write_text("two")
    with pytest.raises(BundleError) as raised:
        read_bundle(root, limits=LIMITS)
    _refusal(raised.value, "bundle.name-collision")


def test_folders_differing_in_case_collide(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    (root / "Scripts").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "SKILL.md").write_bytes(SKILL)
    (root / "Scripts" / "run.sh").write_text("echo reviewed")
    (root / "scripts" / "run2.sh").write_text("echo other")
    with pytest.raises(BundleError) as raised:
        read_bundle(root, limits=LIMITS)
    file, _ = _refusal(raised.value, "bundle.name-collision")
    assert file.startswith("scripts")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("bell\x07.md", "U+0007"),
        ("new\nline.md", "U+000A"),
        ("con.txt", "device name"),
        ("AUX", "device name"),
        ("lpt1.md", "device name"),
        ("what?.md", "Windows does not allow"),
        ("a:b.md", "Windows does not allow"),
        ("trailing. ", "dot or space"),
    ],
)
def test_names_windows_cannot_hold_or_that_hide_characters(
    tmp_path: Path, name: str, words: str
) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "SKILL.md").write_bytes(SKILL)
    (root / name).write_text("x")
    with pytest.raises(BundleError) as raised:
        read_bundle(root, limits=LIMITS)
    file, message = _refusal(raised.value, "bundle.bad-name")
    assert words in message
    assert file == name.encode("unicode_escape").decode("ascii")


def test_colliding_names_in_an_archive_are_refused() -> None:
    with pytest.raises(BundleError) as raised:
        bundle_from_archive(_archive(["SKILL.md", "Skill.MD"]), limits=LIMITS)
    file, _ = _refusal(raised.value, "bundle.name-collision")
    assert file == "notes/Skill.MD"


@pytest.mark.parametrize("name", ["nul.md", "tab\there.md", "x|y.md"])
def test_unportable_names_in_an_archive_are_refused(name: str) -> None:
    with pytest.raises(BundleError) as raised:
        bundle_from_archive(_archive(["SKILL.md", name]), limits=LIMITS)
    file, _ = _refusal(raised.value, "bundle.archive-path")
    assert file == f"notes/{name}"


def test_ordinary_names_still_pass(tmp_path: Path) -> None:
    root = tmp_path / "notes"
    (root / "scripts").mkdir(parents=True)
    (root / "SKILL.md").write_bytes(SKILL)
    (root / "scripts" / "build-notes.sh").write_text("echo ok")
    (root / "référence.md").write_text("ok")
    bundle = read_bundle(root, limits=LIMITS)
    assert [f.path for f in bundle.files] == ["SKILL.md", "référence.md", "scripts/build-notes.sh"]
