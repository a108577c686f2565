"""The eval bar's checks in processes of their own: same findings, and a dead child survived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from activities.check_pool import (
    CheckPool,
    CheckProcessDiedError,
    close_shared_pools,
    parsed_for_checks,
    shared_pool,
)
from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.evals.base import CHECK_CRASHED
from agent_registry.evals.runner import run_families
from agent_registry.hardening import inspection_forbidden
from agent_registry.vocabulary.findings import Severity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIMITS = BundleLimits()
ASSETS = [
    "skills/release-notes",
    "skills/pdf-tables",
    "subagents/code-reviewer.md",
    "mcp-servers/time",
    "failing/leaky-deploy-helper",
    "failing/tickets-admin",
    "failing/unbounded-fixer.md",
]
"""Every kind, passing and failing (a secret, a broad scope, an injection)."""


@pytest.fixture(scope="module")
def pool() -> Iterator[CheckPool]:
    checks = CheckPool(processes=2)
    yield checks
    checks.close()


def _stored(name: str) -> tuple[ParsedAsset, bytes]:
    """The asset as the evaluator holds it: parsed back from its canonical archive."""
    loaded = load_path(EXAMPLES / name, limits=LIMITS)
    archive = canonical_archive(loaded.bundle)
    return parsed_for_checks(archive, loaded.kind, LIMITS, None), archive


def _check(checks: CheckPool, name: str) -> list[dict[str, object]]:
    asset, archive = _stored(name)
    found = checks.check(asset, archive=archive, limits=LIMITS, false_positives=None)
    return [finding.model_dump() for finding in found]


@pytest.mark.parametrize("name", ASSETS)
def test_a_child_finds_what_the_worker_thread_finds(pool: CheckPool, name: str) -> None:
    asset, _ = _stored(name)
    in_thread = [finding.model_dump() for finding in run_families(asset)]
    assert _check(pool, name) == in_thread
    assert _check(CheckPool(processes=0), name) == in_thread


def test_the_failing_examples_are_still_caught_in_a_child(pool: CheckPool) -> None:
    found = _check(pool, "failing/leaky-deploy-helper")
    assert any(str(finding["check_id"]).startswith("secrets.") for finding in found)


def test_a_killed_child_fails_one_check_and_the_next_one_runs() -> None:
    others = set(_children())  # the module's pool's
    checks = CheckPool(processes=1)
    try:
        before = _check(checks, "skills/release-notes")
        children = [pid for pid in _children() if pid not in others]
        assert children, "the pool started no process"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        _wait_gone(children)
        with pytest.raises(CheckProcessDiedError, match="check process died"):
            _check(checks, "skills/release-notes")
        assert _check(checks, "skills/release-notes") == before
    finally:
        checks.close()


def test_closing_stops_the_children() -> None:
    others = set(_children())  # the module's pool's
    checks = CheckPool(processes=2)
    _check(checks, "skills/release-notes")
    children = [pid for pid in _children() if pid not in others]
    assert children
    checks.close()
    _wait_gone(children)
    with pytest.raises(RuntimeError, match="closed"):
        _check(checks, "skills/release-notes")


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        CheckPool(processes=-1)


def _children() -> list[int]:
    """This process's pool children: forked by the forkserver, so its grandchildren."""
    found: list[int] = []
    for server in _child_pids(os.getpid()):
        found.extend(_child_pids(server))
    return found


def _child_pids(pid: int) -> list[int]:
    pids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as listing:
                pids.extend(int(child) for child in listing.read().split())
        except FileNotFoundError:
            continue
    return pids


def _wait_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not any(os.path.exists(f"/proc/{pid}") and not _zombie(pid) for pid in pids):
            return
        time.sleep(0.02)
    raise AssertionError(f"processes {pids} still run")


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return False


def test_workers_built_in_one_process_share_its_children_until_closed() -> None:
    others = set(_children())  # the module's pool's
    first = shared_pool(1)
    assert shared_pool(1) is first
    _check(first, "skills/release-notes")
    children = [pid for pid in _children() if pid not in others]
    assert children
    close_shared_pools()
    _wait_gone(children)
    again = shared_pool(1)
    assert again is not first
    assert _check(again, "skills/release-notes") == _check(CheckPool(0), "skills/release-notes")
    close_shared_pools()


KILLED_WORKER = """
import os, sys, time
from activities.check_pool import CheckPool
from tests.evals.test_check_pool import _check
pool = CheckPool(2)
_check(pool, "skills/release-notes")
print(os.getpid(), flush=True)
time.sleep(120)
"""


def test_a_worker_killed_outright_leaves_no_check_process_behind() -> None:
    """SIGKILL runs no clean-up: the children and the forkserver must notice by themselves."""
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == str(worker.pid)
        helpers = _descendants(worker.pid)
        assert len(helpers) >= 3, helpers  # the forkserver, its children, the tracker
    finally:
        worker.kill()
        worker.wait()
    _wait_gone(helpers)


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in _child_pids(pending.pop()):
            found.append(child)
            pending.append(child)
    return found


def test_check_processes_cannot_be_inspected_by_the_workers_user(pool: CheckPool) -> None:
    """Like the worker: their environment holds its credentials (docs/security.md)."""
    _check(pool, "skills/release-notes")
    executor = pool._running()  # asking a child directly
    assert executor.submit(inspection_forbidden).result() is True
    assert inspection_forbidden() is False  # the test runner itself is left as it was


def test_checks_that_run_too_long_block_the_asset_and_free_the_pool() -> None:
    """A bundle that keeps a child busy for good must not keep the submission or the pool."""
    others = set(_children())
    checks = CheckPool(processes=1, timeout=0.001)  # no child answers that fast
    try:
        found = _check(checks, "skills/release-notes")
        assert [(f["check_id"], f["severity"]) for f in found] == [(CHECK_CRASHED, Severity.BLOCK)]
        assert "did not finish within 0.001 s" in str(found[0]["message"])
        stuck = [pid for pid in _children() if pid not in others]
        _wait_gone(stuck)  # stopped, not left running beside its replacement
        checks._timeout = 60.0  # the next bundle, on a fresh child, is checked in full
        assert _check(checks, "skills/release-notes") == _check(
            CheckPool(0), "skills/release-notes"
        )
    finally:
        checks.close()
