"""The hostile-server corpus: each attack, submitted as an MCP server, is contained.

Every server here is started through the real probe, in the sandbox, and tries one thing
a submitted server must not be able to do from the eval step. Each test checks the
effect on the host (a file that must not exist, a listener that must see no connection,
a process that must be gone by /proc), not just the probe's verdict.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_registry.mcp_probe.result import ProbeOutcome, ProbeResult
from agent_registry.mcp_probe.run import probe
from agent_registry.mcp_probe.sandbox import SandboxLimits
from agent_registry.mcp_probe.verify import probe_asset_report
from tests.mcp_probe.support import (
    CACHE,
    CAP,
    GONE_WITHIN,
    HOSTILE,
    READ_TOOLS,
    bundled_server,
    needs_sandbox,
    prepared_launch,
    probe_server,
    processes_with,
    wait_gone,
)

pytestmark = needs_sandbox

TIMEOUT = 3.0


async def attack(folder: Path, *args: str, limits: SandboxLimits | None = None) -> ProbeResult:
    asset = bundled_server(
        folder, "attack.py", tools=READ_TOOLS, args=list(args), sdk=False, source=HOSTILE
    )
    return await probe(
        prepared_launch(asset),
        bundle_dir=folder,
        timeout=TIMEOUT,
        max_output_bytes=CAP,
        limits=limits,
    )


def lines(result: ProbeResult, attack_name: str) -> list[str]:
    return [line for line in result.stderr_excerpt.splitlines() if line.startswith(attack_name)]


async def test_writes_outside_its_folder_do_not_reach_the_host(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    outside = tmp_path / "outside" / f"{marker}.txt"
    outside.parent.mkdir()
    outside.parent.chmod(0o777)  # Even a folder anyone may write to is out of reach.
    targets = [str(outside), f"/tmp/{marker}", f"/root/{marker}", f"/srv/bundle/{marker}"]

    result = await attack(tmp_path / "server", "write", *targets)

    assert not outside.exists()
    assert not Path(f"/tmp/{marker}").exists()
    assert not Path(f"/root/{marker}").exists()
    assert not (tmp_path / "server" / marker).exists()
    said = lines(result, "write")
    assert len(said) == len(targets), result.stderr_excerpt
    # /tmp is the sandbox's own tmpfs, gone with it; everything else is refused.
    assert [line for line in said if " ok " in line] == [f"write ok /tmp/{marker}"]


async def test_planted_secrets_in_the_data_folder_and_home_cannot_be_read(tmp_path: Path) -> None:
    secret = f"planted-credential-{uuid.uuid4().hex}"
    data_dir = tmp_path / "worker-data"
    data_dir.mkdir()
    planted = data_dir / "registry.db"
    planted.write_text(secret)
    planted.chmod(0o644)  # Readable by anyone on the host: the sandbox still cannot see it.
    home_secret = Path.home() / f".agentreg-test-secret-{uuid.uuid4().hex}"
    home_secret.write_text(secret)
    try:
        result = await attack(
            tmp_path / "server",
            "read",
            str(planted),
            str(home_secret),
            "/root/.bash_history",
            str(Path(sys.executable)),
        )
    finally:
        home_secret.unlink()

    said = lines(result, "read")
    assert len(said) == 4, result.stderr_excerpt
    assert all(" denied " in line for line in said), said
    assert secret not in result.model_dump_json()


async def test_loopback_services_of_the_host_are_unreachable(tmp_path: Path) -> None:
    accepted: list[object] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                try:
                    accepted.append(listener.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            result = await attack(tmp_path / "server", "connect", str(port))
        finally:
            stop.set()
            thread.join()

    assert accepted == [], "the stand-in for Temporal and the registry server was reached"
    [said] = lines(result, "connect")
    assert said.startswith(f"connect denied {port}")


async def test_setsid_daemon_does_not_outlive_the_probe(tmp_path: Path) -> None:
    marker = f"agentreg-daemon-{uuid.uuid4().hex}"

    result = await attack(tmp_path / "server", "daemon", marker)

    assert lines(result, "daemon") == [f"daemon ok {marker}"]
    assert result.outcome is ProbeOutcome.TIMEOUT
    assert wait_gone(marker) == []


async def test_fork_bomb_stops_at_the_process_limit(tmp_path: Path) -> None:
    marker = f"agentreg-fork-{uuid.uuid4().hex}"
    limits = SandboxLimits(processes=24)

    started = time.monotonic()
    result = await attack(tmp_path / "server", "fork", marker, limits=limits)

    assert time.monotonic() - started < TIMEOUT + GONE_WITHIN
    assert lines(result, "fork") == ["fork denied the process limit stopped the forks"]
    assert wait_gone(marker) == []


async def test_allocating_gibibytes_fails_at_the_memory_limit(tmp_path: Path) -> None:
    result = await attack(tmp_path / "server", "allocate", "4")

    assert lines(result, "allocate") == ["allocate denied 4 GiB MemoryError"]


async def test_stderr_flood_is_cut_off_at_the_output_cap(tmp_path: Path) -> None:
    started = time.monotonic()
    result = await attack(tmp_path / "server", "stderr", "100")

    assert time.monotonic() - started < TIMEOUT
    assert result.outcome is ProbeOutcome.OUTPUT_CAPPED
    assert "to stderr" in (result.error or "")
    assert len(result.stderr_excerpt) < 8192


async def test_server_that_sleeps_forever_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    marker = f"agentreg-sleep-{uuid.uuid4().hex}"
    folder = tmp_path / "server"
    asset = bundled_server(
        folder, "attack.py", tools=READ_TOOLS, args=["sleep", marker], sdk=False, source=HOSTILE
    )

    started = time.monotonic()
    findings, _ = await probe_server(asset, folder, timeout=TIMEOUT)

    assert time.monotonic() - started < TIMEOUT + GONE_WITHIN
    assert [f.check_id for f in findings] == ["probe.timeout"]
    assert wait_gone(marker) == []


DRIVER = """
import sys
from datetime import timedelta
from pathlib import Path
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.mcp_probe.local import probe_bundle
from agent_registry.policy.model import ProbePolicy
asset = load_path(Path(sys.argv[1]), limits=BundleLimits())
probe_bundle(asset, ProbePolicy(timeout=timedelta(seconds=60)), baseline=None)
"""


@pytest.fixture
def worker_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A process probing a server that starts a daemon; the test kills it mid-probe."""
    marker = f"agentreg-killed-{uuid.uuid4().hex}"
    folder = tmp_path / "server"
    bundled_server(
        folder, "attack.py", tools=READ_TOOLS, args=["daemon", marker], sdk=False, source=HOSTILE
    )
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(folder)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    try:
        yield process, marker
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_worker_killed_mid_probe_leaves_no_process_of_the_server(
    worker_process: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, marker = worker_process
    deadline = time.monotonic() + 60
    while not processes_with(marker):
        assert process.poll() is None, "the probe ended before the daemon started"
        assert time.monotonic() < deadline, "the daemon never started"
        time.sleep(0.05)

    process.send_signal(signal.SIGKILL)
    process.wait()

    assert wait_gone(marker) == []


def test_no_sandbox_fails_closed_and_validate_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    from typer.testing import CliRunner

    from agent_registry.cli.validate import validate
    from agent_registry.mcp_probe import sandbox

    app = typer.Typer()
    app.command()(validate)

    marker = f"agentreg-nosandbox-{uuid.uuid4().hex}"
    folder = tmp_path / "server"
    bundled_server(
        folder, "attack.py", tools=READ_TOOLS, args=["sleep", marker], sdk=False, source=HOSTILE
    )
    monkeypatch.setattr(sandbox, "SANDBOX_PATH", ("/nonexistent",))
    sandbox.sandbox_problem.cache_clear()
    monkeypatch.setenv("AGENT_REGISTRY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "300")
    try:
        result = CliRunner().invoke(app, [str(folder)])
    finally:
        sandbox.sandbox_problem.cache_clear()

    assert result.exit_code == 1, result.output
    assert "probe.sandbox-unavailable" in result.output
    assert "apt-get install bubblewrap" in result.output
    assert processes_with(marker) == [], "nothing may start without the sandbox"


async def test_no_writable_tmpfs_outside_the_sized_tmp_and_home(tmp_path: Path) -> None:
    """Every tmpfs is host memory: the sandbox's root and /dev must not be an unsized one.

    Writing into ``/``, ``/etc``, ``/srv`` or ``/dev/shm`` instead of the capped ``/tmp``
    would otherwise let a server hold half the host's RAM per probe.
    """
    limits = SandboxLimits(tmp_bytes=4 * 1024 * 1024)
    folders = ["/", "/etc", "/srv", "/home", "/dev", "/dev/shm", "/tmp", "/home/probe"]

    result = await attack(tmp_path / "server", "fill", *folders, limits=limits)

    said = {line.split()[2]: line for line in lines(result, "fill")}
    assert set(said) == set(folders), result.stderr_excerpt
    for folder, line in said.items():
        written = int(line.split()[3])
        assert " denied " in line, line
        assert written <= 4, f"{folder}: {line}"
    assert all(said[f].endswith("Read-only file system") for f in ["/", "/etc", "/srv", "/dev"])


async def test_server_cannot_create_a_user_namespace_of_its_own(tmp_path: Path) -> None:
    """Root in a nested user namespace reaches kernel code (netfilter, mounts) nobody's cannot."""
    result = await attack(tmp_path / "server", "unshare")

    [said] = lines(result, "unshare")
    assert said.startswith("unshare denied "), said


async def test_escape_sequences_in_the_server_error_reach_findings_as_text(tmp_path: Path) -> None:
    """``agentreg validate`` prints findings on a terminal; the server's words must not drive it."""
    folder = tmp_path / "server"
    asset = bundled_server(
        folder, "attack.py", tools=READ_TOOLS, args=["escapes"], sdk=False, source=HOSTILE
    )

    findings, _ = await probe_server(asset, folder, timeout=TIMEOUT)

    [failed] = [f for f in findings if f.check_id == "probe.failed"]
    assert "\\x1b[2J\\x1b]0;owned\\x07" in failed.message, failed.message
    assert [c for c in failed.message if not c.isprintable()] == []


async def test_escape_sequences_on_stderr_reach_reviewers_as_text(tmp_path: Path) -> None:
    """Reviewers read the stderr excerpt in Slack and on terminals: lines kept, escapes shown."""
    folder = tmp_path / "server"
    asset = bundled_server(
        folder, "attack.py", tools=READ_TOOLS, args=["escapes"], sdk=False, source=HOSTILE
    )

    report = await probe_asset_report(
        asset,
        bundle_dir=folder,
        timeout=TIMEOUT,
        max_output_bytes=CAP,
        baseline=None,
        cache_dir=CACHE,
    )

    lines = report.stderr_excerpt.split("\n")
    assert lines[:2] == ["starting", "\\x1b[2J\\x1b]0;owned\\x07 \\u202eesrever"], lines
    assert [c for line in lines for c in line if not c.isprintable()] == []


PRELOAD_SOURCE = r"""
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

__attribute__((constructor)) static void report_limits(void) {
    char name[64] = "";
    FILE *comm = fopen("/proc/self/comm", "r");
    if (comm) { fgets(name, sizeof name, comm); fclose(comm); }
    name[strcspn(name, "\n")] = 0;
    struct rlimit nproc, data;
    getrlimit(RLIMIT_NPROC, &nproc);
    getrlimit(RLIMIT_DATA, &data);
    fprintf(stderr, "preload %s nproc=%lld data=%lld\n", name,
            (long long)nproc.rlim_cur, (long long)data.rlim_cur);
}
"""


@pytest.fixture
def preload_library(tmp_path: Path) -> Path:
    """A shared library whose constructor reports the limits of whatever loads it."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the preloaded library (apt-get install gcc)")
    source = tmp_path / "preload.c"
    source.write_text(PRELOAD_SOURCE)
    library = tmp_path / "preload.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


async def test_the_launch_environment_runs_nothing_before_the_limits(
    tmp_path: Path, preload_library: Path
) -> None:
    """``LD_PRELOAD`` from ``launch.env`` must not load into the tool that sets the limits.

    Its constructor would run before them: a fork or an allocation there has none.
    """
    folder = tmp_path / "server"
    asset = bundled_server(
        folder,
        "attack.py",
        tools=READ_TOOLS,
        args=["sleep"],
        env={"LD_PRELOAD": "/srv/bundle/preload.so"},
        sdk=False,
        source=HOSTILE,
    )
    shutil.copy(preload_library, folder / "preload.so")
    limits = SandboxLimits(processes=24)

    result = await probe(
        prepared_launch(asset),
        bundle_dir=folder,
        timeout=TIMEOUT,
        max_output_bytes=CAP,
        limits=limits,
    )

    loaded = lines(result, "preload")
    assert loaded, result.stderr_excerpt
    limited = ["nproc=24", f"data={limits.memory_bytes}"]
    assert all(line.split()[2:] == limited for line in loaded), loaded
