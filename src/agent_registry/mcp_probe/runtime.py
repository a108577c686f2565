"""Fetch outside, run inside: install a server's runtime into the probe cache first.

The sandbox has no network, so whatever a server needs from PyPI or npm is installed
before it starts, by the probe worker, into a cache folder keyed by the packages and
their exact versions; the sandbox then binds that folder read-only. Installing runs
no code of the package: pip takes wheels only (``--only-binary :all:``, never a
``setup.py``) and npm runs no lifecycle scripts (``--ignore-scripts``). A ``python``
launch gets a venv of its own built on the system interpreter, never the worker's.

An install is made in its final place (venv scripts carry absolute paths), under a lock
file, and marked complete last; a half-made install is removed and made again.

What a submitter names is downloaded onto the worker's disk, so an install is bounded
in space as well as time (:data:`INSTALL_MAX_BYTES`): the installer writes its
downloads and temporary files into a scratch folder beside the install, never into
the worker's home or ``/tmp``, no single file may grow past the bound (``prlimit
--fsize``), and the install and its scratch together are measured while it runs and
stopped once they pass it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from agent_registry.mcp_probe.output import redact_secrets
from agent_registry.mcp_probe.sandbox import SANDBOX_PATH

INSTALL_TIMEOUT_SECONDS = 300.0
"""One install, download included; a registry that is slower than this is an outage."""

INSTALL_MAX_BYTES = 1024 * 1024 * 1024
"""Disk one install may take, downloads included: far above an MCP server's needs, far
below what a submitter naming several-GiB wheels would otherwise fill."""

INSTALL_MAX_FILES = 200_000
"""Files and folders one install may create: a large node_modules holds a few tens of
thousands; a wheel of a million empty files would take the disk's inodes, not its bytes."""

_WATCH_SECONDS = 0.2
"""How often a running install's disk use is measured."""

COMPLETE_MARK = ".agentreg-complete"
"""Written last into an install folder: without it the folder is half-made."""

_SECRET_PREFIXES = ("AGENT_REGISTRY_", "SLACK_", "TEMPORAL_")


class RuntimeNeed(BaseModel):
    """What a server needs installed before it can start, decided from the asset alone.

    Attributes:
        kind: ``python`` (a venv with ``packages``), ``pypi`` (one PyPI package, run by
            its console script) or ``npm`` (one npm package, run by its bin).
        packages: Exact requirements: ``name==version`` or ``name@version``.
        entry: The console script or bin to run (``pypi`` and ``npm``).
    """

    kind: Literal["python", "pypi", "npm"]
    packages: list[str] = Field(default_factory=list)
    entry: str | None = None

    @property
    def key(self) -> str:
        """The cache folder's name: readable, and unique for the exact set of packages."""
        digest = hashlib.sha256(json.dumps([self.kind, sorted(self.packages)]).encode())
        label = self.packages[0].replace("/", "_").replace("@", "_", 1) if self.packages else ""
        return f"{self.kind}-{label[:60]}-{digest.hexdigest()[:16]}".replace("--", "-")


class Runtime(BaseModel):
    """An installed runtime: the folder to bind and the command to run inside it."""

    root: str
    command: str
    bin_dir: str


class InstallError(Exception):
    """The runtime could not be installed; the message says which package and why."""


def system_python() -> str | None:
    """The host's own interpreter for probe venvs, looked up on the system directories.

    Never ``sys.executable``: that is the worker's venv, with the registry's code and
    dependencies importable.
    """
    for name in ("python3",):
        found = shutil.which(name, path=os.pathsep.join(reversed(SANDBOX_PATH)))
        if found is not None:
            return found
    return None


