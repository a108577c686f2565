"""Start an MCP server in the sandbox and ask it what it exposes.

The server is untrusted code, so it runs inside bubblewrap
(:mod:`~agent_registry.mcp_probe.sandbox`): its own namespaces, the unprivileged user,
no network, a read-only view of the system and its bundle, kernel limits. It gets none
of the worker's environment: only PATH, HOME and TMPDIR inside the sandbox, a locale and
the non-secret variables its launch declares. Everything it can make us wait for or hold
(time, stdout, stderr) is bounded here too, and what it wrote to stderr is kept only
after the secret scanner's redaction (:mod:`~agent_registry.mcp_probe.output`).

``sandboxed=False`` runs the same probe unconfined; only the benchmark that measures
what the sandbox costs uses it.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.to_thread
import mcp_types as types
from anyio.abc import Process
from mcp.client.session import ClientSession
from mcp.os.posix.utilities import terminate_posix_process_tree
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED
from pydantic import ValidationError

from agent_registry.hardening import forgotten_values
from agent_registry.mcp_probe.launch import LaunchSpec
from agent_registry.mcp_probe.output import redact_secrets, shown, shown_lines
from agent_registry.mcp_probe.result import ExposedTool, ProbeOutcome, ProbeResult, ToolHints
from agent_registry.mcp_probe.sandbox import (
    BUNDLE_DIR,
    HOME_DIR,
    TMP_DIR,
    SandboxLimits,
    describe_exit,
    sandbox_command,
)
from agent_registry.mcp_probe.transport import PipeReport, process_transport

MAX_TOOLS = 1000
"""Most tools a server may list; past this the probe fails rather than read on."""

MAX_PAGES = 200
"""Most ``tools/list`` pages followed, so that endless empty pages end before the timeout."""

EXIT_GRACE_SECONDS = 1.0
"""How long a server that answered may take to exit once its stdin closes."""

TERM_GRACE_SECONDS = 1.0
"""Between SIGTERM to the process group and SIGKILL."""

REAP_SECONDS = 2.0
"""How long to wait for the killed server to be reaped."""

ERROR_MAX_CHARS = 300
"""Longest error text kept; the report is for people, not for dumps."""

CLIENT_INFO = types.Implementation(name="agent-registry-probe", version="1")
"""How the probe introduces itself in ``initialize``."""

_REDACT_MIN_CHARS = 8
_EXIT_POLL_SECONDS = 0.01


class ListingError(Exception):
    """A server answered ``tools/list``, but with a list the probe cannot take in full."""


@dataclass
class _Session:
    """What the conversation with the server established, step by step."""

    step: str = "start"
    initialize: types.InitializeResult | None = None
    tools: list[ExposedTool] = field(default_factory=list)


async def probe(
    spec: LaunchSpec,
    *,
    bundle_dir: Path,
    # The server's lifetime, not the caller's patience: clean-up must outlive it.
    timeout: float,  # noqa: ASYNC109
    max_output_bytes: int,
    limits: SandboxLimits | None = None,
    sandboxed: bool = True,
) -> ProbeResult:
    """Start the server, run ``initialize`` and ``tools/list``, then stop it.

    Never raises for what the server does: a crash, a hang, garbage or a flood is an
    outcome in the result. The server process group is gone and the temporary HOME is
    removed when this returns.

    Args:
        spec: How to start the server.
        bundle_dir: The unpacked bundle; the server's working directory.
        timeout: Seconds for start, ``initialize`` and every ``tools/list`` page
            together; stopping the server adds at most a few seconds.
        max_output_bytes: Most bytes the server may write to stdout, and to stderr.
        limits: The sandbox's kernel limits; the defaults when None.
        sandboxed: False only to measure the sandbox's cost: runs the server unconfined.

    Returns:
        What the probe saw.
    """
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="agentreg-probe-"))
    try:
        result = await _probe_in(
            spec,
            workdir,
            bundle_dir=bundle_dir,
            timeout=timeout,
            max_output_bytes=max_output_bytes,
            limits=limits or SandboxLimits(),
            sandboxed=sandboxed,
        )
    finally:
        _remove_tree(workdir)
    result.duration_seconds = round(time.monotonic() - started, 3)
    return result


def child_environment(spec: LaunchSpec, *, home: Path, tmp: Path) -> dict[str, str]:
    """The whole environment of the server: nothing inherited from the worker.

    The launch's variables come after the locale (a server may want another one) and
    before PATH, HOME and TMPDIR, which it cannot move out of the sandbox.

    Args:
        spec: The launch, for its PATH and declared variables.
        home: The throwaway HOME.
        tmp: The throwaway TMPDIR.

    Returns:
        The environment.
    """
    return {
        "LANG": "C.UTF-8",
        **spec.env,
        "PATH": os.pathsep.join(spec.search_path),
        "HOME": str(home),
        "TMPDIR": str(tmp),
    }


async def _probe_in(
    spec: LaunchSpec,
    workdir: Path,
    *,
    bundle_dir: Path,
    timeout: float,  # noqa: ASYNC109
    max_output_bytes: int,
    limits: SandboxLimits,
    sandboxed: bool,
) -> ProbeResult:
    if sandboxed:
        home, tmp = Path(HOME_DIR), Path(TMP_DIR)
        # A copy the sandbox user can reach: the caller's folder may sit in a private one.
        bundle_dir = await anyio.to_thread.run_sync(_copy_bundle, bundle_dir, workdir)
    else:
        home, tmp = workdir / "home", workdir / "tmp"
        home.mkdir(mode=0o700)
        tmp.mkdir(mode=0o700)
    env = child_environment(spec, home=home, tmp=tmp)
    report = PipeReport()
    session = _Session()
    failure: Exception | None = None
    process: Process | None = None
    try:
        with anyio.move_on_after(timeout) as deadline:
            try:
                # Shielded: a cancellation between spawn and return would leak the process.
                with anyio.CancelScope(shield=True), ExitStack() as fds:
                    if sandboxed:
                        confined = sandbox_command(
                            [_inside(spec.command), *spec.args],
                            bundle_dir=bundle_dir,
                            runtime_dirs=spec.runtime_dirs,
                            env=env,
                            stack=fds,
                            limits=limits,
                        )
                        argv, pass_fds, cwd, child_env = confined.argv, confined.pass_fds, "/", {}
                    else:
                        argv, pass_fds = [spec.command, *spec.args], []
                        cwd, child_env = str(bundle_dir), env
                    process = started = await anyio.open_process(
                        argv,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        cwd=cwd,
                        env=child_env,
                        pass_fds=pass_fds,
                        start_new_session=True,
                    )
                await _converse(started, session, report, max_output_bytes)
            except Exception as error:
                failure = _innermost(error)
    finally:
        if process is not None:
            await _stop(process, graceful=failure is None and not deadline.cancelled_caught)
    exit_code = None if process is None else process.returncode
    outcome, error_text = _verdict(
        session,
        report,
        failure,
        timed_out=deadline.cancelled_caught,
        timeout=timeout,
        max_output_bytes=max_output_bytes,
        exit_code=exit_code,
        command=spec.command,
        limits=limits,
    )
    redact = _redactor(env)
    info = session.initialize
    return ProbeResult(
        outcome=outcome,
        server_name=None if info is None else info.server_info.name,
        server_version=None if info is None else info.server_info.version,
        protocol_version=None if info is None else info.protocol_version,
        tools=session.tools,
        error=None if error_text is None else redact_secrets(redact(error_text))[:ERROR_MAX_CHARS],
        stderr_excerpt=shown_lines(redact_secrets(redact(report.stderr_text()))),
        exit_code=exit_code,
        stdout_bytes=report.stdout_bytes,
    )


async def _converse(
    process: Process, session: _Session, report: PipeReport, max_output_bytes: int
) -> None:
    """``initialize`` then every ``tools/list`` page, recording each step as it goes."""
    async with (
        process_transport(process, max_output_bytes=max_output_bytes, report=report) as streams,
        ClientSession(*streams, client_info=CLIENT_INFO) as client,
    ):
        session.step = "initialize"
        session.initialize = await client.initialize()
        session.step = "tools/list"
        session.tools = await _list_tools(client)
        session.step = "done"


async def _list_tools(client: ClientSession) -> list[ExposedTool]:
    """Follow pagination cursors to the end, within :data:`MAX_TOOLS` and :data:`MAX_PAGES`."""
    tools: list[ExposedTool] = []
    cursor: str | None = None
    seen_cursors: set[str] = set()
    for _page in range(MAX_PAGES):
        params = None if cursor is None else types.PaginatedRequestParams(cursor=cursor)
        listing = await client.list_tools(params=params)
        tools.extend(_exposed(tool) for tool in listing.tools)
        if len(tools) > MAX_TOOLS:
            raise ListingError(f"the server lists more than {MAX_TOOLS} tools")
        cursor = listing.next_cursor
        if cursor is None:
            return tools
        if cursor in seen_cursors:
            raise ListingError("the server repeats a tools/list cursor, so the list never ends")
        seen_cursors.add(cursor)
    raise ListingError(f"the server's tool list runs past {MAX_PAGES} pages")


def _exposed(tool: types.Tool) -> ExposedTool:
    hints = tool.annotations
    return ExposedTool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.input_schema,
        annotations=None
        if hints is None
        else ToolHints(
            title=hints.title,
            read_only_hint=hints.read_only_hint,
            destructive_hint=hints.destructive_hint,
            idempotent_hint=hints.idempotent_hint,
            open_world_hint=hints.open_world_hint,
        ),
    )


def _verdict(
    session: _Session,
    report: PipeReport,
    failure: Exception | None,
    *,
    timed_out: bool,
    timeout: float,
    max_output_bytes: int,
    exit_code: int | None,
    command: str,
    limits: SandboxLimits,
) -> tuple[ProbeOutcome, str | None]:
    """The outcome and its one-line explanation; a flood explains a closed connection."""
    noise = (
        f"; {report.noise_lines} stdout line(s) were not JSON-RPC (logs belong on stderr)"
        if report.noise_lines
        else ""
    )
    if report.capped or report.stderr_capped:
        stream = "stdout" if report.capped else "stderr"
        return (
            ProbeOutcome.OUTPUT_CAPPED,
            f"the server wrote more than {max_output_bytes} bytes to {stream} during "
            f"{session.step}, so the probe stopped reading",
        )
    if timed_out:
        return ProbeOutcome.TIMEOUT, f"no answer to {session.step} within {timeout:g} s{noise}"
    if failure is not None:
        described = _describe(failure, session.step, exit_code, command, limits)
        return ProbeOutcome.FAILED, described + noise
    return ProbeOutcome.OK, None


def _innermost(error: Exception) -> Exception:
    """The one real error inside the task-group wrappers the SDK's layers add."""
    while isinstance(error, ExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def _describe(
    error: Exception, step: str, exit_code: int | None, command: str, limits: SandboxLimits
) -> str:
    """Say what went wrong without quoting anything but the server's own words."""
    if isinstance(error, OSError) and step == "start":
        return f"could not start {command}: {error.strerror or type(error).__name__}"
    if isinstance(error, MCPError):
        if error.code == CONNECTION_CLOSED:
            ended = "" if exit_code is None else f" ({describe_exit(exit_code, limits)})"
            return f"the server closed the connection during {step}{ended}"
        return f"{step} failed with error {error.code}: {_one_line(error.message)}"
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return (
            f"the server's {step} answer does not follow the MCP schema "
            f"({error.error_count()} error(s), first at {where or 'the top'}: {first['msg']})"
        )
    if isinstance(error, ListingError):
        return str(error)
    return f"{step} failed: {type(error).__name__}: {_one_line(str(error))}"


def _copy_bundle(source: Path, workdir: Path) -> Path:
    """Copy the unpacked bundle, readable by all (it passed the secret scan already).

    The sandbox user must reach it; the workdir lets others through but not list it.
    """
    workdir.chmod(0o711)
    target = workdir / "bundle"
    shutil.copytree(source, target, symlinks=True)
    for folder, _dirs, files in os.walk(target):
        os.chmod(folder, 0o755)  # noqa: S103 - read-only inside the sandbox
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode & 0o111 | 0o644)
    return target


