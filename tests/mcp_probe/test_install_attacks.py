"""The outside, networked install step against hostile packages.

The probe worker installs what a submitter names before the sandbox starts, as itself
and with the network, so that step must run none of the package's code and must not
let a package fill the worker's disk. Packages come from a folder of wheels built here
(``PIP_NO_INDEX`` and ``PIP_FIND_LINKS``, which the installer honours), never a network
index.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest

from agent_registry.mcp_probe import runtime as runtime_module
from agent_registry.mcp_probe.runtime import InstallError, RuntimeNeed, ensure_runtime

MIB = 1024 * 1024


def build_wheel(folder: Path, name: str, files: dict[str, bytes]) -> None:
    """A pure-Python wheel of ``name`` 1.0.0 holding ``files``, with a valid RECORD."""
    dist = f"{name}-1.0.0.dist-info"
    contents = {
        **files,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0.0\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    contents[f"{dist}/RECORD"] = ("\n".join([*record, f"{dist}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(folder / f"{name}-1.0.0-py3-none-any.whl", "w") as wheel:
        for path, data in contents.items():
            wheel.writestr(path, data)


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local folder the installer takes packages from instead of PyPI."""
    folder = tmp_path / "index"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def leftovers(cache: Path) -> list[str]:
    """What an install left in the cache besides its lock file."""
    return sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock"))


def test_a_wheel_larger_than_the_install_bound_is_refused_and_removed(
    index: Path, tmp_path: Path
) -> None:
    build_wheel(index, "hugewheel", {"hugewheel/blob.bin": os.urandom(12 * MIB)})
    cache = tmp_path / "cache"

    with pytest.raises(InstallError, match=r"hugewheel==1\.0\.0 needed .*8388608 bytes"):
        ensure_runtime(
            RuntimeNeed(kind="python", packages=["hugewheel==1.0.0"]), cache, max_bytes=8 * MIB
        )

    assert leftovers(cache) == []


def test_many_files_under_the_bound_each_still_stop_at_the_total(
    index: Path, tmp_path: Path
) -> None:
    files = {f"manyfiles/part{i}.bin": os.urandom(2 * MIB) for i in range(8)}
    build_wheel(index, "manyfiles", files)
    cache = tmp_path / "cache"

    with pytest.raises(InstallError, match="needed more than 8388608 bytes of disk"):
        ensure_runtime(
            RuntimeNeed(kind="python", packages=["manyfiles==1.0.0"]), cache, max_bytes=8 * MIB
        )

    assert leftovers(cache) == []


def test_an_honest_wheel_installs_within_the_bound_and_leaves_only_its_folder(
    index: Path, tmp_path: Path
) -> None:
    build_wheel(index, "smallwheel", {"smallwheel/__init__.py": b""})
    cache = tmp_path / "cache"

    runtime = ensure_runtime(
        RuntimeNeed(kind="python", packages=["smallwheel==1.0.0"]), cache, max_bytes=8 * MIB
    )

    assert list(Path(runtime.root).glob("lib/python*/site-packages/smallwheel/__init__.py"))
    assert leftovers(cache) == [Path(runtime.root).name]


def test_a_pth_file_in_a_wheel_does_not_run_on_the_worker(index: Path, tmp_path: Path) -> None:
    """A ``.pth`` line runs at interpreter start: the venv's python never starts after it."""
    marker = tmp_path / f"pth-ran-{uuid.uuid4().hex}"
    pth = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n".encode()
    build_wheel(index, "pthwheel", {"pthwheel.pth": pth, "pthwheel/__init__.py": b""})

    runtime = ensure_runtime(
        RuntimeNeed(kind="python", packages=["pthwheel==1.0.0"]), tmp_path / "cache"
    )

    assert list(Path(runtime.root).glob("lib/python*/site-packages/pthwheel.pth"))
    assert not marker.exists()


def test_an_sdist_only_package_is_not_built(index: Path, tmp_path: Path) -> None:
    """Building an sdist runs its setup.py, as the worker, with the network."""
    marker = tmp_path / f"setup-ran-{uuid.uuid4().hex}"
    source = tmp_path / "sdistonly-1.0.0"
    source.mkdir()
    (source / "setup.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from setuptools import setup\nsetup(name='sdistonly', version='1.0.0')\n"
    )
    with tarfile.open(index / "sdistonly-1.0.0.tar.gz", "w:gz") as archive:
        archive.add(source, arcname=source.name)

    with pytest.raises(InstallError, match=r"sdistonly==1\.0\.0 failed"):
        ensure_runtime(
            RuntimeNeed(kind="python", packages=["sdistonly==1.0.0"]), tmp_path / "cache"
        )

    assert not marker.exists()


def test_a_wheel_of_many_empty_files_stops_at_the_file_bound(index: Path, tmp_path: Path) -> None:
    """Empty files take no blocks but an inode each: bytes alone would never stop them."""
    build_wheel(index, "inodes", {f"inodes/empty{i}": b"" for i in range(5000)})
    cache = tmp_path / "cache"

    with pytest.raises(InstallError, match="created more than 1000 files"):
        ensure_runtime(
            RuntimeNeed(kind="python", packages=["inodes==1.0.0"]), cache, max_files=1000
        )

    assert leftovers(cache) == []


def test_an_install_quicker_than_the_watch_is_still_measured(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "_WATCH_SECONDS", 3600.0)
    build_wheel(index, "quick", {f"quick/empty{i}": b"" for i in range(50)})
    cache = tmp_path / "cache"

    with pytest.raises(InstallError, match="created more than 20 files"):
        ensure_runtime(RuntimeNeed(kind="python", packages=["quick==1.0.0"]), cache, max_files=20)

    assert leftovers(cache) == []
