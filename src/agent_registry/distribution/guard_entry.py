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

from securesystemslib.signer import Signer

from agent_registry.catalog.models import CatalogSource
from agent_registry.distribution.guard import (
    FAIL_VARIABLE,
    DriftMode,
    FailMode,
    GuardConfig,
    parse_pins,
    run_guard,
    undecided,
)
from agent_registry.distribution.snapshot import default_snapshot_path
from agent_registry.signing.keys import Keyring, keyring_from_text

DEFAULT_MAX_AGE_MINUTES = 10.0
DEFAULT_MAX_STALE_HOURS = 24.0
DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_AGE_VARIABLE = "AGENT_REGISTRY_GUARD_MAX_AGE"
MAX_STALE_VARIABLE = "AGENT_REGISTRY_GUARD_MAX_STALE"
TIMEOUT_VARIABLE = "AGENT_REGISTRY_GUARD_TIMEOUT"
SNAPSHOT_VARIABLE = "AGENT_REGISTRY_GUARD_SNAPSHOT"
DRIFT_VARIABLE = "AGENT_REGISTRY_GUARD_DRIFT"


def open_registry() -> CatalogSource:
    """The registry for a refresh, imported only now (see the module docstring)."""
    from agent_registry.config import Settings
    from agent_registry.distribution.source import open_catalog

    return open_catalog(Settings())


def guard_trust(trusted_keys: str | None) -> tuple[Keyring, Signer | None]:
    """The keys the guard trusts, and the signer for a snapshot read from the database.

    ``--trusted-keys`` (inline JSON, as the managed export writes it, or a file) wins
    over the settings, so a key a user adds to their own environment is not trusted
    where the administrator named the keys.
    """
    from agent_registry.config import Settings
    from agent_registry.signing.trust import registry_signer, trusted_keyring

    settings = Settings()
    signer = registry_signer(settings)
    if trusted_keys:
        return keyring_from_text(trusted_keys), signer
    return trusted_keyring(settings, signer=signer), signer


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
    trusted_keys: str | None = None,
    max_stale_hours: float = DEFAULT_MAX_STALE_HOURS,
    drift: DriftMode = DriftMode.DENY,
    pins: Sequence[str] = (),
) -> None:
    """Answer one hook call: a denial on stdout, or nothing; returns whatever happens."""
    environ = os.environ if env is None else env
    try:
        raw = stdin.read()
        keyring, signer = guard_trust(trusted_keys)
        config = GuardConfig(
            mode=mode,
            snapshot_path=snapshot or default_snapshot_path(environ, Path.home()),
            max_age=timedelta(minutes=max_age_minutes),
            timeout=timeout,
            keyring=keyring,
            max_stale=timedelta(hours=max_stale_hours),
            signer=signer,
            drift=drift,
            home=Path.home(),
            pins=parse_pins(pins),
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
    """The fail mode from a flag or variable; anything but ``open`` means closed.

    Fail-open is a choice a user makes on their own machine, never a default: a guard
    that allowed when its snapshot was gone and the registry down could be walked around
    by deleting a file. An unreadable setting must not stop the hook (Claude Code reads
    exit code 2 from a PreToolUse hook as "block"), so it falls back to closed.
    """
    return FailMode.OPEN if (text or "").strip().casefold() == "open" else FailMode.CLOSED


def parse_drift(text: str | None) -> DriftMode:
    """Drift is denied unless ``warn`` is asked for."""
    return DriftMode.WARN if (text or "").strip().casefold() == "warn" else DriftMode.DENY


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
    ``…_MAX_STALE`` (hours), ``…_DRIFT`` (deny or warn), ``…_TIMEOUT`` (seconds) and
    ``…_SNAPSHOT``; ``--trusted-keys`` (inline keyring or file) overrides
    ``AGENT_REGISTRY_TRUSTED_KEYS``. Unusable values fall back to the defaults instead
    of failing the hook.
    """
    parser = argparse.ArgumentParser(
        prog="agentreg-guard", description="The Agent Registry's PreToolUse guard hook."
    )
    parser.add_argument("--fail", default=os.environ.get(FAIL_VARIABLE))
    parser.add_argument("--max-age", default=os.environ.get(MAX_AGE_VARIABLE))
    parser.add_argument("--timeout", default=os.environ.get(TIMEOUT_VARIABLE))
    parser.add_argument("--snapshot", default=os.environ.get(SNAPSHOT_VARIABLE))
    parser.add_argument("--max-stale", default=os.environ.get(MAX_STALE_VARIABLE))
    parser.add_argument("--drift", default=os.environ.get(DRIFT_VARIABLE))
    parser.add_argument("--trusted-keys")
    parser.add_argument("--pin", action="append", default=[])
    args, _unknown = parser.parse_known_args(argv)
    serve_guard(
        mode=parse_mode(args.fail),
        max_age_minutes=parse_number(args.max_age, DEFAULT_MAX_AGE_MINUTES),
        max_stale_hours=parse_number(args.max_stale, DEFAULT_MAX_STALE_HOURS),
        drift=parse_drift(args.drift),
        trusted_keys=args.trusted_keys,
        pins=args.pin,
        timeout=parse_number(args.timeout, DEFAULT_TIMEOUT_SECONDS),
        snapshot=Path(args.snapshot).expanduser() if args.snapshot else None,
        stdin=sys.stdin.buffer,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )


if __name__ == "__main__":
    main()
