"""Canonical archives and content hashes: same content, same hash; archives read defensively."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from agent_registry.assets.archive import bundle_from_archive, canonical_archive, content_hash
from agent_registry.assets.bundle import Bundle, BundleFile, BundleLimits
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.bundle_reader import read_bundle

LIMITS = BundleLimits()


def make_skill(root: Path, *, order: tuple[str, ...] = ("SKILL.md", "scripts/run.sh")) -> Path:
    contents = {"SKILL.md": b"---\nname: pdf\n---\n", "scripts/run.sh": b"#!/bin/sh\n"}
    for relative in order:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents[relative])
    (root / "scripts" / "run.sh").chmod(0o755)
    return root


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def regular(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def refused(data: bytes, limits: BundleLimits = LIMITS) -> list[tuple[str, str | None, str]]:
    with pytest.raises(BundleError) as caught:
        bundle_from_archive(data, limits=limits)
    return [(p.check_id, p.file, p.message) for p in caught.value.problems]


def test_hash_ignores_mtimes_creation_order_and_umask(tmp_path: Path) -> None:
    first = make_skill(tmp_path / "one" / "pdf")
    old_umask = os.umask(0o077)
    try:
        second = make_skill(tmp_path / "two" / "pdf", order=("scripts/run.sh", "SKILL.md"))
    finally:
        os.umask(old_umask)
    os.utime(second / "SKILL.md", (1_000_000, 1_000_000))
    (second / "scripts" / "run.sh").chmod(0o700)

    assert content_hash(read_bundle(first, limits=LIMITS)) == content_hash(
        read_bundle(second, limits=LIMITS)
    )


def test_hash_is_sha256_of_the_canonical_archive(tmp_path: Path) -> None:
    bundle = read_bundle(make_skill(tmp_path / "pdf"), limits=LIMITS)

    digest = content_hash(bundle)

    assert digest == hashlib.sha256(canonical_archive(bundle)).hexdigest()
    assert len(digest) == 64
    assert digest == digest.lower()


def test_executable_bit_content_and_root_name_change_the_hash(tmp_path: Path) -> None:
    bundle = read_bundle(make_skill(tmp_path / "pdf"), limits=LIMITS)
    flipped = Bundle(
        root_name="pdf",
        files=tuple(BundleFile(f.path, f.data, executable=not f.executable) for f in bundle.files),
    )
    edited = Bundle(root_name="pdf", files=(BundleFile("SKILL.md", b"other"), bundle.files[1]))
    renamed = Bundle(root_name="pdf-2", files=bundle.files)

    hashes = {content_hash(b) for b in (bundle, flipped, edited, renamed)}

    assert len(hashes) == 4


def test_canonical_archive_entries(tmp_path: Path) -> None:
    bundle = read_bundle(make_skill(tmp_path / "pdf"), limits=LIMITS)

    with tarfile.open(fileobj=io.BytesIO(canonical_archive(bundle))) as archive:
        members = archive.getmembers()

    assert [(m.name, m.mode, m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members] == [
        ("pdf/SKILL.md", 0o644, 0, 0, 0, "", ""),
        ("pdf/scripts/run.sh", 0o755, 0, 0, 0, "", ""),
    ]
    assert all(m.isreg() for m in members)


def test_file_order_in_the_bundle_does_not_matter() -> None:
    a, b = BundleFile("a.md", b"a"), BundleFile("b.md", b"b")

    assert canonical_archive(Bundle("x", (a, b))) == canonical_archive(Bundle("x", (b, a)))


def test_two_files_at_one_path_have_no_canonical_form() -> None:
    bundle = Bundle("x", (BundleFile("a.md", b"a"), BundleFile("a.md", b"b")))

    with pytest.raises(ValueError, match=r"two files at a\.md"):
        canonical_archive(bundle)


def test_round_trip_folder(tmp_path: Path) -> None:
    bundle = read_bundle(make_skill(tmp_path / "pdf"), limits=LIMITS)

    again = bundle_from_archive(canonical_archive(bundle), limits=LIMITS)

    assert again == bundle
    assert content_hash(again) == content_hash(bundle)


def test_round_trip_single_file_with_unicode_and_long_names(tmp_path: Path) -> None:
    name = "revue-de-code-é" + "x" * 150 + ".md"
    agent = tmp_path / name
    agent.write_text("---\nname: r\n---\n", encoding="utf-8")
    bundle = read_bundle(agent, limits=LIMITS)

    archive = canonical_archive(bundle)
    again = bundle_from_archive(archive, limits=LIMITS)

    assert again == bundle
    assert again.single_file
    with tarfile.open(fileobj=io.BytesIO(archive)) as opened:
        assert opened.getnames() == [name]


def test_parent_components_are_refused() -> None:
    problems = refused(tar_of(regular("pdf/../../etc/cron.d/x")))

    assert problems == [
        ("bundle.archive-path", "pdf/../../etc/cron.d/x", "climbs out of the bundle with '..'")
    ]


def test_absolute_paths_are_refused() -> None:
    problems = refused(tar_of(regular("/etc/passwd")))

    assert problems == [
        (
            "bundle.archive-path",
            "/etc/passwd",
            "is an absolute path; archive paths must be relative",
        )
    ]


def test_symlink_and_hard_link_and_folder_entries_are_refused() -> None:
    link = tarfile.TarInfo("pdf/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo("pdf/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, "pdf/SKILL.md"
    folder = tarfile.TarInfo("pdf/scripts")
    folder.type = tarfile.DIRTYPE

    problems = refused(tar_of(regular("pdf/SKILL.md"), (link, None), (hard, None), (folder, None)))

    assert problems == [
        (
            "bundle.archive-entry-type",
            "pdf/hard",
            "is a hard link to pdf/SKILL.md; an archive may hold regular files only",
        ),
        (
            "bundle.archive-entry-type",
            "pdf/passwd",
            "is a symlink to /etc/passwd; an archive may hold regular files only",
        ),
        (
            "bundle.archive-entry-type",
            "pdf/scripts",
            "is a folder entry; an archive may hold regular files only",
        ),
    ]


def test_oversized_header_is_refused_before_reading_data() -> None:
    # The header claims a terabyte that the archive does not hold: reading it would fail
    # as corrupt; checking the header first reports the size.
    bomb = tarfile.TarInfo("pdf/huge.bin")
    bomb.size = 10**12
    data = bomb.tobuf(format=tarfile.PAX_FORMAT) + b"\0" * 1024

    problems = refused(data)

    assert (
        "bundle.file-too-large",
        "pdf/huge.bin",
        f"is {10**12:,} bytes; the limit for one file is {LIMITS.max_file_bytes:,} bytes",
    ) in problems


def test_oversized_file_is_refused() -> None:
    problems = refused(tar_of(regular("pdf/big.bin", b"x" * 101)), BundleLimits(max_file_bytes=100))

    assert problems == [
        (
            "bundle.file-too-large",
            "pdf/big.bin",
            "is 101 bytes; the limit for one file is 100 bytes",
        )
    ]


def test_total_over_the_limit_from_headers() -> None:
    limits = BundleLimits(max_total_bytes=150, max_file_bytes=100)

    problems = refused(tar_of(regular("pdf/a", b"a" * 100), regular("pdf/b", b"b" * 100)), limits)

    assert problems == [
        ("bundle.too-large", None, "the files add up to 200 bytes; the limit is 150 bytes")
    ]


def test_too_many_entries() -> None:
    members = [regular(f"pdf/{index}.md") for index in range(10)]

    problems = refused(tar_of(*members), BundleLimits(max_files=3))

    assert problems == [
        ("bundle.too-many-files", None, "the archive has more than 3 entries; the limit is 3")
    ]


def test_too_deep_entry() -> None:
    problems = refused(tar_of(regular("pdf/a/b/c/file")), BundleLimits(max_depth=2))

    assert problems == [("bundle.too-deep", "pdf/a/b/c/file", "is nested deeper than 2 folders")]


def test_entries_under_two_roots_are_refused() -> None:
    problems = refused(tar_of(regular("pdf/SKILL.md"), regular("other/SKILL.md")))

    assert problems == [
        (
            "bundle.archive-root",
            None,
            "the archive's files are not under one folder (found other, pdf)",
        )
    ]


def test_top_level_file_mixed_with_a_folder_is_refused() -> None:
    problems = refused(tar_of(regular("agent.md"), regular("agent.md/x")))

    assert [check for check, _, _ in problems] == ["bundle.archive-root"]


def test_duplicate_entries_are_refused() -> None:
    problems = refused(tar_of(regular("pdf/a.md", b"1"), regular("pdf/a.md", b"2")))

    assert problems == [("bundle.archive-duplicate", "pdf/a.md", "appears twice in the archive")]


@pytest.mark.parametrize(
    "data",
    [b"", b"not a tar archive at all" * 40],
    ids=["empty", "garbage"],
)
def test_unreadable_archives(data: bytes) -> None:
    [(check, _, message)] = refused(data)

    assert check == "bundle.archive-corrupt"
    assert message.startswith("the archive cannot be read")


def test_truncated_archive_is_refused() -> None:
    archive = tar_of(regular("pdf/a.md", b"a" * 2000))

    [(check, _, _)] = refused(archive[:1200])

    assert check == "bundle.archive-corrupt"


def test_damaged_data_after_the_last_entry_is_refused() -> None:
    archive = bytearray(canonical_archive(Bundle("pdf", (BundleFile("a.md", b"a"),))))
    archive[1536:1540] = b"junk"  # where a second header would be

    assert refused(bytes(archive)) == [
        ("bundle.archive-corrupt", None, "the archive has damaged data after its last file")
    ]


def test_empty_archive_is_refused() -> None:
    assert refused(tar_of()) == [("bundle.empty", None, "the archive holds no files")]


def test_hash_of_a_known_bundle_is_pinned() -> None:
    # Stored hashes must never change: a Python upgrade that altered the tar bytes would
    # make every published version look modified. This pins the canonical form.
    bundle = Bundle(
        "pdf",
        (
            BundleFile("SKILL.md", b"---\nname: pdf\n---\n"),
            BundleFile("scripts/run.sh", b"#!/bin/sh\n", executable=True),
        ),
    )

    assert content_hash(bundle) == (
        "5290cf53c21eaf567e340988e21441ffde99d7a02ae3c6840329636c48a65373"
    )