def _inside(command: str) -> str:
    """A bundle-relative command as the sandbox sees it (the bundle is at BUNDLE_DIR)."""
    if command.startswith("/"):
        return command
    return f"{BUNDLE_DIR}/{command}" if "/" in command else command


def _one_line(text: str) -> str:
    """The server's own words on one line, unprintable characters escaped, capped."""
    return shown(" ".join(text.split()), ERROR_MAX_CHARS)


def _redactor(child_env: Mapping[str, str]) -> Callable[[str], str]:
    """Blank out any worker environment value the server was not given.

    The server never sees those values, so they should never show up in its output or
    in our error text; this makes sure of it for the report, which people read.
    """
    given = set(child_env.values())
    secrets = sorted(
        {
            value
            # The worker drops its credentials from its environment once read
            # (worker.forget_credentials); their values are still blanked out.
            for value in (*os.environ.values(), *forgotten_values())
            if len(value) >= _REDACT_MIN_CHARS and value not in given
        },
        key=len,
        reverse=True,
    )

    def redact(text: str) -> str:
        for value in secrets:
            if value in text:
                text = text.replace(value, "[redacted]")
        return text

    return redact


async def _stop(process: Process, *, graceful: bool) -> None:
    """Close stdin, give a healthy server a moment, then kill whatever is left of the group.

    The group kill runs even after a clean exit: children the server started are in its
    process group and would otherwise outlive the probe. Shielded so a cancelled caller
    cannot leave the server running; every wait in it is bounded.
    """
    with anyio.CancelScope(shield=True):
        assert process.stdin is not None
        with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            await process.stdin.aclose()
        if graceful:
            await _exited_within(process, EXIT_GRACE_SECONDS)
        await terminate_posix_process_tree(process, TERM_GRACE_SECONDS)
        await _exited_within(process, REAP_SECONDS)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                with suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await stream.aclose()
        _close_subprocess_transport(process)


async def _exited_within(process: Process, seconds: float) -> bool:
    """Poll ``returncode``: ``wait()`` would also wait for pipes a grandchild may hold."""
    deadline = anyio.current_time() + seconds
    while process.returncode is None:
        if anyio.current_time() >= deadline:
            return False
        await anyio.sleep(_EXIT_POLL_SECONDS)
    return True


def _close_subprocess_transport(process: Process) -> None:
    """Close asyncio's subprocess transport now rather than warn about it at collection.

    Nothing public exposes it (the SDK's stdio client reaches for it the same way).
    """
    transport = getattr(getattr(process, "_process", None), "_transport", None)
    close = getattr(transport, "close", None)
    if callable(close):
        with suppress(PermissionError, ProcessLookupError):
            close()


def _remove_tree(path: Path) -> None:
    """Remove the throwaway HOME even where the server took away our permissions."""

    def retry_writable(function: Callable[[str], object], failed: str, _info: object) -> None:
        with suppress(OSError):
            parent = os.path.dirname(failed)
            os.chmod(parent, stat.S_IRWXU)
            if os.path.isdir(failed):
                os.chmod(failed, stat.S_IRWXU)
            function(failed)

    shutil.rmtree(path, onerror=retry_writable)
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
