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
import signal
import sys
import threading
import time
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from agent_registry.assets.archive import bundle_from_archive
from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import parse_asset
from agent_registry.assets.manifests import FalsePositiveMark
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.runner import run_families
from agent_registry.logs import configure_logging
from agent_registry.vocabulary.findings import Finding

_log = logging.getLogger(__name__)

DEFAULT_PROCESSES = min(2, os.cpu_count() or 1)
"""Up to two: each child costs about 100 MB, as it imports the worker's main script again
(multiprocessing's rule for spawned children, which the forkserver cannot spare it on
Python 3.11), and beyond two a worker's own registry writes are the bound."""


CHECK_TIMEOUT = 60.0
"""Seconds a child may spend on a bundle of up to a MiB, from its submission: the bar takes
well under one on real assets (docs/performance.md)."""

CHECK_SECONDS_PER_MIB = 10.0
"""Added per MiB of archive: plain Markdown is checked at about 5 s per MiB."""

CHECK_CEILING = 240.0
"""The most any bundle waits, queue included: under the evaluate activity's five-minute
start-to-close timeout, so the check fails before Temporal gives up on the attempt."""


class CheckProcessDiedError(RuntimeError):
    """A check process died mid-run, or was stopped for running too long.

    The pool was replaced; the caller may try again, and decides when a bundle that
    keeps doing this has been tried enough (``activities.evaluator``).
    """


