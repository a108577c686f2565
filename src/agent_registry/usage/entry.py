"""The hook as a process runs it: read stdin, do the work quietly, never fail.

Shared by ``agentreg hook usage`` and ``python -m agent_registry.usage`` (the latter
skips the CLI's imports, for machines where the hook's start-up time shows).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from agent_registry.usage.hook import HookRun, SinkOpener, policy_from, run_hook
from agent_registry.usage.quiet import quiet

MAX_STDIN_BYTES = 32 * 1024 * 1024
"""Beyond this the input is not read further (and will not parse): a hook call carrying
a huge tool response is still not worth the memory."""

logger = logging.getLogger(__name__)


def read_input(stream: BinaryIO | None) -> str:
    """The hook's stdin as text; empty when missing or a terminal (someone ran it by hand)."""
    if stream is None or stream.isatty():
        return ""
    return stream.read(MAX_STDIN_BYTES).decode("utf-8", errors="replace")


def load_registry() -> SinkOpener:
    """Import the catalog client only when a flush is due: most hook runs never need it."""
    from agent_registry.usage.registry import registry_opener

    return registry_opener()


def hook_main(stream: BinaryIO | None, env: Mapping[str, str] | None = None) -> None:
    """Run the usage hook on ``stream``; returns normally whatever happens.

    Args:
        stream: The hook's stdin (bytes); None when the process has none.
        env: The environment; ``os.environ`` when None.
    """
    environ = dict(os.environ if env is None else env)
    try:
        run = HookRun(
            env=environ, home=Path.home(), policy=policy_from(environ), load_sink=load_registry
        )
        log_path = run.paths.log
    except Exception:  # no home folder, unusable environment: nothing to do, quietly
        return
    with quiet(log_path):
        try:
            run_hook(read_input(stream), run)
        except Exception:  # run_hook does not raise; this guards the guard
            logger.exception("usage hook failed")
