"""Leave a process that held a Temporal client without running CPython's finalization.

The SDK's Rust core keeps runtime threads that can still reach into the interpreter
while it finalizes; then CPython aborts with ``Fatal Python error: PyGILState_Release``
and the process exits -6 (temporalio/sdk-python#300, open upstream). For the worker
that turned every clean SIGTERM drain into a crash in an orchestrator's eyes, now and
then, and made ``tests/faults/test_worker_drain.py`` flaky. Finalization has nothing
left to do for these processes once they return from their main coroutine (the worker
has drained, engines are disposed), so they flush what they wrote and leave directly.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import suppress
from typing import NoReturn


def exit_without_finalizing(code: int) -> NoReturn:
    """Flush logs and standard streams, then end the process with ``code`` at once.

    Call it only after every resource of the process is closed: nothing after it runs,
    neither ``atexit`` handlers nor ``finally`` blocks further up.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        # A closed or broken pipe has nothing more to deliver; the exit code still counts.
        with suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
