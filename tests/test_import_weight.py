"""Workflow code and the activity definitions it calls import nothing heavy.

The workflow sandbox loads every workflow module, and what it imports, for each
workflow it runs; the modules passed through are loaded once, but still in the worker
that replays histories and in every process that only wants the wire models. A database
driver, a Slack or HTTP client there costs memory and start-up time for nothing, and
invites I/O into code that must stay deterministic. So the I/O libraries belong to the
collaborators ``worker.py`` builds and injects, never to a module a workflow imports.

Each check runs in a fresh interpreter: this test process has long since loaded them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("sqlalchemy", "sqlmodel", "slack_sdk", "slack_bolt", "aiohttp")
"""The I/O libraries no workflow-side import may load."""

PARSERS_AND_CRYPTO = ("cryptography", "securesystemslib", "markdown_it", "bashlex", "mcp")
"""Also kept out of the activity definitions: the eval bar's parsers, signing, the MCP SDK."""

ACTIVITY_MODULES = (
    "activities.models",
    "activities.registry",
    "activities.evaluation",
    "activities.life",
    "activities.purge",
    "activities.notices",
    "activities.review_messages",
    "activities.probe",
    "activities.behaviour",
    "activities.mcp_import",
)
"""Every module a workflow imports from ``activities/``: the models, and the activity
classes it calls by method reference."""

_PROBE = """
import importlib, json, sys

heavy = sys.argv[1].split(",")
culprits = {}
for name in sys.argv[2:]:
    importlib.import_module(name)
    for package in heavy:
        if package in sys.modules and package not in culprits:
            culprits[package] = name
print(json.dumps(culprits))
"""


def _workflow_modules() -> list[str]:
    """``workflows`` and every module under it, found on disk (importing would load them)."""
    found = []
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(found)


def _heavy_imports(modules: list[str], heavy: tuple[str, ...]) -> dict[str, str]:
    """Import ``modules`` in order in a fresh interpreter.

    Returns:
        Each package of ``heavy`` that got loaded, with the first module that loaded it.
    """
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(heavy), *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    culprits: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return culprits


def _describe(culprits: dict[str, str]) -> str:
    return "; ".join(
        f"{package} (first loaded by {module})"
        for module, package in sorted((module, package) for package, module in culprits.items())
    )


def test_activity_definitions_and_models_are_light() -> None:
    culprits = _heavy_imports(list(ACTIVITY_MODULES), HEAVY + PARSERS_AND_CRYPTO)
    assert not culprits, f"heavy imports in activity definitions: {_describe(culprits)}"


def test_workflows_import_nothing_heavy() -> None:
    modules = _workflow_modules()
    assert {"workflows", "workflows.asset_lifecycle"} <= set(modules)
    culprits = _heavy_imports([*modules, *ACTIVITY_MODULES], HEAVY)
    assert not culprits, f"heavy imports in workflow code: {_describe(culprits)}"
