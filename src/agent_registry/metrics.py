"""Names of the registry's own metrics, exported next to the Temporal SDK's.

The worker records them through the Temporal runtime's meter, so when
``AGENT_REGISTRY_METRICS_ADDRESS`` is set they appear on the same Prometheus endpoint as
the SDK's ``temporal_*`` metrics. Every counter carries the asset ``kind``; the ones
recorded after an eval run also carry its risk ``tier``. The workflow's meter adds
``namespace``, ``task_queue`` and ``workflow_type``.

The names end in ``_total`` themselves: the runtime's Prometheus exporter adds no suffix.

``agentreg serve`` exports metrics of its own on its ``/metrics`` route
(:mod:`agent_registry.server_metrics`): what waits for a decision now, as gauges read
from the registry (:data:`SERVER_GAUGES`), the task queue's backlog and pollers as
Temporal's DescribeTaskQueue reports them (the SDK exports no backlog), and its HTTP
requests. Alerts and dashboard panels (``deploy/prometheus``, ``deploy/grafana``) use only
names defined here or by the SDK, which a test checks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counter:
    """A counter's name and its help text."""

    name: str
    description: str


SUBMISSIONS = Counter(
    "agent_registry_submissions_total", "Asset versions submitted (a lifecycle started)."
)
EVAL_FAILURES = Counter(
    "agent_registry_eval_failures_total",
    "Eval runs the bar blocked, at submission, revision or re-certification.",
)
APPROVALS = Counter("agent_registry_approvals_total", "Reviews that ended in approval.")
REJECTIONS = Counter("agent_registry_rejections_total", "Reviews that ended in rejection.")
CHANGES_REQUESTED = Counter(
    "agent_registry_changes_requested_total", "Reviews that ended asking for changes."
)
PUBLICATIONS = Counter("agent_registry_publications_total", "Asset versions published.")
DEPRECATIONS = Counter(
    "agent_registry_deprecations_total",
    "Published versions deprecated: on request, superseded, or lapsed.",
)
RETIREMENTS = Counter(
    "agent_registry_retirements_total", "Deprecated versions retired at their sunset."
)
RECERTIFICATION_LAPSES = Counter(
    "agent_registry_recertification_lapses_total",
    "Published versions deprecated because nobody attested within the grace period.",
)

VOTES = Counter(
    "agent_registry_votes_total",
    "Review votes recorded, by decision (approve, reject, request-changes).",
)
REVIEW_SLA_BREACHES = Counter(
    "agent_registry_review_sla_breaches_total",
    "Reviews still undecided when their SLA ran out (the reminder went out).",
)
EVAL_RUNS = Counter(
    "agent_registry_eval_runs_total",
    "Eval runs finished, passed or not, at submission, revision or re-certification.",
)
PROBE_FAILURES = Counter(
    "agent_registry_probe_failures_total",
    "Live MCP server probes that could not list the server's tools (a probe-failed finding).",
)

PROBE_FAILURE_CHECKS = frozenset({"probe.failed", "probe.timeout"})
"""The eval findings that mean the live probe itself failed (not what it found)."""

ALL_COUNTERS = (
    SUBMISSIONS,
    EVAL_FAILURES,
    APPROVALS,
    REJECTIONS,
    CHANGES_REQUESTED,
    PUBLICATIONS,
    DEPRECATIONS,
    RETIREMENTS,
    RECERTIFICATION_LAPSES,
    VOTES,
    REVIEW_SLA_BREACHES,
    EVAL_RUNS,
    PROBE_FAILURES,
)
"""Every counter the worker records (workflows and activities)."""


@dataclass(frozen=True)
class ServerMetric:
    """A metric ``agentreg serve`` exports: name, help text, type and label names."""

    name: str
    description: str
    type: str
    labels: tuple[str, ...] = ()


REVIEWS_PENDING = ServerMetric(
    "agent_registry_reviews_pending", "Versions waiting for review now.", "gauge"
)
REVIEWS_PAST_SLA = ServerMetric(
    "agent_registry_reviews_past_sla",
    "Versions waiting for review longer than the policy's review SLA.",
    "gauge",
)
RECERTIFICATIONS_DUE = ServerMetric(
    "agent_registry_recertifications_due",
    "Published versions due for re-certification within 30 days, overdue ones included.",
    "gauge",
)
RECERTIFICATIONS_OVERDUE = ServerMetric(
    "agent_registry_recertifications_overdue",
    "Published versions past their re-certification date.",
    "gauge",
)
AWAITING_SUNSET = ServerMetric(
    "agent_registry_deprecated_awaiting_sunset",
    "Deprecated versions not retired yet.",
    "gauge",
)
EVAL_FAILURES_THIS_WEEK = ServerMetric(
    "agent_registry_eval_failures_this_week",
    "Versions in EvalFailed whose lifecycle started in the last 7 days.",
    "gauge",
)
REGISTRY_UP = ServerMetric(
    "agent_registry_registry_up",
    "1 when the last scrape could read the registry, else 0.",
    "gauge",
)
TASK_QUEUE_BACKLOG = ServerMetric(
    "agent_registry_task_queue_backlog",
    "Tasks waiting in the task queue (Temporal's approximate backlog count).",
    "gauge",
    ("task_queue", "task_type"),
)
TASK_QUEUE_BACKLOG_AGE = ServerMetric(
    "agent_registry_task_queue_backlog_age_seconds",
    "How long the oldest waiting task has waited.",
    "gauge",
    ("task_queue", "task_type"),
)
TASK_QUEUE_POLLERS = ServerMetric(
    "agent_registry_task_queue_pollers",
    "Workers that polled the task queue recently (Temporal's poller list).",
    "gauge",
    ("task_queue", "task_type"),
)
TASK_QUEUE_UP = ServerMetric(
    "agent_registry_task_queue_up",
    "1 when the last DescribeTaskQueue call succeeded, else 0.",
    "gauge",
    ("task_queue",),
)
HTTP_REQUESTS = ServerMetric(
    "agent_registry_http_requests_total",
    "Requests the registry server answered, by route pattern, method and status.",
    "counter",
    ("route", "method", "status"),
)
HTTP_DURATION = ServerMetric(
    "agent_registry_http_request_duration_seconds",
    "Time to answer a request, by route pattern.",
    "histogram",
    ("route",),
)

SERVER_GAUGES = (
    REVIEWS_PENDING,
    REVIEWS_PAST_SLA,
    RECERTIFICATIONS_DUE,
    RECERTIFICATIONS_OVERDUE,
    AWAITING_SUNSET,
    EVAL_FAILURES_THIS_WEEK,
)
"""The governance gauges, read from the org report at each scrape."""

ALL_SERVER_METRICS = (
    *SERVER_GAUGES,
    REGISTRY_UP,
    TASK_QUEUE_BACKLOG,
    TASK_QUEUE_BACKLOG_AGE,
    TASK_QUEUE_POLLERS,
    TASK_QUEUE_UP,
    HTTP_REQUESTS,
    HTTP_DURATION,
)
