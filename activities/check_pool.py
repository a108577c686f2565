"""The eval bar's check families, run in processes of their own beside the worker.

The families are pure CPU (the Markdown parser, the secret rules, the intent checks'
shell and Python parsers, the decoders) and were the largest share of a busy worker's
time under its one GIL: while twenty submissions were checked at once, the threads
holding the registry's write lock got a twentieth of the interpreter each, so every
write took several times longer and every lifecycle waited on them
(docs/performance.md, time to reviewer). In processes, the checks use the machine's
other cores, queue first in, first out (the first submission of a burst is not held
back by the last), and leave the worker's interpreter to its workflow tasks and writes.

The children are forked from multiprocessing's forkserver, which has imported the check
modules once, so a new child costs a fork rather than an interpreter start; they get
the archive's bytes and parse it themselves, so nothing but bytes and findings crosses
the pipe. A child that dies (killed for memory, say) breaks the pool: the pool is
replaced and the activity fails with a retryable error, where the same death in a
thread would have taken the whole worker down.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import parse_asset
from agent_registry.assets.manifests import FalsePositiveMark
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.base import unfinished_finding
from agent_registry.evals.runner import run_families
from agent_registry.vocabulary.findings import Finding

_log = logging.getLogger(__name__)

DEFAULT_PROCESSES = min(2, os.cpu_count() or 1)
"""Up to two: each child costs about 100 MB, as it imports the worker's main script again
(multiprocessing's rule for spawned children, which the forkserver cannot spare it on
Python 3.11), and beyond two a worker's own registry writes are the bound."""


CHECK_TIMEOUT = 60.0
"""Seconds a child may spend on one bundle: the bar takes well under one on real assets
(docs/performance.md), and the evaluate activity's own limit is five minutes."""


class CheckProcessDiedError(RuntimeError):
    """A check process died mid-run; the pool was replaced and the activity may retry."""


def parsed_for_checks(
    archive: bytes,
    kind: AssetKind,
    limits: BundleLimits,
    false_positives: list[FalsePositiveMark] | None,
) -> ParsedAsset:
    """The asset as the eval bar reads it: the stored archive, with the marks in force."""
    asset = parse_asset(bundle_from_archive(archive, limits=limits), kind)
    if false_positives is not None:
        asset.registry_metadata = asset.registry_metadata.model_copy(
            update={"false_positives": false_positives}
        )
    return asset


def check_archive(
    archive: bytes,
    kind: AssetKind,
    limits: BundleLimits,
    false_positives: list[FalsePositiveMark] | None,
) -> list[Finding]:
    """The check families' findings for a stored archive (what a child process runs)."""
    return run_families(parsed_for_checks(archive, kind, limits, false_positives))


