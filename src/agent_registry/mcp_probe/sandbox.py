"""The confinement every probed MCP server runs in: bubblewrap plus kernel resource limits.

A submitted server is untrusted code started before any person has looked at it, so it
never runs as the worker. Each probe builds one ``bwrap`` command line:

* its own user, PID, IPC, UTS, cgroup and network namespaces (``--unshare-all``): no
  route out and no reach to the host's loopback services, and PID 1 of the namespace is
  bubblewrap's reaper, so every descendant (a ``setsid`` daemon included) dies with it;
* the unprivileged uid/gid 65534 with no capabilities; when the worker runs as root it
  first drops to that uid on the host too (``setpriv``), so that the kernel's per-user
  process limit applies (it never applies to host root);
* a filesystem of read-only system directories (``/usr`` and the few ``/etc`` files a
  runtime needs), the unpacked bundle and the server's runtime bound read-only, and
  small fresh tmpfs mounts for ``/tmp``, ``HOME`` and ``/dev/shm``; the root and
  ``/dev`` are remounted read-only, since an unsized tmpfs is half the host's memory;
  nothing of the worker's venv, data folder, environment or credentials;
* no user namespace of its own (``--disable-userns``, bubblewrap 0.8 or later): root in
  a nested one would reach kernel code (netfilter, mounts) the sandbox user cannot;
* ``--die-with-parent``: when the worker dies, even by SIGKILL, the kernel kills the
  sandbox's reaper and with it the whole PID namespace;
* ``prlimit`` (util-linux) inside: memory, CPU seconds, process count, file size,
  open files and no core dumps, enforced by the kernel; ``prlimit`` runs with an empty
  environment and ``env -i`` under it gives the server its variables, so nothing the
  server chose (``LD_PRELOAD``) loads before the limits are set.

bubblewrap resolves the host paths it binds as the user it runs as, so on a root worker
the bundle and the runtime must lie in folders that user may traverse: the probe copies
the bundle into a fresh folder of its own (mode 0711: no listing) and keeps its cache
outside root's home (:func:`~agent_registry.mcp_probe.local.default_cache_dir`).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ENV = "/usr/bin/env"
"""coreutils' env: sets the server's variables once the limits are in force."""

NICE = "/usr/bin/nice"
"""coreutils' nice at no change of priority: starts a command whose path holds "="."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SANDBOX_UID = 65534
"""``nobody``: owns nothing on the host."""

BUNDLE_DIR = "/srv/bundle"
"""Where the unpacked bundle appears inside the sandbox; the server's working directory."""

HOME_DIR = "/home/probe"
"""The server's HOME inside the sandbox: an empty tmpfs."""

TMP_DIR = "/tmp"  # noqa: S108 - a fresh tmpfs inside the sandbox, not the host's
"""The server's TMPDIR inside the sandbox: an empty tmpfs."""

SHM_DIR = "/dev/shm"  # noqa: S108 - a fresh sized tmpfs inside the sandbox
"""POSIX shared memory inside the sandbox: sized like ``/tmp``, not left on ``/dev``'s."""

SANDBOX_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
"""PATH inside the sandbox (the system's directories only); runtimes put their bin first."""

SYSTEM_DIRS = ("/usr",)
"""Host directories bound read-only; ``/bin``, ``/lib``… follow as symlinks or binds."""

SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
"""Top-level entries that merged-/usr systems make symlinks into ``/usr``."""

ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
)
"""What of ``/etc`` a runtime needs (the loader, alternatives, time zone, certificates).

Never ``/etc/passwd``'s neighbours with secrets; a minimal passwd and group are written
into the sandbox instead, naming only the sandbox user.
"""

PASSWD = f"probe:x:{SANDBOX_UID}:{SANDBOX_UID}:probe:{HOME_DIR}:/usr/sbin/nologin\n"
GROUP = f"probe:x:{SANDBOX_UID}:\n"

