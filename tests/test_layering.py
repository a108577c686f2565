"""The import-layering contracts in pyproject.toml hold, and would catch a wrong import.

``make lint`` runs ``lint-imports`` too; here the contracts also run with the tests, and
a copy of the sources with one import that goes up the layers shows the check fails
rather than passing whatever the code does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))

KEPT_CONTRACTS = (
    "processes",
    "worker-on-top",
    "domain-layers",
    "no-cycles-inside-packages",
    "workflows-light",
)
"""Every contract in pyproject.toml."""

pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter not installed")


def _lint(
    cwd: Path, *contracts: str, pythonpath: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    arguments = [str(LINT_IMPORTS), "--no-cache"]
    for contract in contracts:
        arguments += ["--contract", contract]
    return subprocess.run(
        arguments, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_sources_keep_the_layering_contracts() -> None:
    result = _lint(ROOT, *KEPT_CONTRACTS)

    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_up_the_layers_breaks_the_contract(tmp_path: Path) -> None:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "migrations")
    shutil.copytree(
        ROOT / "src" / "agent_registry", tmp_path / "src" / "agent_registry", ignore=skip
    )
    for package in ("workflows", "activities"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    leaf = tmp_path / "src" / "agent_registry" / "vocabulary" / "findings.py"
    leaf.write_text(leaf.read_text() + "\nfrom agent_registry.registry import db  # noqa\n")
    activity = tmp_path / "activities" / "models.py"
    activity.write_text(activity.read_text() + "\nimport worker  # noqa\n")

    result = _lint(
        tmp_path,
        "domain-layers",
        "worker-on-top",
        pythonpath=f"{tmp_path / 'src'}{os.pathsep}{tmp_path}",
    )

    assert result.returncode != 0
    assert "agent_registry.vocabulary.findings -> agent_registry.registry.db" in result.stdout
    assert "activities.models -> worker" in result.stdout
