"""Reading bundles from disk: what is refused, what is skipped, and what is reported."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from agent_registry.assets.bundle import Bundle, BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.bundle_reader import read_bundle

LIMITS = BundleLimits()


def write(path: Path, data: bytes | str = "x", *, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        path.chmod(mode)
    return path


def refused(path: Path, limits: BundleLimits = LIMITS) -> BundleError:
    with pytest.raises(BundleError) as caught:
        read_bundle(path, limits=limits)
    return caught.value


def problem_of(error: BundleError, check_id: str) -> tuple[str | None, str]:
    [problem] = [p for p in error.problems if p.check_id == check_id]
    return problem.file, problem.message


def test_reads_a_folder_sorted_with_executable_bits(tmp_path: Path) -> None:
    root = tmp_path / "pdf-report"
    write(root / "scripts" / "run.sh", "#!/bin/sh\n", mode=0o755)
    write(root / "SKILL.md", "---\n")
    write(root / "reference.md", "ref")

    bundle = read_bundle(root, limits=LIMITS)

    assert bundle.root_name == "pdf-report"
    assert not bundle.single_file
    assert [(f.path, f.executable) for f in bundle.files] == [
        ("SKILL.md", False),
        ("reference.md", False),
        ("scripts/run.sh", True),
    ]
    assert bundle.get("reference.md") is not None
    assert bundle.total_bytes == len("#!/bin/sh\n") + len("---\n") + len("ref")


def test_root_name_of_dot_is_the_folder_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pdf-report" / "SKILL.md")
    monkeypatch.chdir(tmp_path / "pdf-report")

    assert read_bundle(Path("."), limits=LIMITS).root_name == "pdf-report"


def test_tooling_litter_and_the_sidecar_are_skipped(tmp_path: Path) -> None:
    root = tmp_path / "pdf-report"
    write(root / "SKILL.md")
    write(root / ".git" / "HEAD")
    write(root / "scripts" / "__pycache__" / "x.pyc")
    write(root / "scripts" / ".DS_Store")
    write(root / ".DS_Store")
    write(root / "agentreg.yaml", "owner-team: docs\n")
    write(root / "templates" / "agentreg.yaml", "kept: because it is content\n")

    bundle = read_bundle(root, limits=LIMITS)

    assert [f.path for f in bundle.files] == ["SKILL.md", "templates/agentreg.yaml"]


def test_single_file_bundle(tmp_path: Path) -> None:
    agent = write(tmp_path / "code-reviewer.md", "---\nname: code-reviewer\n---\n")
    write(tmp_path / "code-reviewer.agentreg.yaml", "owner-team: docs\n")

    bundle = read_bundle(agent, limits=LIMITS)

    assert bundle == Bundle(
        root_name="code-reviewer.md",
        files=bundle.files,
        single_file=True,
    )
    assert [(f.path, f.data) for f in bundle.files] == [
        ("code-reviewer.md", b"---\nname: code-reviewer\n---\n")
    ]


def test_symlink_outside_is_refused_and_named(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.txt", "password")
    root = tmp_path / "skill"
    write(root / "SKILL.md")
    (root / "notes.txt").symlink_to(secret)

    file, message = problem_of(refused(root), "bundle.symlink-outside")

    assert file == "notes.txt"
    assert str(secret) in message
    assert "outside the bundle folder" in message


def test_relative_symlink_climbing_out_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere.txt")
    root = tmp_path / "skill"
    write(root / "docs" / "SKILL.md")
    (root / "docs" / "up.txt").symlink_to("../../elsewhere.txt")

    file, message = problem_of(refused(root), "bundle.symlink-outside")

    assert file == "docs/up.txt"
    assert "../../elsewhere.txt" in message


def test_dangling_symlink_is_refused_and_named(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "SKILL.md")
    (root / "gone.txt").symlink_to("missing.txt")

    file, message = problem_of(refused(root), "bundle.symlink-dangling")

    assert file == "gone.txt"
    assert message == "is a symlink to missing.txt, which does not exist"


def test_symlink_loop_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "SKILL.md")
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("a")

    error = refused(root)

    assert {p.file for p in error.problems} == {"a", "b"}
    assert all(p.check_id == "bundle.symlink-dangling" for p in error.problems)


def test_symlink_inside_is_read_as_a_regular_file(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "scripts" / "run.sh", "echo hi\n", mode=0o755)
    (root / "run.sh").symlink_to("scripts/run.sh")

    bundle = read_bundle(root, limits=LIMITS)

    linked = bundle.get("run.sh")
    assert linked is not None
    assert (linked.data, linked.executable) == (b"echo hi\n", True)


def test_symlink_to_a_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "docs" / "a.md")
    (root / "more-docs").symlink_to("docs", target_is_directory=True)

    file, message = problem_of(refused(root), "bundle.symlink-folder")

    assert file == "more-docs"
    assert "folder docs" in message


def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "SKILL.md")
    os.mkfifo(root / "pipe")
    outcome: list[BaseException | Bundle] = []

    def read() -> None:
        try:
            outcome.append(read_bundle(root, limits=LIMITS))
        except BundleError as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)

    assert not reader.is_alive(), "reading a bundle with a FIFO hung"
    [error] = outcome
    assert isinstance(error, BundleError)
    file, message = problem_of(error, "bundle.special-file")
    assert file == "pipe"
    assert "named pipe (FIFO)" in message


def test_file_too_large(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "big.bin", b"\0" * 101)
    limits = BundleLimits(max_file_bytes=100)

    file, message = problem_of(refused(root, limits), "bundle.file-too-large")

    assert file == "big.bin"
    assert message == "is 101 bytes; the limit for one file is 100 bytes"


def test_total_too_large(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    for index in range(4):
        write(root / f"part{index}.txt", b"x" * 40)
    limits = BundleLimits(max_total_bytes=100, max_file_bytes=50)

    file, message = problem_of(refused(root, limits), "bundle.too-large")

    assert file is None
    assert message == "the files add up to 160 bytes; the limit is 100 bytes"


def test_too_many_files_stops_the_walk(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    for index in range(60):
        os.makedirs(root, exist_ok=True)
        os.mkfifo(root / f"pipe{index}")  # each one would be a problem of its own
    limits = BundleLimits(max_files=3)

    error = refused(root, limits)

    file, message = problem_of(error, "bundle.too-many-files")
    assert file is None
    assert message == "the bundle has more than 3 files; the limit is 3"
    assert len(error.problems) <= 4  # the walk stopped instead of listing all 60


def test_too_many_folders_stops_the_walk(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    for index in range(30):
        (root / f"empty{index}").mkdir(parents=True)

    _, message = problem_of(refused(root, BundleLimits(max_files=5)), "bundle.too-many-folders")

    assert "more than 5 folders" in message


def test_too_deep(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "a" / "b" / "c" / "d" / "deep.txt")

    file, message = problem_of(refused(root, BundleLimits(max_depth=3)), "bundle.too-deep")

    assert file == "a/b/c/d"
    assert message == "this folder is nested 4 levels deep; the limit is 3"
    assert [f.path for f in read_bundle(root, limits=BundleLimits(max_depth=4)).files] == [
        "a/b/c/d/deep.txt"
    ]


def test_non_utf8_and_backslash_names(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "SKILL.md")
    with open(os.path.join(os.fsencode(root), b"caf\xe9.txt"), "wb") as stream:
        stream.write(b"x")
    write(root / "win\\path.txt")

    error = refused(root)

    assert [(p.file, p.check_id) for p in error.problems] == [
        ("caf\\xe9.txt", "bundle.bad-name"),
        ("win\\path.txt", "bundle.bad-name"),
    ]
    assert "not valid UTF-8" in error.problems[0].message
    assert "backslash" in error.problems[1].message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "SKILL.md")
    write(root / "big.bin", b"x" * 200)
    (root / "gone").symlink_to("nowhere")
    os.mkfifo(root / "pipe")

    error = refused(root, BundleLimits(max_file_bytes=100))

    assert [p.check_id for p in error.problems] == [
        "bundle.file-too-large",
        "bundle.symlink-dangling",
        "bundle.special-file",
    ]
    lines = str(error).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("big.bin: is 200 bytes")
    assert lines[1].startswith("gone: is a symlink to nowhere")
    assert lines[2].startswith("pipe: is a named pipe (FIFO)")


def test_missing_path(tmp_path: Path) -> None:
    error = refused(tmp_path / "nope")

    assert str(error) == f"{tmp_path / 'nope'} does not exist"


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "skill" / ".git").mkdir(parents=True)

    _, message = problem_of(refused(tmp_path / "skill"), "bundle.empty")

    assert message == "skill holds no files"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "locked.txt", mode=0)

    file, message = problem_of(refused(root), "bundle.unreadable")

    assert file == "locked.txt"
    assert "Permission denied" in message


def test_executable_bit_counts_for_any_execute_permission(tmp_path: Path) -> None:
    root = tmp_path / "skill"
    write(root / "run.sh", mode=0o644 | stat.S_IXOTH)

    [only] = read_bundle(root, limits=LIMITS).files

    assert only.executable
