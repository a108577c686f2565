"""``agentreg serve``'s own Prometheus metrics, at ``/metrics`` on the server's port.

The worker's metrics count what happened (submissions, votes, SLA breaches: see
:mod:`agent_registry.metrics`); a platform team also pages on what *is*: reviews waiting
past their SLA right now, re-certifications overdue, a task queue filling up with no
worker polling it. The server answers those:

- governance gauges, read from the org report at each scrape (the dashboard's numbers,
  and its shared report: :mod:`agent_registry.dashboard.shared`);
- the task queue's backlog, its age and its pollers, per task type, from Temporal's
  DescribeTaskQueue, polled in the background: the SDK exports schedule-to-start
  latency, but no backlog, and a worker that is down exports nothing at all;
- its own HTTP requests by route pattern (never the raw path, so a scan of made-up URLs
  cannot grow the series without bound).

Exposition is ``prometheus_client``'s, from a registry of this application's own (not the
process-global default), so two servers in one test process do not collide. Only counts
leave here: no ref, team or user name is a label.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from agent_registry import metrics
from agent_registry.catalog.models import OrgReport
from agent_registry.dashboard.shared import shared_report

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"

POLL_INTERVAL = timedelta(seconds=15)
"""How often the task queue is described: Prometheus' default scrape interval."""

DESCRIBE_TIMEOUT = timedelta(seconds=5)
"""One DescribeTaskQueue call; longer means Temporal is in trouble, and the gauge says so."""

TASK_TYPES = {
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route matched (a 404 or 405)."""


@dataclass(frozen=True)
class QueueStats:
    """One task type's state of a task queue, as DescribeTaskQueue reports it."""

    backlog: int
    backlog_age_seconds: float
    pollers: int


class ServerMetrics:
    """The server's metrics in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._gauges = {
            m.name: Gauge(m.name, m.description, registry=self.registry)
            for m in metrics.SERVER_GAUGES
        }
        self._registry_up = self._gauge(metrics.REGISTRY_UP)
        self._backlog = self._gauge(metrics.TASK_QUEUE_BACKLOG)
        self._backlog_age = self._gauge(metrics.TASK_QUEUE_BACKLOG_AGE)
        self._pollers = self._gauge(metrics.TASK_QUEUE_POLLERS)
        self._queue_up = self._gauge(metrics.TASK_QUEUE_UP)
        self.requests = Counter(
            metrics.HTTP_REQUESTS.name,
            metrics.HTTP_REQUESTS.description,
            metrics.HTTP_REQUESTS.labels,
            registry=self.registry,
        )
        self.durations = Histogram(
            metrics.HTTP_DURATION.name,
            metrics.HTTP_DURATION.description,
            metrics.HTTP_DURATION.labels,
            registry=self.registry,
        )

    def _gauge(self, metric: metrics.ServerMetric) -> Gauge:
        return Gauge(metric.name, metric.description, metric.labels, registry=self.registry)

    def observe_report(self, report: OrgReport) -> None:
        """Set the governance gauges from ``report``."""
        values = {
            metrics.REVIEWS_PENDING: len(report.pending_reviews),
            metrics.REVIEWS_PAST_SLA: sum(1 for r in report.pending_reviews if r.sla_breached),
            metrics.RECERTIFICATIONS_DUE: len(report.recertifications_due),
            metrics.RECERTIFICATIONS_OVERDUE: sum(
                1 for d in report.recertifications_due if d.overdue
            ),
            metrics.AWAITING_SUNSET: len(report.deprecations),
            metrics.EVAL_FAILURES_THIS_WEEK: len(report.eval_failures),
        }
        for metric, value in values.items():
            self._gauges[metric.name].set(value)
        self._registry_up.set(1)

    def registry_unreadable(self) -> None:
        """The registry could not be read: say so, and keep the last governance figures."""
        self._registry_up.set(0)

    def observe_queue(self, task_queue: str, stats: dict[str, QueueStats]) -> None:
        """Set the task queue's gauges, per task type."""
        for task_type, entry in stats.items():
            self._backlog.labels(task_queue, task_type).set(entry.backlog)
            self._backlog_age.labels(task_queue, task_type).set(entry.backlog_age_seconds)
            self._pollers.labels(task_queue, task_type).set(entry.pollers)
        self._queue_up.labels(task_queue).set(1)

    def queue_unreachable(self, task_queue: str) -> None:
        """Temporal could not be asked: the pollers are unknown, not zero."""
        self._queue_up.labels(task_queue).set(0)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


SERVER_METRICS = web.AppKey("server_metrics", ServerMetrics)


def add_routes(app: web.Application) -> None:
    """Serve ``/metrics`` and count every request the application answers."""
    app[SERVER_METRICS] = ServerMetrics()
    app.middlewares.append(_count_requests)
    app.router.add_get(METRICS_PATH, scrape)


async def scrape(request: web.Request) -> web.Response:
    """The metrics, with the governance gauges from a report at most seconds old."""
    server = request.app[SERVER_METRICS]
    try:
        report = await shared_report(request.app).get()
    except Exception:  # the gauge reports it; the scrape itself must still answer
        logger.exception("metrics: cannot read the registry")
        server.registry_unreadable()
    else:
        server.observe_report(report)
    body = await asyncio.to_thread(server.exposition)
    # The classic text format: what every Prometheus 2.x (Debian's, this deploy's) parses.
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


@web.middleware
async def _count_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    route = _route_label(request)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        server = request.app[SERVER_METRICS]
        server.requests.labels(route, request.method, str(status)).inc()
        server.durations.labels(route).observe(time.perf_counter() - started)


def _route_label(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED_ROUTE
    return resource.canonical


async def describe_task_queue(client: Client, task_queue: str) -> dict[str, QueueStats]:
    """The backlog and pollers of ``task_queue``'s workflow and activity tasks.

    Raises:
        temporalio.service.RPCError: Temporal refused or could not answer.
    """
    found: dict[str, QueueStats] = {}
    for name, task_type in TASK_TYPES.items():
        reply = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
                task_queue_type=task_type,
                report_stats=True,
            ),
            timeout=DESCRIBE_TIMEOUT,
        )
        found[name] = QueueStats(
            backlog=reply.stats.approximate_backlog_count,
            backlog_age_seconds=reply.stats.approximate_backlog_age.ToTimedelta().total_seconds(),
            pollers=len(reply.pollers),
        )
    return found


async def watch_task_queue(
    server: ServerMetrics,
    connect: Callable[[], Awaitable[Client]],
    *,
    task_queue: str,
    stop: asyncio.Event,
    interval: timedelta = POLL_INTERVAL,
) -> None:
    """Describe ``task_queue`` every ``interval`` until ``stop`` is set.

    Connects lazily and again after a failure, so a server started before Temporal (or
    outliving a Temporal restart) recovers by itself; while Temporal cannot be asked,
    ``agent_registry_task_queue_up`` is 0 and one warning is logged, not one per poll.
    """
    client: Client | None = None
    failing = False
    while not stop.is_set():
        try:
            if client is None:
                client = await connect()
            server.observe_queue(task_queue, await describe_task_queue(client, task_queue))
            if failing:
                logger.info("metrics: task queue %s can be described again", task_queue)
            failing = False
        except Exception as error:  # any failure is the same to a gauge: unknown
            server.queue_unreachable(task_queue)
            client = None
            if not failing:
                logger.warning(
                    "metrics: cannot describe task queue %s (%s); retrying every %d s",
                    task_queue,
                    type(error).__name__,
                    interval.total_seconds(),
                )
            failing = True
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval.total_seconds())
        except TimeoutError:
            continue
