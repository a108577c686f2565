"""docs/evals.md stays true: every check id the bar can raise is documented there."""

from __future__ import annotations

import re
from pathlib import Path

from agent_registry.evals.runner import CATALOG

DOC = Path(__file__).resolve().parents[1] / "docs" / "evals.md"


def _documented_ids(text: str) -> set[str]:
    ids = set(re.findall(r"`([a-z]+\.[a-z0-9.-]+)`", text))
    # Shorthand rows such as `scope.mcp-effect.write`, `.network`.
    for row in re.findall(r"^\|.*$", text, flags=re.MULTILINE):
        first = re.search(r"`([a-z]+\.[a-z0-9-]+)\.[a-z]+`", row)
        for suffix in re.findall(r"`\.([a-z-]+)`", row):
            if first:
                ids.add(f"{first.group(1)}.{suffix}")
    return ids


def test_every_check_id_is_documented() -> None:
    missing = sorted(set(CATALOG) - _documented_ids(DOC.read_text(encoding="utf-8")))
    assert missing == []
