"""The eval bar's checks in processes of their own: same findings, and a dead child survived."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.testing import ActivityEnvironment

from activities import check_pool
from activities.check_pool import (
    CHECK_SECONDS_PER_MIB,
    CHECK_TIMEOUT,
    CheckPool,
    CheckProcessDiedError,
    CheckTimeoutError,
    close_shared_pools,
    parsed_for_checks,
    shared_pool,
)
from activities.evaluation import EvalActivities
from activities.evaluator import CHECK_ATTEMPTS, Evaluator
from activities.models import EvalOutcome, EvaluateInput, StoreBundleInput
from activities.registry import RegistryActivities
from activities.registry_writes import RegistryWrites
from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.assets.manifests import RegistryMetadata
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetRef
from agent_registry.evals.base import CHECK_CRASHED
from agent_registry.evals.runner import run_families
from agent_registry.hardening import inspection_forbidden
from agent_registry.vocabulary.findings import Finding, Severity

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LIMITS = BundleLimits()
REF = AssetRef.parse("skill/release-notes@1.0.0")
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


def test_a_killed_child_breaks_its_pool_and_the_next_check_runs_on_a_new_one() -> None:
    """A check in flight fails with the pool (retried by the activity); later ones run.

    Whether a check submitted right after the death fails or runs on the new pool
    depends on whether the executor has noticed the death yet, so this waits for it.
    """
    others = set(_children())  # the module's pool's
    checks = CheckPool(processes=1)
    try:
        before = _check(checks, "skills/release-notes")
        executor = checks._running()
        children = [pid for pid in _children() if pid not in others]
        assert children, "the pool started no process"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        _wait_gone(children)
        deadline = time.monotonic() + 10
        while not executor._broken and time.monotonic() < deadline:
            time.sleep(0.02)
        assert executor._broken, "the executor never noticed its child died"
        assert _check(checks, "skills/release-notes") == before
        assert checks._running() is not executor
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


def test_checks_that_run_too_long_are_stopped_and_free_the_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bundle that keeps a child busy for good must not keep the pool."""
    monkeypatch.setattr(check_pool, "CHECK_SECONDS_PER_MIB", 0.0)
    others = set(_children())
    checks = CheckPool(processes=1, timeout=0.001)  # no new child answers that fast
    try:
        with pytest.raises(CheckTimeoutError, match="did not finish within"):
            _check(checks, "skills/release-notes")
        stuck = [pid for pid in _children() if pid not in others]
        _wait_gone(stuck)  # stopped, not left running beside its replacement
        checks._timeout = 60.0  # the next bundle, on a fresh child, is checked in full
        assert _check(checks, "skills/release-notes") == _check(
            CheckPool(0), "skills/release-notes"
        )
    finally:
        checks.close()


def test_the_time_allowed_grows_with_the_bundle() -> None:
    checks = CheckPool(processes=1)
    assert checks.allowed_seconds(0) == CHECK_TIMEOUT
    assert checks.allowed_seconds(16 << 20) == CHECK_TIMEOUT + 16 * CHECK_SECONDS_PER_MIB


class _FailingChecks(CheckPool):
    """A pool whose checks fail on every bundle with ``error``."""

    def __init__(self, error: CheckProcessDiedError) -> None:
        super().__init__(1)
        self._error = error

    def check(self, asset: ParsedAsset, **_: object) -> list[Finding]:
        raise self._error


def _stored_version(engine: Engine) -> str:
    registry = RegistryActivities(RegistryWrites(engine, limits=LIMITS), limits=LIMITS)
    stored = ActivityEnvironment().run(
        registry.store_bundle,
        StoreBundleInput(
            ref=REF,
            metadata=RegistryMetadata(owner_team="developer-experience", version="1.0.0"),
            submitter="alice@example.com",
            actor="alice@example.com",
            archive=canonical_archive(
                load_path(EXAMPLES / "skills/release-notes", limits=LIMITS).bundle
            ),
            workflow_id=REF.workflow_id,
            event_key="wf/run/store",
        ),
    )
    return stored.content_hash


def _evaluate_on_attempt(engine: Engine, checks: CheckPool, attempt: int) -> EvalOutcome:
    evaluator = Evaluator(engine, policy_path=None, limits=LIMITS, checks=checks)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    request = EvaluateInput(ref=REF, content_hash=_stored_version(engine), run_key="wf/run/eval")
    return env.run(EvalActivities(evaluator).evaluate_version, request)


def test_a_bundle_whose_checks_keep_running_too_long_is_blocked_on_its_third_attempt(
    sqlite_engine: Engine,
) -> None:
    checks = _FailingChecks(CheckTimeoutError("the eval bar's checks did not finish within 61 s"))
    with pytest.raises(CheckTimeoutError):  # retryable: the worker may just have been busy
        _evaluate_on_attempt(sqlite_engine, checks, attempt=CHECK_ATTEMPTS - 1)
    outcome = _evaluate_on_attempt(sqlite_engine, checks, attempt=CHECK_ATTEMPTS)
    assert not outcome.summary.passed
    blocking = [f for f in outcome.summary.top_findings if f.severity is Severity.BLOCK]
    assert [f.check_id for f in blocking] == [CHECK_CRASHED]
    assert "did not finish within 61 s, again" in blocking[0].message


