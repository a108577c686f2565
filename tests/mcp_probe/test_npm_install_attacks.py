"""An npm package that reaches the worker's disk or network through its dependencies.

A package from the registry may depend on a git repository, a URL or a path instead
of a version. The probe worker installs it as itself, before the sandbox, and binds
the result into the sandbox: a ``git+file://`` dependency would copy any repository on
the worker's disk to the server, and a git dependency's own install scripts would run
on the worker (npm prepares a git dependency with a nested ``npm install`` that does
not inherit ``--ignore-scripts``). The registry here is a loopback listener the test
owns; the git repository is a local folder.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_registry.mcp_probe.runtime import InstallError, RuntimeNeed, ensure_runtime

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("git") is None,
    reason="npm and git are needed to install a package with a git dependency "
    "(apt-get install npm git)",
)


def npm_tarball(manifest: dict[str, object]) -> bytes:
    data = json.dumps(manifest).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        entry = tarfile.TarInfo("package/package.json")
        entry.size = len(data)
        archive.addfile(entry, io.BytesIO(data))
        script = b"#!/usr/bin/env node\n"
        entry = tarfile.TarInfo("package/index.js")
        entry.size, entry.mode = len(script), 0o755
        archive.addfile(entry, io.BytesIO(script))
    return buffer.getvalue()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """A loopback npm registry: fill it with path -> body; npm is pointed at it."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path.rstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("npm_config_registry", base + "/")
    files["base"] = base.encode()
    try:
        yield files
    finally:
        server.shutdown()
        thread.join()


def publish(files: dict[str, bytes], name: str, dependencies: dict[str, str]) -> None:
    manifest = {
        "name": name,
        "version": "1.0.0",
        "bin": {name: "index.js"},
        "dependencies": dependencies,
    }
    tarball = npm_tarball(manifest)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    url = f"{files['base'].decode()}/{name}/-/{name}-1.0.0.tgz"
    version = {**manifest, "dist": {"tarball": url, "integrity": integrity}}
    packument = {"name": name, "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": version}}
    files[f"/{name}"] = json.dumps(packument).encode()
    files[f"/{name}/-/{name}-1.0.0.tgz"] = tarball


def git_repository(folder: Path, package: dict[str, object]) -> Path:
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps(package))
    (folder / "host-secret.txt").write_text("a file of the worker host\n")
    git = ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    for step in (["init", "-q"], ["add", "."], ["commit", "-qm", "host repository"]):
        subprocess.run([*git, *step], cwd=folder, check=True)
    return folder


def test_a_git_dependency_is_refused_and_its_scripts_never_run(
    registry: dict[str, bytes], tmp_path: Path
) -> None:
    marker = tmp_path / "git-dependency-script-ran"
    repository = git_repository(
        tmp_path / "host-repo",
        {"name": "gitdep", "version": "1.0.0", "scripts": {"install": f"touch {marker}"}},
    )
    publish(registry, "reaches-git", {"gitdep": f"git+file://{repository}"})
    cache = tmp_path / "cache"

    with pytest.raises(InstallError, match=r"reaches-git@1\.0\.0"):
        ensure_runtime(RuntimeNeed(kind="npm", packages=["reaches-git@1.0.0"]), cache)

    assert not marker.exists()
    assert list(cache.rglob("host-secret.txt")) == []
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


def test_a_path_dependency_does_not_copy_host_files_into_the_sandbox(
    registry: dict[str, bytes], tmp_path: Path
) -> None:
    host = tmp_path / "host-folder"
    host.mkdir()
    (host / "package.json").write_text('{"name": "hostdir", "version": "1.0.0"}')
    (host / "host-secret.txt").write_text("a file of the worker host\n")
    publish(registry, "reaches-disk", {"hostdir": f"file:{host}"})
    cache = tmp_path / "cache"

    with pytest.raises(InstallError, match=r"reaches-disk@1\.0\.0"):
        ensure_runtime(RuntimeNeed(kind="npm", packages=["reaches-disk@1.0.0"]), cache)

    assert list(cache.rglob("hostdir")) == []


def test_a_plain_registry_package_still_installs(
    registry: dict[str, bytes], tmp_path: Path
) -> None:
    publish(registry, "plain-server", {})

    runtime = ensure_runtime(
        RuntimeNeed(kind="npm", packages=["plain-server@1.0.0"]), tmp_path / "cache"
    )

    assert Path(runtime.command).name == "plain-server"
