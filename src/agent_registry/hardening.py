"""Process hardening for the worker, which starts untrusted MCP servers as children.

The live probe gives a server a scrubbed environment, but on Linux a process of the same
user may read another's environment from ``/proc/<pid>/environ`` — and the worker's holds
database and Slack credentials. Marking the worker not dumpable makes those files (and
ptrace) root-only. It does not stop a server that runs as root, or one that reads files
the worker's user can read: production deployments run the worker as an unprivileged
user with nothing readable that it does not need (see docs/evals.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import threading
from collections.abc import Iterable

_PR_GET_DUMPABLE = 3
_PR_SET_DUMPABLE = 4
"""``prctl`` options from ``<linux/prctl.h>``."""

_log = logging.getLogger(__name__)


def forbid_same_user_inspection() -> bool:
    """Mark this process not dumpable, so same-user processes cannot read its memory.

    Returns:
        True when the flag was set; False on platforms without ``prctl`` (nothing to do
        there that this module knows how to do), with a warning in the log.
    """
    if not sys.platform.startswith("linux"):
        _log.warning("not on Linux: MCP probe children can inspect the worker's environment")
        return False
    libc = _libc()
    if libc is None:
        _log.warning("libc not found: the worker stays dumpable")
        return False
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        _log.warning("prctl(PR_SET_DUMPABLE) failed (errno %d)", ctypes.get_errno())
        return False
    return True


def inspection_forbidden() -> bool:
    """Whether this process is marked not dumpable (False where ``prctl`` is unknown)."""
    libc = _libc() if sys.platform.startswith("linux") else None
    return libc is not None and int(libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)) == 0


def _libc() -> ctypes.CDLL | None:
    libc_name = ctypes.util.find_library("c")
    return None if libc_name is None else ctypes.CDLL(libc_name, use_errno=True)


_FORGOTTEN: list[str] = []
_FORGOTTEN_LOCK = threading.Lock()


def forget_environment(names: Iterable[str]) -> None:
    """Remove these variables from the environment, remembering their values.

    The values are still needed for one thing: blanking them out of text people read
    (a probed server's output, :mod:`agent_registry.mcp_probe.run`), which looks for
    the worker's environment values and would otherwise stop finding these.
    """
    with _FORGOTTEN_LOCK:
        for name in names:
            value = os.environ.pop(name, None)
            if value:
                _FORGOTTEN.append(value)


def forgotten_values() -> tuple[str, ...]:
    """The values :func:`forget_environment` removed, for redaction only."""
    with _FORGOTTEN_LOCK:
        return tuple(_FORGOTTEN)