def ensure_runtime(
    need: RuntimeNeed,
    cache_dir: Path,
    *,
    max_bytes: int = INSTALL_MAX_BYTES,
    max_files: int = INSTALL_MAX_FILES,
) -> Runtime:
    """Install ``need`` into the cache unless a complete install is already there.

    Args:
        need: What to install.
        cache_dir: The probe worker's cache folder.
        max_bytes: Disk the install may take, downloads and temporary files included.
        max_files: Files and folders it may create (empty files take no blocks, but
            an inode each).

    Returns:
        Where it is and which command starts the server.

    Raises:
        InstallError: The install failed or the package has no such entry point.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_dir.chmod(0o755)  # The sandbox user binds installs from here (read-only).
    root = (cache_dir / need.key).resolve()
    scratch = cache_dir / f"{need.key}.scratch"
    with _locked(cache_dir / f"{need.key}.lock"):
        if not (root / COMPLETE_MARK).is_file():
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(scratch, ignore_errors=True)
            root.mkdir(parents=True)
            scratch.mkdir(mode=0o700)
            try:
                _install(need, root, _Bound(scratch, (root, scratch), max_bytes, max_files))
            except InstallError:
                shutil.rmtree(root, ignore_errors=True)
                raise
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            (root / COMPLETE_MARK).write_text("\n".join(need.packages) + "\n")
    return _runtime(need, root)


NPM_REGISTRY_ONLY = (
    "--allow-git=none",
    "--allow-remote=none",
    "--allow-file=none",
    "--allow-directory=none",
)
"""npm options refusing every dependency that is not a version from the registry."""


def _refuses_non_registry_dependencies(npm: str) -> None:
    """Fail closed on an npm too old to know ``--allow-git``: it would ignore the option."""
    try:
        known = subprocess.run(
            [npm, "config", "get", "allow-git"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        known = b""
    if known not in (b"all", b"none", b"root"):
        raise InstallError(
            "npm on the probe worker cannot refuse git, URL and path dependencies "
            "(it has no --allow-git); install a newer npm"
        )


class _Bound:
    """Where an installer may write its temporary files, and how much disk it may take."""

    def __init__(
        self, scratch: Path, watched: tuple[Path, ...], max_bytes: int, max_files: int
    ) -> None:
        self.scratch = scratch
        self.watched = watched
        self.max_bytes = max_bytes
        self.max_files = max_files


def _install(need: RuntimeNeed, root: Path, bound: _Bound) -> None:
    if need.kind == "npm":
        npm = shutil.which("npm", path=os.pathsep.join(SANDBOX_PATH))
        if npm is None:
            raise InstallError("npm is not installed on the probe worker")
        _refuses_non_registry_dependencies(npm)
        _run(
            [
                npm,
                "install",
                "--prefix",
                str(root),
                "--ignore-scripts",
                # A registry package may depend on a git repository, a URL or a path:
                # cloned, fetched or copied by the worker (a git+file:// repository of
                # its disk, bound into the sandbox), and a git dependency is prepared
                # by a nested npm install that runs its scripts. Registry versions only.
                *NPM_REGISTRY_ONLY,
                "--no-audit",
                "--no-fund",
                "--omit=dev",
                "--cache",
                str(bound.scratch / "npm"),
                *need.packages,
            ],
            need,
            bound,
        )
        return
    python = system_python()
    if python is None:
        raise InstallError("no system python3 on the probe worker to build a venv from")
    _run([python, "-m", "venv", "--without-pip", str(root)], need, bound)
    if need.packages:
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(root / "bin" / "python"),
                "install",
                "--only-binary",
                ":all:",
                "--no-input",
                "--disable-pip-version-check",
                "--no-cache-dir",
                "--quiet",
                *need.packages,
            ],
            need,
            bound,
        )


def _runtime(need: RuntimeNeed, root: Path) -> Runtime:
    if need.kind == "npm":
        bin_dir = root / "node_modules" / ".bin"
        name = need.packages[0].rsplit("@", 1)[0]
        command = bin_dir / _npm_bin(root / "node_modules" / name / "package.json", need)
        if not command.exists():
            raise InstallError(
                f"npm package {need.packages[0]} installed no command {command.name}"
            )
        return Runtime(root=str(root), command=str(command), bin_dir=str(bin_dir))
    bin_dir = root / "bin"
    if need.kind == "python":
        return Runtime(root=str(root), command=str(bin_dir / "python"), bin_dir=str(bin_dir))
    command = bin_dir / (need.entry or "")
    if not need.entry or not command.is_file():
        raise InstallError(
            f"PyPI package {need.packages[0]} installs no console script named "
            f"'{need.entry}'; declare launch: {{command: python, args: [-m, MODULE]}} in "
            "scope.yaml"
        )
    return Runtime(root=str(root), command=str(command), bin_dir=str(bin_dir))


def _npm_bin(manifest: Path, need: RuntimeNeed) -> str:
    """The command an npm package declares in its ``bin``: the entry's, or its only one."""
    try:
        declared = json.loads(manifest.read_text()).get("bin")
    except (OSError, ValueError):
        declared = None
    if isinstance(declared, str):
        return need.entry or ""
    if isinstance(declared, dict) and declared:
        if need.entry in declared:
            return str(need.entry)
        if len(declared) == 1:
            return str(next(iter(declared)))
    names = ", ".join(declared) if isinstance(declared, dict) else "none"
    raise InstallError(
        f"npm package {need.packages[0]} has no single command to run (bin: {names}); "
        "declare launch: {command: …} in scope.yaml"
    )