INSTALL_HINT = (
    "install bubblewrap on the probe worker's host (Debian/Ubuntu: apt-get install "
    "bubblewrap; Fedora: dnf install bubblewrap) and allow user namespaces "
    "(sysctl user.max_user_namespaces > 0; kernel.apparmor_restrict_unprivileged_userns=0 "
    "on Ubuntu 24.04 or later)"
)
"""What an operator does when the sandbox cannot be created."""


@dataclass(frozen=True)
class SandboxLimits:
    """Kernel limits on one probed server (every process of it, each inherits them).

    Attributes:
        memory_bytes: Memory each process may allocate (``RLIMIT_DATA``: heap and private
            writable mappings). Not ``RLIMIT_AS``: Node.js reserves far more address
            space than it uses and aborts under an address-space limit of this size.
        cpu_seconds: CPU time of each process (``RLIMIT_CPU``); SIGXCPU, then SIGKILL.
        processes: Processes (and threads) of the sandbox user in its namespace
            (``RLIMIT_NPROC``): a fork bomb stops there.
        file_bytes: Largest file it may write (``RLIMIT_FSIZE``); SIGXFSZ past it.
        tmp_bytes: Size of each of its tmpfs mounts (``/tmp`` and ``HOME``).
        open_files: Open file descriptors per process (``RLIMIT_NOFILE``).
    """

    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: int = 30
    processes: int = 64
    file_bytes: int = 16 * 1024 * 1024
    tmp_bytes: int = 64 * 1024 * 1024
    open_files: int = 256


@dataclass(frozen=True)
class SandboxedCommand:
    """A command line ready to spawn and the descriptors it must inherit.

    Attributes:
        argv: ``setpriv``/``bwrap``/``prlimit`` and the server's command.
        pass_fds: Descriptors of the passwd and group data written into the sandbox.
    """

    argv: list[str]
    pass_fds: list[int] = field(default_factory=list)


def find_bwrap() -> str | None:
    """The ``bwrap`` executable on the system directories (never the worker's PATH)."""
    return shutil.which("bwrap", path=os.pathsep.join(SANDBOX_PATH))


