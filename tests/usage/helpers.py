"""What the usage tests share: hook payloads, a project with installs, a counting sink."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from agent_registry.catalog.models import UsageEvent
from agent_registry.distribution.install_marker import MARKER_NAME
from agent_registry.usage.installed import InstalledAsset, InstalledMarker

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def payload(tool_name: str, tool_input: dict[str, object], **extra: object) -> str:
    """A hook call as Claude Code writes it on stdin."""
    body: dict[str, object] = {
        "session_id": "sess-1",
        "hook_event_name": "PostToolUse",
        "tool_name": tool_name,
        "tool_input": tool_input,
        "cwd": "/nowhere",
    }
    body.update(extra)
    return json.dumps(body)


def make_project(tmp_path: Path, assets: list[tuple[str, str]] | None = None) -> Path:
    """A project with a ``.claude`` folder; ``assets`` are (ref, local name) in its marker."""
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    if assets is not None:
        marker = InstalledMarker(
            assets=[InstalledAsset(ref=ref, local_name=local) for ref, local in assets]
        )
        (project / ".claude" / MARKER_NAME).write_text(marker.model_dump_json())
    return project


class CountingSink:
    """A registry double that counts each event id once, as the real registry must."""

    def __init__(self, *, delay: float = 0.0, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.calls: list[list[UsageEvent]] = []
        self.seen: dict[str, UsageEvent] = {}
        self.lock = threading.Lock()

    def record_usage(self, events: list[UsageEvent]) -> int:
        """Record unseen ids; sleep first when told to, to play a slow server."""
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise ConnectionError("registry unreachable")
        with self.lock:
            self.calls.append(list(events))
            fresh = [e for e in events if e.event_id not in self.seen]
            for event in fresh:
                self.seen[event.event_id or ""] = event
            return len(fresh)