class CheckPool:
    """Runs :func:`check_archive` in up to ``processes`` children; 0 runs it in the caller.

    The pool starts on first use, so a worker that evaluates nothing starts no process.
    A child that spends more than ``timeout`` seconds on one bundle is stopped, and the
    bundle gets a blocking finding saying it was not fully evaluated; in the caller's
    thread (``processes`` 0) nothing can stop a check, which is one reason not to.
    """

    def __init__(
        self, processes: int = DEFAULT_PROCESSES, *, timeout: float = CHECK_TIMEOUT
    ) -> None:
        if processes < 0:
            raise ValueError(f"eval processes must be 0 or more, not {processes}")
        self._processes = processes
        self._timeout = timeout
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    def check(
        self,
        asset: ParsedAsset,
        *,
        archive: bytes,
        limits: BundleLimits,
        false_positives: list[FalsePositiveMark] | None,
    ) -> list[Finding]:
        """The check families' findings for ``asset``, parsed from ``archive``.

        Without processes the families run on ``asset`` here; otherwise a child parses
        ``archive`` again (bytes cross the pipe faster than a parsed asset) the same way.

        Raises:
            CheckProcessDiedError: The child died before answering.
        """
        if self._processes == 0:
            return run_families(asset)
        executor = self._running()
        try:
            future = executor.submit(check_archive, archive, asset.kind, limits, false_positives)
            return future.result(timeout=self._timeout)
        except BrokenProcessPool:
            self._replace(executor)
            raise CheckProcessDiedError(
                "a check process died before finishing this bundle; the pool was restarted"
            ) from None
        except TimeoutError:
            # A running task cannot be cancelled: its child is stopped, and the checks
            # other children were running fail as a dead child's do, to be retried.
            self._replace(executor, kill=True)
            _log.warning(
                "the checks of %s ran past %g s; their process was stopped",
                asset.kind.value,
                self._timeout,
            )
            return [unfinished_finding(self._timeout)]

    def close(self) -> None:
        """Stop the children once the checks in flight are done."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the check pool is closed")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self._processes,
                    mp_context=_forkserver(),
                    initializer=exit_with,
                    initargs=(os.getpid(),),
                )
            return self._executor

    def _replace(self, broken: ProcessPoolExecutor, *, kill: bool = False) -> None:
        """Drop a broken (or, with ``kill``, stuck) executor; the next check starts anew."""
        with self._lock:
            if self._executor is broken:
                self._executor = None
        if kill:
            # ProcessPoolExecutor has no public way to stop a running task (3.14 adds
            # terminate_workers); its process table is the only handle on the children.
            for process in list(broken._processes.values()):
                process.kill()
        else:
            _log.warning("a check process died; starting a new pool")
        broken.shutdown(wait=False, cancel_futures=True)


def exit_with(worker: int) -> None:
    """In a child: leave as soon as the worker process ``worker`` is gone, however it went.

    A child's parent is the forkserver, not the worker, and it waits on its task queue,
    whose writing end it holds itself; it also holds the forkserver's liveness pipe,
    so neither would notice a worker killed with SIGKILL (or by the OOM killer), and
    both would stay for good, the child with its ~100 MB. A pidfd becomes readable when
    the process it names exits, whoever its parent is.
    """
    try:
        pidfd = os.pidfd_open(worker)
    except ProcessLookupError:
        os._exit(0)

    def wait_for_worker() -> None:
        select.select([pidfd], [], [])
        os._exit(0)

    threading.Thread(target=wait_for_worker, name="exit-with-worker", daemon=True).start()


_SHARED: dict[int, CheckPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(processes: int) -> CheckPool:
    """This process's pool of ``processes`` children, the same for every worker built here.

    A child starts as multiprocessing starts one: forked from the forkserver, then it
    imports the parent's ``__main__`` module again (a whole test runner, a benchmark
    with the worker in it), which costs more than the checks of many bundles. So the
    children outlive the worker that started them and serve the next one built in the
    same process; :func:`close_shared_pools` stops them before the process exits.
    """
    with _SHARED_LOCK:
        pool = _SHARED.get(processes)
        if pool is None:
            pool = _SHARED[processes] = CheckPool(processes)
        return pool


def close_shared_pools() -> None:
    """Stop every shared pool's children; call before leaving without finalization.

    Left running, a child would wait on its task queue for good: it holds that queue's
    writing end too, so it never reads end-of-file when the worker is gone.
    """
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for pool in pools:
        pool.close()


def _forkserver() -> multiprocessing.context.ForkServerContext:
    """The forkserver context, its server preloaded with this module's imports.

    Not ``fork``: the worker has threads (the SDK's, the activities'), and a fork of a
    threaded process can inherit a lock another thread held. The forkserver is one
    single-threaded process per worker; the preload list is process-wide, and setting
    it again before the server starts is harmless.
    """
    context = multiprocessing.get_context("forkserver")
    # By name: imported here, it would mark this process (a test runner, say) too.
    context.set_forkserver_preload(["activities.check_server_hardening", __name__])
    return context
