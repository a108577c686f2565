"""Fetch outside, run inside: install a server's runtime into the probe cache first.

The sandbox has no network, so whatever a server needs from PyPI or npm is installed
before it starts, by the probe worker, into a cache folder keyed by the packages and
their exact versions; the sandbox then binds that folder read-only. Installing runs
no code of the package: pip takes wheels only (``--only-binary :all:``, never a
``setup.py``) and npm runs no lifecycle scripts (``--ignore-scripts``). A ``python``
launch gets a venv of its own built on the system interpreter, never the worker's.

An install is made in its final place (venv scripts carry absolute paths), under a lock
file, and marked complete last; a half-made install is removed and made again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from agent_registry.mcp_probe.output import redact_secrets
from agent_registry.mcp_probe.sandbox import SANDBOX_PATH

INSTALL_TIMEOUT_SECONDS = 300.0
"""One install, download included; a registry that is slower than this is an outage."""

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


def ensure_runtime(need: RuntimeNeed, cache_dir: Path) -> Runtime:
    """Install ``need`` into the cache unless a complete install is already there.

    Args:
        need: What to install.
        cache_dir: The probe worker's cache folder.

    Returns:
        Where it is and which command starts the server.

    Raises:
        InstallError: The install failed or the package has no such entry point.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_dir.chmod(0o755)  # The sandbox user binds installs from here (read-only).
    root = (cache_dir / need.key).resolve()
    with _locked(cache_dir / f"{need.key}.lock"):
        if not (root / COMPLETE_MARK).is_file():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            try:
                _install(need, root)
            except InstallError:
                shutil.rmtree(root, ignore_errors=True)
                raise
            (root / COMPLETE_MARK).write_text("\n".join(need.packages) + "\n")
    return _runtime(need, root)


def _install(need: RuntimeNeed, root: Path) -> None:
    if need.kind == "npm":
        npm = shutil.which("npm", path=os.pathsep.join(SANDBOX_PATH))
        if npm is None:
            raise InstallError("npm is not installed on the probe worker")
        _run(
            [
                npm,
                "install",
                "--prefix",
                str(root),
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--omit=dev",
                *need.packages,
            ],
            need,
        )
        return
    python = system_python()
    if python is None:
        raise InstallError("no system python3 on the probe worker to build a venv from")
    _run([python, "-m", "venv", "--without-pip", str(root)], need)
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
                "--quiet",
                *need.packages,
            ],
            need,
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


def _run(argv: Sequence[str], need: RuntimeNeed) -> None:
    """Run an installer; its output says which package failed, not the worker's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SECRET_PREFIXES)}
    try:
        done = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InstallError(
            f"installing {' '.join(need.packages)} took more than {INSTALL_TIMEOUT_SECONDS:g} s"
        ) from None
    except OSError as error:
        raise InstallError(f"could not run {argv[0]}: {error.strerror}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        # The installer's own words name the package; masked, since an index URL in them
        # can carry the worker's registry credentials.
        last = redact_secrets(said[-1][:300]) if said else f"exit status {done.returncode}"
        raise InstallError(f"installing {' '.join(need.packages)} failed: {last}")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One install of a key at a time, across the probe worker's threads and processes."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
