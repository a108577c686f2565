"""Ports for servers the tests and benchmarks start, which no other process picks.

A port found by binding port 0 and letting go is taken by the kernel from its ephemeral
range, the same range every outgoing connection and every other test process draws from.
Between the release and the server's own bind, another pytest-xdist process can be handed
the same port, or a client's connection can take it as its source port, and the server
fails to start. Ports here come from below the ephemeral range instead, from a slice of
it that belongs to this test process alone, and each is handed out once per process.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from pathlib import Path

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST = 10_000
"""Below this sit the well-known and registered services' usual ports."""

DEFAULT_EPHEMERAL_START = 32_768
"""Linux's default first ephemeral port, where ``/proc`` cannot be read."""

MIN_SLICE = 100
"""Fewer ports than this per process and the slices are not worth having: bind port 0."""


class _Ports:
    """Walks this process's slice from a random start, skipping ports that are taken."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slice = _own_slice()
        # Where in the slice to begin: two sessions at once (two checkouts) rarely align.
        self._next = random.randrange(len(self._slice)) if self._slice else 0  # noqa: S311

    def take(self) -> int:
        with self._lock:
            for _ in range(len(self._slice)):
                port = self._slice[self._next]
                self._next = (self._next + 1) % len(self._slice)
                if _bindable(port):
                    return port
        return _kernel_port()


def _own_slice() -> range:
    """This process's share of the ports below the ephemeral range."""
    below = range(LOWEST, _ephemeral_start())
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    size = len(below) // count
    if size < MIN_SLICE or index >= count:
        # xdist names a worker that replaces a crashed one gw<count> or later: its
        # number says nothing about which slice is free, so it takes the kernel's ports.
        return range(0)
    start = below.start + index * size
    return range(start, start + size)


def _ephemeral_start() -> int:
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_START


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _kernel_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_PORTS = _Ports()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on and no other test process is given."""
    return _PORTS.take()
