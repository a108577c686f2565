"""Worker entrypoint: builds dependencies from Settings and runs the lifecycle worker.

Run it as ``agentreg-worker`` (installed by the package) or ``python worker.py``.
``TEMPORAL_*`` variables say where Temporal is; ``AGENT_REGISTRY_*`` the rest.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.behaviour import BehaviourActivities, eval_client
from activities.bundle_purge import BundlePurge
from activities.check_pool import (
    DEFAULT_PROCESSES,
    close_shared_pools,
    detach_entry_script,
    shared_pool,
)
from activities.evaluation import EvalActivities
from activities.evaluator import Evaluator
from activities.life import LifeActivities
from activities.life_records import LifeRecords
from activities.mcp_import import McpImportActivities
from activities.mcp_importer import McpImporter
from activities.notices import NoticeActivities
from activities.probe import ProbeActivities
from activities.purge import PurgeActivities
from activities.registry import RegistryActivities
from activities.registry_writes import RegistryWrites
from activities.review_messages import ReviewMessageActivities
from activities.review_messenger import ReviewMessenger
from activities.slack_notices import SlackNotices
from activities.slack_posting import SlackPoster
from agent_registry.config import Settings
from agent_registry.hardening import forbid_same_user_inspection, forget_environment
from agent_registry.logs import configure_logging
from agent_registry.process_exit import exit_without_finalizing
from agent_registry.production_keys import missing_production_key
from agent_registry.registry.audit_chain import keyed_engine
from agent_registry.registry.audit_key import resolve_audit_key
from agent_registry.registry.db import make_engine
from agent_registry.signing.trust import registry_signer
from agent_registry.slack.client import make_web_client
from agent_registry.temporal import connect, metrics_runtime
from workflows.asset_lifecycle import AssetLifecycleWorkflow
from workflows.mcp_import import McpImportWorkflow

ACTIVITY_THREADS = 16
"""Activities are synchronous (database, CPU-bound evals); they run on this many threads."""

MAX_CACHED_WORKFLOWS = 1000
"""Lifecycles kept in memory between their workflow tasks (the sticky cache).

