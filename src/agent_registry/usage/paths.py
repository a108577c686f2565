"""Where the hook keeps its spool and its log: one folder per user, not per project.

Sessions in every project share one spool, so a batch fills (and flushes) sooner. The
registry's data folder is used when ``AGENT_REGISTRY_DATA_DIR`` is set (a shared
machine, the tests); otherwise the user's cache folder, which losing costs nothing
but unsent counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_VARIABLE = "AGENT_REGISTRY_DATA_DIR"


@dataclass(frozen=True)
class UsagePaths:
    """The files of the usage hook.

    Attributes:
        folder: The folder holding them all.
        spool: Events waiting to be sent, one JSON object per line.
        lock: Held while appending or claiming, so lines never interleave.
        flush_lock: Held by the one process sending, so two hooks never send at once.
        backoff: The time of the last failed send, so a registry that is down costs
            one attempt per flush interval, not one per tool call.
        log: Why the hook dropped or could not send something.
    """

    folder: Path

    @property
    def spool(self) -> Path:
        """Events waiting to be sent."""
        return self.folder / "spool.jsonl"

    @property
    def lock(self) -> Path:
        """The append/claim lock."""
        return self.folder / "spool.lock"

    @property
    def flush_lock(self) -> Path:
        """The sender's lock."""
        return self.folder / "flush.lock"

    @property
    def backoff(self) -> Path:
        """When the last send failed; no new attempt until the flush age has passed."""
        return self.folder / "flush.failed"

    @property
    def log(self) -> Path:
        """The hook's log."""
        return self.folder / "usage-hook.log"

    def batches(self) -> list[Path]:
        """Claimed batches not yet sent, oldest first (their names sort by claim time)."""
        try:
            return sorted(self.folder.glob("batch-*.jsonl"))
        except OSError:
            return []


def usage_paths(env: Mapping[str, str], home: Path) -> UsagePaths:
    """The usage folder for this environment.

    Args:
        env: The hook's environment (``AGENT_REGISTRY_DATA_DIR``, ``XDG_CACHE_HOME``).
        home: The user's home folder.

    Returns:
        ``$AGENT_REGISTRY_DATA_DIR/usage``, else ``$XDG_CACHE_HOME/agent-registry/usage``,
        else ``~/.cache/agent-registry/usage``.
    """
    data_dir = env.get(DATA_DIR_VARIABLE, "").strip()
    if data_dir:
        return UsagePaths(Path(data_dir).expanduser() / "usage")
    cache = env.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache) if cache else home / ".cache"
    return UsagePaths(base / "agent-registry" / "usage")
