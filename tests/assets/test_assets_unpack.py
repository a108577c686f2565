from __future__ import annotations

import stat
from pathlib import Path

import pytest

from agent_registry.assets.bundle import Bundle, BundleFile
from agent_registry.assets.unpack import write_bundle


def _bundle(*files: BundleFile) -> Bundle:
    return Bundle(root_name="pdf-report", files=tuple(files))


def test_files_land_in_place_and_scripts_stay_executable(tmp_path: Path) -> None:
    bundle = _bundle(
        BundleFile("SKILL.md", b"---\nname: pdf-report\n---\n"),
        BundleFile("scripts/extract.py", b"print(1)\n", executable=True),
    )
    written = write_bundle(bundle, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "SKILL.md",
        "scripts/extract.py",
    ]
    assert (tmp_path / "SKILL.md").read_bytes().startswith(b"---")
    assert (tmp_path / "scripts/extract.py").stat().st_mode & stat.S_IXUSR
    assert not (tmp_path / "SKILL.md").stat().st_mode & stat.S_IXUSR


@pytest.mark.parametrize("path", ["../escape.md", "/etc/passwd", "a/../../b.md"])
def test_a_path_that_would_leave_the_folder_is_refused(tmp_path: Path, path: str) -> None:
    target = tmp_path / "inside"
    target.mkdir()
    with pytest.raises(ValueError, match="would leave"):
        write_bundle(_bundle(BundleFile(path, b"x")), target)
    assert not (tmp_path / "escape.md").exists()