def test_a_dead_check_process_is_retried_on_any_attempt(sqlite_engine: Engine) -> None:
    """One death stops every check in flight: it says nothing about this bundle."""
    checks = _FailingChecks(CheckProcessDiedError("a check process died"))
    with pytest.raises(CheckProcessDiedError):
        _evaluate_on_attempt(sqlite_engine, checks, attempt=CHECK_ATTEMPTS + 5)


FORGETTING_WORKER = """
import os, sys
os.environ["AGENT_REGISTRY_SLACK_BOT_TOKEN"] = "xoxb-not-a-real-token"
os.environ["AGENT_REGISTRY_DATABASE_URL"] = "postgresql://registry:hunter2@db/registry"
os.environ["TEMPORAL_GRPC_META_AUTHORIZATION"] = "Bearer hunter2-as-a-header"
from worker import forget_credentials
forget_credentials()
from activities.check_pool import CheckPool
from tests.evals.test_check_pool import _check, _descendants
pool = CheckPool(1)
_check(pool, "skills/release-notes")
for pid in _descendants(os.getpid()):
    with open(f"/proc/{pid}/environ", "rb") as environ:
        held = environ.read()
    print(pid, b"xoxb-not-a-real-token" in held or b"hunter2" in held)
pool.close()
"""


def test_no_process_the_worker_starts_is_handed_its_credentials() -> None:
    """The resource tracker cannot be marked like the worker; it gets no secret to show."""
    result = subprocess.run(
        [sys.executable, "-c", FORGETTING_WORKER],
        capture_output=True,
        cwd=Path(__file__).resolve().parents[2],
        text=True,
        check=True,
        timeout=120,
    )
    lines = [line.split() for line in result.stdout.splitlines()]
    assert len(lines) >= 3, result.stdout  # the forkserver, its child, the tracker
    assert all(holds == "False" for _, holds in lines), result.stdout


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_check_processes_leave_the_drain_to_the_worker(signum: int) -> None:
    """Ctrl-C, or systemd's SIGTERM to the whole group, must not cut the drain's evals short."""
    others = set(_children())
    checks = CheckPool(processes=1)
    try:
        before = _check(checks, "skills/release-notes")
        children = [pid for pid in _children() if pid not in others]
        # The forkserver too, as a signal to the whole process group reaches it.
        servers = [pid for pid in _child_pids(os.getpid()) if _is_forkserver(pid)]
        executor = checks._running()
        for pid in [*children, *servers]:
            os.kill(pid, signum)
        time.sleep(0.2)
        assert _check(checks, "skills/release-notes") == before
        # The same pool: a check in flight would have finished, not failed with it.
        assert checks._running() is executor
    finally:
        checks.close()


def _is_forkserver(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"multiprocessing.forkserver" in cmdline.read()
    except FileNotFoundError:
        return False


ENTRY_SCRIPT = """
import os, sys
sys.path.insert(0, {repo!r})
from worker import main  # all that agentreg-worker's console script does before main()
if __name__ == "__main__":
    from activities.check_pool import CheckPool, detach_entry_script
    from tests.evals.test_check_pool import _check, _descendants
    if sys.argv[1] == "detached":
        detach_entry_script()  # what main() does first
    pool = CheckPool(1)
    _check(pool, "skills/release-notes")
    for pid in _descendants(os.getpid()):
        with open(f"/proc/{{pid}}/maps") as maps:
            print(pid, "/sqlalchemy/" in maps.read())
    pool.close()
"""


def _loads_the_worker(tmp_path: Path, mode: str) -> list[str]:
    """Whether each process the check pool started has the worker's imports mapped."""
    entry = tmp_path / "agentreg-worker"
    entry.write_text(ENTRY_SCRIPT.format(repo=str(Path(__file__).resolve().parents[2])))
    result = subprocess.run(
        [sys.executable, str(entry), mode],
        capture_output=True,
        cwd=tmp_path,
        text=True,
        check=True,
        timeout=120,
    )
    lines = [line.split() for line in result.stdout.splitlines()]
    assert len(lines) >= 3, result.stdout  # the forkserver, its child, the tracker
    return [loaded for _, loaded in lines]


def test_check_processes_do_not_load_the_worker_the_entry_script_imports(tmp_path: Path) -> None:
    """Python 3.11's forkserver children run the parent's entry script again before their
    first check: started as ``agentreg-worker``, each loaded the whole worker for nothing."""
    assert "True" in _loads_the_worker(tmp_path, "as-started")  # what the children would do
    assert set(_loads_the_worker(tmp_path, "detached")) == {"False"}