def _run(argv: Sequence[str], need: RuntimeNeed, bound: _Bound) -> None:
    """Run an installer within the bound; its output says which package failed.

    Its stderr goes to a file in the scratch folder (a pipe nobody reads while the
    disk use is watched could fill and stall it); only its last line is kept.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SECRET_PREFIXES)}
    env["TMPDIR"] = str(bound.scratch)
    # Inherited by any npm that npm itself starts, which its command line is not.
    env["npm_config_ignore_scripts"] = "true"
    prlimit = shutil.which("prlimit", path=os.pathsep.join(SANDBOX_PATH))
    if prlimit is None:
        raise InstallError("prlimit (util-linux) is not installed on the probe worker")
    command = [prlimit, f"--fsize={bound.max_bytes}", "--core=0", "--", *argv]
    packages = " ".join(need.packages)
    with tempfile.TemporaryFile(dir=bound.scratch) as errors:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                env=env,
                start_new_session=True,
            )
        except OSError as error:
            raise InstallError(f"could not run {argv[0]}: {error.strerror}") from None
        overrun = _watch(process, bound)
        if overrun is not None:
            raise InstallError(f"installing {packages} {overrun}")
        if process.returncode != 0:
            errors.seek(0)
            said = errors.read()[-4096:].decode("utf-8", "replace").strip().splitlines()
            # The installer's own words name the package; masked, since an index URL in
            # them can carry the worker's registry credentials.
            last = redact_secrets(said[-1][:300]) if said else _ended(process.returncode)
            raise InstallError(f"installing {packages} failed: {last}")


def _watch(process: subprocess.Popen[bytes], bound: _Bound) -> str | None:
    """Wait for the installer; stop its whole group at the time or disk bound.

    Returns:
        What it overran ("took more than…", "needed more than…"), or None.
    """
    deadline = time.monotonic() + INSTALL_TIMEOUT_SECONDS
    overrun: str | None = None
    while True:
        try:
            process.wait(timeout=_WATCH_SECONDS)
            break
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > deadline:
            overrun = f"took more than {INSTALL_TIMEOUT_SECONDS:g} s"
        else:
            overrun = _over(bound)
        if overrun is not None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return overrun
    if process.returncode == -signal.SIGXFSZ:
        return f"needed a file of more than {bound.max_bytes} bytes"
    return _over(bound)  # An install quicker than one look is measured once it is done.


def _over(bound: _Bound) -> str | None:
    """What the install has taken past its bound so far, or None."""
    used, entries = 0, 0
    for path in bound.watched:
        for folder, dirs, files in os.walk(path):
            entries += len(dirs) + len(files)
            if entries > bound.max_files:
                return f"created more than {bound.max_files} files"
            for name in files:
                with suppress(OSError):
                    # Allocated blocks, so that sparse files count as written.
                    used += os.lstat(os.path.join(folder, name)).st_blocks * 512
    if used > bound.max_bytes:
        return f"needed more than {bound.max_bytes} bytes of disk"
    return None


def _ended(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One install of a key at a time, across the probe worker's threads and processes."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