A published lifecycle sleeps for months between re-certifications, so nearly all of a
fleet is idle; holding them all would grow the worker with the catalog. Beyond this bound
the least recently used is evicted and, on its next task, replayed from its (short,
one-cycle) history. bench/idle_fleet.py measures the worker's memory with 10,000 idle.
"""

GRACEFUL_SHUTDOWN = timedelta(seconds=10)
"""Longer than any registry write; an eval cut short is retried elsewhere."""

logger = logging.getLogger("agent_registry.worker")


@contextmanager
def build_worker(client: Client, settings: Settings, *, engine: Engine) -> Iterator[Worker]:
    """Build the lifecycle worker with every activity bound to its dependency.

    Tests use this too, so the worker they run is the one that ships.

    Args:
        client: A connected client (pydantic data converter).
        settings: Task queue, policy path and bundle limits come from here.
        engine: The registry database.

    Yields:
        The worker, not yet running; its thread pool is shut down on exit.
    """
    limits = settings.bundle_limits
    registry = RegistryActivities(
        RegistryWrites(engine, limits=limits, signer=registry_signer(settings)), limits=limits
    )
    checks = shared_pool(
        DEFAULT_PROCESSES if settings.eval_processes is None else settings.eval_processes,
        log_format=settings.log_format,
    )
    evals = EvalActivities(
        Evaluator(
            engine,
            policy_path=settings.policy,
            limits=limits,
            cli_reviews=settings.cli_reviews_allowed,
            checks=checks,
        )
    )
    life = LifeActivities(LifeRecords(engine), policy_path=settings.policy)
    purge = PurgeActivities(BundlePurge(engine))
    # Without a bot token there is no Slack client: notices and review requests go to
    # the log, and reviews go through the CLI.
    web_client = make_web_client(settings)
    poster: SlackPoster | None = None
    slack_notices: SlackNotices | None = None
    if web_client is not None:
        poster = SlackPoster(web_client, engine)
        slack_notices = SlackNotices(
            poster=poster,
            web_client=web_client,
            policy_path=settings.policy,
            ui_url=settings.ui_url,
        )
    notices = NoticeActivities(slack=slack_notices)
    review_messages = ReviewMessageActivities(
        ReviewMessenger(
            poster=poster,
            engine=engine,
            policy_path=settings.policy,
            limits=limits,
            ui_url=settings.ui_url,
        )
    )
    mcp_import = McpImportActivities(McpImporter(client, settings, engine))
    with ThreadPoolExecutor(max_workers=ACTIVITY_THREADS) as executor:
        yield Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[AssetLifecycleWorkflow, McpImportWorkflow],
            activities=[
                registry.store_bundle,
                registry.record_stage,
                registry.record_decision,
                registry.publish_version,
                registry.publish_and_schedule,
                evals.evaluate_version,
                life.life_plan,
                life.record_recertification,
                life.deprecate_version,
                life.retire_version,
                life.supersede_predecessors,
                purge.purge_secret_bundle,
                notices.send_notice,
                review_messages.post_review_request,
                review_messages.update_review_message,
                mcp_import.plan_import,
                mcp_import.submit_pick,
            ],
            activity_executor=executor,
            max_concurrent_activities=ACTIVITY_THREADS,
            max_cached_workflows=MAX_CACHED_WORKFLOWS,
            # On shutdown, running activities get this long to finish before they are
            # cancelled (and retried by another worker).
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
            deployment_config=deployment_config(settings),
        )


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """Worker Versioning for a build that names itself; None leaves the worker unversioned.

    Lifecycles are pinned to the build they started on, so a deploy never replays a review
    or a re-certification on code that could decide differently; each published lifecycle
    asks to move to the deployment's current build when it continues as new, once per
    re-certification cycle. The old build keeps running until its pinned lifecycles end
    or move on (the Temporal UI's deployment page shows how many are left).
    """
    if settings.build_id is None:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(
            deployment_name=settings.deployment_name, build_id=settings.build_id
        ),
        use_worker_versioning=True,
        default_versioning_behavior=VersioningBehavior.PINNED,
    )


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then let in-flight activities finish.

    With ``metrics_address`` set, the worker runs on a Temporal runtime that serves
    Prometheus metrics there: the SDK's and the registry's own counters.
    """
    refusal = missing_production_key(settings, who="worker")
    if refusal is not None:
        raise SystemExit(refusal)
    try:
        audit_key = resolve_audit_key(settings.audit_key, settings.data_dir)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    engine = keyed_engine(make_engine(settings.resolved_database_url), audit_key)
    runtime = None
    if settings.metrics_address is not None:
        runtime = metrics_runtime(settings.metrics_address)
        logger.info("serving Prometheus metrics on http://%s/metrics", settings.metrics_address)
    client = await connect(runtime=runtime)
    forget_credentials()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        with build_worker(client, settings, engine=engine) as worker:
            async with worker:
                logger.info(
                    "worker polling task queue %s on %s",
                    settings.task_queue,
                    client.service_client.config.target_host,
                )
                await stop.wait()
                logger.info("shutting down: waiting for in-flight activities")
    finally:
        close_shared_pools()  # after the drain: the activities' threads waited on them
        engine.dispose()


def forget_credentials() -> None:
    """Remove the credential variables from this process's environment, once read.

    Every process the worker starts inherits its environment, and not all of them can
    be closed to the worker's user the way the worker is (multiprocessing's resource
    tracker, beside the eval bar's check processes, cannot): so once ``Settings`` and
    the Temporal client have what they need, nothing the worker starts is handed them.
    """
    headers = [name for name in os.environ if name.startswith("TEMPORAL_GRPC_META_")]
    forget_environment([*CREDENTIAL_VARIABLES, *headers])


PROBE_THREADS = 2
"""Probes at once on one probe worker: each is a sandboxed server plus its installs."""

CREDENTIAL_SETTINGS = (
    "database_url",
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "signing_key",
    "audit_key",
)
"""Settings a probe worker refuses to start with: it runs untrusted code, so it holds none."""

CREDENTIAL_VARIABLES = (
    *(f"AGENT_REGISTRY_{name.upper()}" for name in (*CREDENTIAL_SETTINGS, "model_api_key")),
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS_CLIENT_KEY_DATA",
    "TEMPORAL_CODEC_AUTH",
)
"""Where those credentials, and Temporal's (its key, a client key, a codec's auth), come
from in the environment; with every ``TEMPORAL_GRPC_META_*`` header, often an auth one."""


@contextmanager
def build_probe_worker(client: Client, settings: Settings) -> Iterator[Worker]:
    """Build a probe worker: the sandboxed live MCP probe and the behavioural evals.

    It polls ``settings.probe_task_queue`` and needs no database, no Slack and no
    registry: the bundle comes in the activity input, the findings go back in its result.
    Both run what a submitter wrote, which is why they live here and never on the
    lifecycle worker; the evals also need the model credential, held only here.
    """
    probes = ProbeActivities(
        policy_path=settings.policy,
        limits=settings.bundle_limits,
        cache_dir=settings.probe_cache_dir,
    )
    behaviour = BehaviourActivities(
        policy_path=settings.policy, limits=settings.bundle_limits, client=eval_client(settings)
    )
    with ThreadPoolExecutor(max_workers=PROBE_THREADS) as executor:
        yield Worker(
            client,
            task_queue=settings.probe_task_queue,
            activities=[probes.probe_mcp_server, behaviour.run_behaviour_evals],
            activity_executor=executor,
            max_concurrent_activities=PROBE_THREADS,
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )


async def run_probe_worker(settings: Settings) -> None:
    """Run a probe worker until SIGINT or SIGTERM.

    Raises:
        SystemExit: When a credential setting is present: a probe worker must not hold one.
    """
    held = [name for name in CREDENTIAL_SETTINGS if getattr(settings, name) is not None]
    if held:
        names = ", ".join(f"AGENT_REGISTRY_{name.upper()}" for name in held)
        raise SystemExit(f"a probe worker holds no credentials; unset {names}")
    client = await connect()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    with build_probe_worker(client, settings) as worker:
        async with worker:
            logger.info("probe worker polling task queue %s", settings.probe_task_queue)
            await stop.wait()
            logger.info("shutting down: waiting for in-flight probes")


def main() -> None:
    """Console entrypoint of ``agentreg-worker``; ``--probe`` runs a probe worker."""
    # Before anything else: the probe starts untrusted servers as our children.
    forbid_same_user_inspection()
    detach_entry_script()
    settings = Settings()
    configure_logging(settings.log_format)
    if "--probe" in sys.argv[1:]:
        asyncio.run(run_probe_worker(settings))
    else:
        asyncio.run(run_worker(settings))
    # Drained and closed: CPython's finalization could only crash now (see the module).
    exit_without_finalizing(0)


if __name__ == "__main__":
    main()
