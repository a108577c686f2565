"""The guard as a process runs it: settings from flags and environment, stdin in, never fail.

Shared by ``agentreg hook guard`` and ``python -m agent_registry.distribution.guard_entry``.
The second skips the CLI's imports (the whole command set, Temporal's client among
them), which start-up time shows on a hook that runs before every tool call; the
registry client is imported only when the snapshot needs a refresh.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, TextIO

from agent_registry.catalog.models import CatalogSource
from agent_registry.distribution.guard import FailMode, GuardConfig, run_guard, undecided
from agent_registry.distribution.snapshot import default_snapshot_path

DEFAULT_MAX_AGE_MINUTES = 10.0
DEFAULT_TIMEOUT_SECONDS = 5.0
FAIL_VARIABLE = "AGENT_REGISTRY_GUARD_FAIL"
MAX_AGE_VARIABLE = "AGENT_REGISTRY_GUARD_MAX_AGE"
TIMEOUT_VARIABLE = "AGENT_REGISTRY_GUARD_TIMEOUT"
SNAPSHOT_VARIABLE = "AGENT_REGISTRY_GUARD_SNAPSHOT"


def open_registry() -> CatalogSource:
    """The registry for a refresh, imported only now (see the module docstring)."""
    from agent_registry.config import Settings
    from agent_registry.distribution.source import open_catalog

    return open_catalog(Settings())


def serve_guard(
    *,
    mode: FailMode,
    max_age_minutes: float,
    timeout: float,
    snapshot: Path | None,
    stdin: BinaryIO,
    stdout: TextIO,
    stderr: TextIO,
    env: Mapping[str, str] | None = None,
) -> None:
    """Answer one hook call: a denial on stdout, or nothing; returns whatever happens."""
    environ = os.environ if env is None else env
    try:
        raw = stdin.read()
        config = GuardConfig(
            mode=mode,
            snapshot_path=snapshot or default_snapshot_path(environ, Path.home()),
            max_age=timedelta(minutes=max_age_minutes),
            timeout=timeout,
        )
        decision = run_guard(
            raw, config=config, open_catalog=open_registry, now=datetime.now(UTC), err=stderr
        )
    except Exception as error:  # a hook must answer, whatever broke
        decision = undecided(mode, f"agentreg guard: {type(error).__name__}: {error}", stderr)
    if decision is not None:
        stdout.write(decision + "\n")
        stdout.flush()


def parse_mode(text: str | None) -> FailMode:
    """The fail mode from a flag or variable; anything but ``closed`` means open.

    An unreadable setting must not stop the hook (Claude Code reads exit code 2 from a
    PreToolUse hook as "block"), so it falls back to the documented default.
    """
    return FailMode.CLOSED if (text or "").strip().casefold() == "closed" else FailMode.OPEN


def parse_number(text: str | None, default: float) -> float:
    """A positive number from a flag or variable, or ``default`` when it is not one."""
    try:
        value = float(text) if text is not None else default
    except ValueError:
        return default
    return value if value > 0 else default


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m agent_registry.distribution.guard_entry [--fail open|closed] …``.

    Flags override ``AGENT_REGISTRY_GUARD_FAIL``, ``…_MAX_AGE`` (minutes),
    ``…_TIMEOUT`` (seconds) and ``…_SNAPSHOT``; unusable values fall back to the
    defaults instead of failing the hook.
    """
    parser = argparse.ArgumentParser(
        prog="agentreg-guard", description="The Agent Registry's PreToolUse guard hook."
    )
    parser.add_argument("--fail", default=os.environ.get(FAIL_VARIABLE))
    parser.add_argument("--max-age", default=os.environ.get(MAX_AGE_VARIABLE))
    parser.add_argument("--timeout", default=os.environ.get(TIMEOUT_VARIABLE))
    parser.add_argument("--snapshot", default=os.environ.get(SNAPSHOT_VARIABLE))
    args, _unknown = parser.parse_known_args(argv)
    serve_guard(
        mode=parse_mode(args.fail),
        max_age_minutes=parse_number(args.max_age, DEFAULT_MAX_AGE_MINUTES),
        timeout=parse_number(args.timeout, DEFAULT_TIMEOUT_SECONDS),
        snapshot=Path(args.snapshot).expanduser() if args.snapshot else None,
        stdin=sys.stdin.buffer,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )


if __name__ == "__main__":
    main()
