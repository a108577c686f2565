"""A stdio transport for the MCP client session that bounds what a server can make us hold.

It is the SDK's ``stdio_client`` pipe bridging (newline-delimited JSON-RPC between the
process pipes and the session's memory streams) over a process the caller started and
stops, with two differences that matter for untrusted servers: stdout is counted and cut
off at a byte cap (a flood or one endless line cannot grow a buffer without bound), and
stderr is read continuously, keeping only its start, so the server never blocks on it,
and cut off at the same cap, so a server writing without end to stderr is stopped too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

import anyio
import mcp_types as types
from anyio.abc import ByteReceiveStream, ByteSendStream, Process
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

STDERR_KEEP_BYTES = 4096
"""How much of the server's stderr is kept for the report; the rest is read and dropped."""

_READ_CHUNK = 65536

SessionStreams = tuple[
    MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]
]
"""The read and write streams a ``ClientSession`` is built on."""

_PIPE_ERRORS = (
    anyio.EndOfStream,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    ConnectionError,
    OSError,
)


@dataclass
class PipeReport:
    """What the pipes carried, for the probe's verdict and report.

    Attributes:
        stdout_bytes: Bytes read from stdout, up to just past the cap.
        capped: Whether stdout went past the cap and reading stopped.
        noise_lines: Stdout lines that were not JSON-RPC messages (and were dropped).
        stderr_head: The first :data:`STDERR_KEEP_BYTES` of stderr.
        stderr_bytes: All stderr bytes read.
        stderr_capped: Whether stderr went past the cap and the session was closed.
    """

    stdout_bytes: int = 0
    capped: bool = False
    noise_lines: int = 0
    stderr_head: bytearray = field(default_factory=bytearray)
    stderr_bytes: int = 0
    stderr_capped: bool = False

    def stderr_text(self) -> str:
        """The kept stderr, decoded leniently, marked when more was written."""
        text = self.stderr_head.decode("utf-8", errors="replace")
        if self.stderr_bytes > len(self.stderr_head):
            text += f"\n[… {self.stderr_bytes - len(self.stderr_head)} more bytes dropped]"
        return text


@asynccontextmanager
async def process_transport(
    process: Process, *, max_output_bytes: int, report: PipeReport
) -> AsyncIterator[SessionStreams]:
    """Bridge a started server process to the streams a ``ClientSession`` reads and writes.

    When stdout passes ``max_output_bytes`` reading stops and the read stream is closed,
    so pending requests fail at once with a closed connection (and ``report.capped``
    says why). Stopping the process stays with the caller.

    Args:
        process: A process started with stdin, stdout and stderr pipes.
        max_output_bytes: Most stdout bytes accepted over the whole session.
        report: Filled in as the pipes are read.

    Yields:
        The session's read and write streams.
    """
    assert process.stdin is not None
    assert process.stdout is not None
    read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(_read_stdout, process.stdout, read_writer, max_output_bytes, report)
        tasks.start_soon(_write_stdin, process.stdin, write_reader, read_writer)
        if process.stderr is not None:
            tasks.start_soon(_read_stderr, process.stderr, read_writer, max_output_bytes, report)
        try:
            yield read_stream, write_stream
        finally:
            tasks.cancel_scope.cancel()
            for stream in (read_stream, write_stream, read_writer, write_reader):
                stream.close()


async def _read_stdout(
    stdout: ByteReceiveStream,
    sink: MemoryObjectSendStream[SessionMessage | Exception],
    max_output_bytes: int,
    report: PipeReport,
) -> None:
    """Split stdout into lines and hand each JSON-RPC message to the session.

    Counting bytes before splitting bounds the line buffer too: an endless line is cut
    off at the same cap as a flood of short ones.
    """
    pending = bytearray()
    with sink, suppress(*_PIPE_ERRORS):
        while True:
            chunk = await stdout.receive(_READ_CHUNK)
            report.stdout_bytes += len(chunk)
            if report.stdout_bytes > max_output_bytes:
                report.capped = True
                return
            if b"\n" not in chunk:
                pending += chunk  # Amortised append: a long line costs its length once.
                continue
            first, *lines, rest = chunk.split(b"\n")
            lines.insert(0, bytes(pending + first))
            pending = bytearray(rest)
            for line in lines:
                message = _parse_line(line, report)
                if message is not None:
                    await sink.send(message)


def _parse_line(line: bytes, report: PipeReport) -> SessionMessage | None:
    """A JSON-RPC message, or None for a blank or foreign line (counted as noise)."""
    text = line.strip()
    if not text:
        return None
    if not text.startswith(b"{"):
        report.noise_lines += 1
        return None
    try:
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except (ValidationError, ValueError):
        report.noise_lines += 1
        return None


async def _write_stdin(
    stdin: ByteSendStream,
    source: MemoryObjectReceiveStream[SessionMessage],
    sink: MemoryObjectSendStream[SessionMessage | Exception],
) -> None:
    """Write each session message as one JSON line; a broken pipe ends the session."""
    try:
        with source:
            async for session_message in source:
                data = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                await stdin.send((data + "\n").encode())
    except _PIPE_ERRORS:
        # The server stopped reading; closing the session's read side turns a request
        # that would wait forever into a closed connection.
        sink.close()


async def _read_stderr(
    stderr: ByteReceiveStream,
    sink: MemoryObjectSendStream[SessionMessage | Exception],
    max_output_bytes: int,
    report: PipeReport,
) -> None:
    """Keep the start of stderr and drain the rest, so the server never blocks on it.

    Past ``max_output_bytes`` the session's read side is closed, as for stdout: pending
    requests fail at once and the caller stops the server.
    """
    with suppress(*_PIPE_ERRORS):
        while True:
            chunk = await stderr.receive(_READ_CHUNK)
            report.stderr_bytes += len(chunk)
            if report.stderr_bytes > max_output_bytes:
                report.stderr_capped = True
                sink.close()
                return
            room = STDERR_KEEP_BYTES - len(report.stderr_head)
            if room > 0:
                report.stderr_head.extend(chunk[:room])