class CheckTimeoutError(CheckProcessDiedError):
    """The checks of one bundle ran past their time; their process was stopped."""


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
    A bundle whose checks run past their time (``timeout`` plus
    :data:`CHECK_SECONDS_PER_MIB`, counted from submission and stretched by the checks
    queued ahead of it) has its process stopped; in the caller's thread (``processes``
    0) nothing can stop a check, which is one reason not to run them there.
    """

    def __init__(
        self,
        processes: int = DEFAULT_PROCESSES,
        *,
        timeout: float = CHECK_TIMEOUT,
        log_format: str = "text",
    ) -> None:
        if processes < 0:
            raise ValueError(f"eval processes must be 0 or more, not {processes}")
        self._processes = processes
        self._timeout = timeout
        self._log_format = log_format
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._queued = 0
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
        with self._lock:
            ahead = self._queued
            self._queued += 1
        # Each child takes the queue in turn, so a bundle waits about its share of the
        # checks ahead of it before its own start.
        allowed = min(
            CHECK_CEILING,
            self.allowed_seconds(len(archive)) * (1 + ahead // self._processes),
        )
        executor = None
        try:
            executor, future = self._submit(archive, asset.kind, limits, false_positives)
            return future.result(timeout=allowed)
        except (BrokenProcessPool, CancelledError):
            # Cancelled: queued behind a check whose pool was stopped for running long.
            if executor is not None:
                _log.warning("a check process died; starting a new pool")
                self._replace(executor)
            raise CheckProcessDiedError(
                "a check process died or was stopped while this bundle was being checked; "
                "the pool was restarted and the checks in flight fail with it"
            ) from None
        except TimeoutError:
            assert executor is not None  # result() is the only call that times out
            # A running task cannot be cancelled: the children are stopped, and the checks
            # the others were running fail as a dead child's do, to be tried again.
            self._replace(executor)
            _log.warning(
                "the checks of a %s bundle ran past %.0f s; the check processes were stopped",
                asset.kind.value,
                allowed,
            )
            raise CheckTimeoutError(
                f"the eval bar's checks did not finish within {allowed:.0f} s"
            ) from None
        finally:
            with self._lock:
                self._queued -= 1

    def _submit(
        self,
        archive: bytes,
        kind: AssetKind,
        limits: BundleLimits,
        false_positives: list[FalsePositiveMark] | None,
    ) -> tuple[ProcessPoolExecutor, Future[list[Finding]]]:
        """Submit to the running executor; once more to its successor if it was just replaced."""
        for _ in range(2):
            executor = self._running()
            try:
                return executor, executor.submit(
                    check_archive, archive, kind, limits, false_positives
                )
            except (RuntimeError, BrokenProcessPool):
                # Shut down or broken by another caller between _running() and submit.
                self._replace(executor)
        raise CheckProcessDiedError("the check processes could not be started")

    def allowed_seconds(self, archive_bytes: int) -> float:
        """How long one bundle of this size may take once a child has it."""
        return self._timeout + CHECK_SECONDS_PER_MIB * archive_bytes / (1 << 20)

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
                    initializer=prepare_child,
                    initargs=(os.getpid(), self._log_format),
                )
            return self._executor

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """Drop a broken or stuck executor and kill its children; the next check starts anew.

        Killed, not left to the executor: it stops the rest of a broken pool with
        SIGTERM, which they ignore (:func:`prepare_child`), so a child still busy on a
        check that never ends would otherwise outlive its pool.
        """
        with self._lock:
            if self._executor is not broken:
                return  # another caller saw it first and replaced it
            self._executor = None
            # ProcessPoolExecutor has no public way to stop a running task (3.14 adds
            # terminate_workers); its process table is the only handle on the children,
            # and shutdown() clears it, so it is read here, before anyone shuts it down.
            children = list((broken._processes or {}).values())
        for child in children:
            child.kill()
        broken.shutdown(wait=False, cancel_futures=True)


def prepare_child(worker: int, log_format: str) -> None:
    """In a new child: log as the worker does, ignore its signals, and leave with it."""
    configure_logging("json" if log_format == "json" else "text")
    # Ctrl-C in a terminal and a SIGTERM to the whole group (systemd's default) reach the
    # children too; the worker drains and then closes the pool, so they must not stop
    # before it, in the middle of the checks the drain waits for.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    exit_with(worker)


def exit_with(worker: int) -> None:
    """In a child: leave as soon as the worker process ``worker`` is gone, however it went.

    A child's parent is the forkserver, not the worker, and it waits on its task queue,
    whose writing end it holds itself; it also holds the forkserver's liveness pipe,
    so neither would notice a worker killed with SIGKILL (or by the OOM killer), and
    both would stay for good, the child with its ~100 MB. A pidfd becomes readable when
    the process it names exits, whoever its parent is; where pidfds are not available
    (Linux before 5.3, some sandboxes), the child looks for the worker every second.
    """
    try:
        pidfd = os.pidfd_open(worker)
    except ProcessLookupError:
        os._exit(0)
    except OSError:
        threading.Thread(
            target=_poll_for, args=(worker,), name="exit-with-worker", daemon=True
        ).start()
        return

    def wait_for_worker() -> None:
        select.select([pidfd], [], [])
        os._exit(0)

    threading.Thread(target=wait_for_worker, name="exit-with-worker", daemon=True).start()


def _poll_for(worker: int) -> None:
    while True:
        time.sleep(1)
        try:
            os.kill(worker, 0)
        except (ProcessLookupError, PermissionError):  # gone, or its pid another user's
            os._exit(0)


_SHARED: dict[int, CheckPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(processes: int, *, log_format: str = "text") -> CheckPool:
    """This process's pool of ``processes`` children, the same for every worker built here.

    A child starts as multiprocessing starts one: forked from the forkserver, then it
    imports the parent's ``__main__`` module again (a whole test runner, a benchmark
    with the worker in it; not ``agentreg-worker``, see :func:`detach_entry_script`),
    which costs more than the checks of many bundles. So the
    children outlive the worker that started them and serve the next one built in the
    same process; :func:`close_shared_pools` stops them before the process exits.
    """
    with _SHARED_LOCK:
        pool = _SHARED.get(processes)
        if pool is None:
            pool = _SHARED[processes] = CheckPool(processes, log_format=log_format)
        return pool


def detach_entry_script() -> None:
    """Keep the check processes from running this process's entry script again.

    Python 3.11's forkserver children run the parent's ``__main__`` again, by its path or
    module name (``multiprocessing.spawn.prepare``), before their first check. Started as
    ``agentreg-worker``, that entry is a wrapper that imports ``worker``, so each check
    process loaded the worker's whole import graph (SQLAlchemy, Slack, aiohttp, the SDK's
    worker: about 75 MB of its own) and used none of it: a check is a function of this
    module, which the forkserver has preloaded. With no path or name to run, the children
    skip that step. Only the process's entry point may call this, before the first pool
    starts: it leaves ``__main__`` without a ``__file__`` or ``__spec__``, as an
    interactive session's is.
    """
    main = sys.modules.get("__main__")
    if main is None:
        return
    main.__dict__.pop("__file__", None)
    main.__spec__ = None


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