@functools.cache
def sandbox_problem() -> str | None:
    """Why no sandbox can be created here, or None when one can (checked once a process).

    Runs a trivial command in the same confinement a probe gets, so that a missing
    binary, disabled user namespaces or a seccomp profile forbidding them are all found
    the same way: by trying.
    """
    bwrap = find_bwrap()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    for tool in ("prlimit", "setpriv") if os.geteuid() == 0 else ("prlimit",):
        if shutil.which(tool, path=os.pathsep.join(SANDBOX_PATH)) is None:
            return f"{tool} (util-linux) is not installed"
    with ExitStack() as stack:
        command = sandbox_command(
            ["/bin/true"], bundle_dir=Path("/"), runtime_dirs=(), env={}, stack=stack
        )
        try:
            done = subprocess.run(
                command.argv,
                pass_fds=command.pass_fds,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bubblewrap did not start: {type(error).__name__}"
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[:200]
        return f"bubblewrap could not create the sandbox ({said or done.returncode})"
    return None


def sandbox_command(
    command: Sequence[str],
    *,
    bundle_dir: Path,
    runtime_dirs: Sequence[str],
    env: Mapping[str, str],
    stack: ExitStack,
    limits: SandboxLimits | None = None,
) -> SandboxedCommand:
    """The full command line that runs ``command`` confined.

    Args:
        command: The server's command inside the sandbox (absolute, or found on PATH).
        bundle_dir: Host folder bound read-only at :data:`BUNDLE_DIR`.
        runtime_dirs: Host folders (an install from the probe cache) bound read-only at
            the same path inside, so that the absolute paths in their scripts resolve.
        env: The server's whole environment.
        stack: Owns the descriptors of the passwd and group data; close it once the
            process has started.
        limits: Resource limits; the defaults when None.

    Returns:
        The command line and the descriptors to pass.
    """
    limits = limits or SandboxLimits()
    fds: list[int] = []

    def data(text: str) -> str:
        read, write = os.pipe2(os.O_CLOEXEC)
        os.write(write, text.encode())
        os.close(write)
        stack.callback(os.close, read)
        fds.append(read)
        return str(read)

    bwrap = find_bwrap() or "bwrap"
    args = [
        bwrap,
        "--unshare-all",
        # Explicit, so that --disable-userns may follow: the server cannot make a user
        # namespace of its own, in which it would be root before more of the kernel.
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "probe",
    ]
    for directory in SYSTEM_DIRS:
        args += ["--ro-bind", directory, directory]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    for hidden in _worker_python_dirs():
        # The worker's own packages (agent_registry, temporalio) when it is installed
        # into a system directory, as in a container image: an empty tmpfs over them.
        args += ["--tmpfs", hidden]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    args += ["--perms", "0444", "--file", data(PASSWD), "/etc/passwd"]
    args += ["--perms", "0444", "--file", data(GROUP), "/etc/group"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", SHM_DIR]
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", TMP_DIR]
    args += ["--size", str(limits.tmp_bytes), "--perms", "0700", "--tmpfs", HOME_DIR]
    for directory in runtime_dirs:
        args += ["--ro-bind", directory, directory]
    args += ["--ro-bind", str(bundle_dir), BUNDLE_DIR, "--chdir", BUNDLE_DIR]
    # The root and /dev are tmpfs mounts bubblewrap sizes at half the host's memory:
    # read-only once built, so that the sized /tmp, HOME and /dev/shm are all it writes.
    args += ["--remount-ro", "/dev", "--remount-ro", "/"]
    # The server's environment is set by env(1) under the limits, not by bubblewrap:
    # LD_PRELOAD or LD_LIBRARY_PATH given to prlimit would run the server's code in it
    # before any limit is set.
    # env(1) reads every leading NAME=VALUE as a variable, and a cache path holds "=="
    # (python-mcp==2.3.0-…): such a command goes behind nice(1), which only execs it.
    start = [NICE, "-n", "0", "--"] if "=" in command[0] else []
    variables = [f"{name}={value}" for name, value in env.items() if _ENV_NAME.match(name)]
    args += ["--clearenv"]
    args += [
        "--",
        "prlimit",
        f"--data={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        f"--nproc={limits.processes}",
        f"--fsize={limits.file_bytes}",
        f"--nofile={limits.open_files}",
        "--core=0",
        "--",
        ENV,
        "-i",
        "--",
        *variables,
        *start,
        *command,
    ]
    if os.geteuid() == 0:
        args = [
            "setpriv",
            f"--reuid={SANDBOX_UID}",
            f"--regid={SANDBOX_UID}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
            *args,
        ]
    return SandboxedCommand(argv=args, pass_fds=fds)


def describe_exit(code: int | None, limits: SandboxLimits | None = None) -> str:
    """Say how the server ended: an exit status, or the signal and the limit behind it.

    bubblewrap exits with the server's status, or 128 plus the signal that killed it.
    """
    limits = limits or SandboxLimits()
    if code is None:
        return "still running when it was stopped"
    number = -code if code < 0 else code - 128 if code > 128 else None
    if number is None:
        return f"exit status {code}"
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"exit status {code}"
    if number == signal.SIGXCPU:
        return f"killed by {name}: it hit the CPU time limit of {limits.cpu_seconds} s"
    if number == signal.SIGXFSZ:
        return f"killed by {name}: it hit the file size limit of {limits.file_bytes} bytes"
    return f"killed by {name}"


def _worker_python_dirs() -> list[str]:
    """The worker's site-packages (and venv) where they lie inside a bound system dir."""
    candidates = {
        sys.prefix,
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        *site.getsitepackages(),
    }
    if sys.prefix == sys.base_prefix:
        candidates.discard(sys.prefix)  # The interpreter itself: the probe's venvs need it.
    hidden = []
    for path in sorted(candidates):
        inside = any(path == d or path.startswith(d + "/") for d in SYSTEM_DIRS)
        if inside and os.path.isdir(path):
            hidden.append(path)
    return hidden
