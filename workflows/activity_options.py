"""How long each kind of activity may take and how it is retried, named once.

Every activity call in the lifecycle takes one of these constants
(``workflow.ActivityConfig``), as the samples do, so a timeout is decided in one place
with the reason beside it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

REGISTRY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""Unlimited attempts: a database outage must delay a decision, never lose it."""

REGISTRY_WRITE = workflow.ActivityConfig(
    start_to_close_timeout=timedelta(seconds=30), retry_policy=REGISTRY_RETRY
)
"""A registry write is a few small statements; longer means the database is in trouble."""

LOCAL_REGISTRY_WRITE = workflow.LocalActivityConfig(
    start_to_close_timeout=timedelta(seconds=30), retry_policy=REGISTRY_RETRY
)
"""The same write run in the workflow's own task: no task of its own to schedule, queue
and report back, which is most of what a short write costs."""

STORE = workflow.ActivityConfig(
    start_to_close_timeout=timedelta(seconds=60), retry_policy=REGISTRY_RETRY
)
"""Storing re-reads and re-archives a bundle of at most a few MiB."""

EVALUATE = workflow.ActivityConfig(
    start_to_close_timeout=timedelta(minutes=5),
    # The activity heartbeats every 5 s; four missed beats mean its worker is gone, and
    # the evaluation is retried on another worker instead of after five minutes.
    heartbeat_timeout=timedelta(seconds=20),
    retry_policy=REGISTRY_RETRY,
)
"""The static eval bar takes well under a second; judging a probe's output as long."""

PROBE_DEADLINE = timedelta(minutes=30)
"""From asking for the probe to giving up on it, waiting for a probe worker included.

With no probe worker polling, the request would otherwise wait forever; past this the
evaluation records a blocking ``probe.failed`` saying the probe did not complete."""

PROBE = workflow.ActivityConfig(
    schedule_to_close_timeout=PROBE_DEADLINE,
    # One attempt: installing the server's pinned packages, then at most the policy's
    # two-minute probe timeout.
    start_to_close_timeout=timedelta(minutes=5),
    heartbeat_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=5),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        # A server that kills its probe worker three times is not given a fourth.
        maximum_attempts=3,
    ),
)
"""The live MCP probe, on a probe worker."""

BEHAVIOUR = workflow.ActivityConfig(
    # Past this (waiting for a probe worker included) the evaluation records
    # ``evals.not-run`` saying the run did not complete.
    schedule_to_close_timeout=timedelta(hours=3),
    # One attempt: at most the policy's timeout (2 h at most) and clean-up.
    start_to_close_timeout=timedelta(hours=2, minutes=5),
    heartbeat_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=5),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        # Each attempt spends model credit: one retry for a lost worker, no more.
        maximum_attempts=2,
    ),
)
"""The behavioural evals, on a probe worker."""

NOTICE = workflow.ActivityConfig(
    # Covers Slack's rate-limit backoff (Retry-After) inside one attempt.
    start_to_close_timeout=timedelta(seconds=60),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        maximum_attempts=10,
    ),
)
"""A notice or Slack message that cannot be delivered for ~10 minutes is given up: it
only shows the state, which the workflow, the registry and the Temporal UI hold anyway."""

PURGE = workflow.ActivityConfig(
    start_to_close_timeout=timedelta(seconds=30), retry_policy=REGISTRY_RETRY
)
"""One purge: a row lookup, a delete and an audit event."""

PROBE_QUEUE_SUFFIX = "-probe"
"""Probe workers poll the lifecycle's task queue name with this suffix."""


def options(
    config: workflow.ActivityConfig, summary: str, *, task_queue: str | None = None
) -> workflow.ActivityConfig:
    """``config`` for one call: with the summary the UI shows, and a queue when it differs."""
    call = config.copy()
    call["summary"] = summary
    if task_queue is not None:
        call["task_queue"] = task_queue
    return call


def local_options(
    config: workflow.LocalActivityConfig, summary: str
) -> workflow.LocalActivityConfig:
    """``config`` for one local activity call, with the summary the UI shows."""
    call = config.copy()
    call["summary"] = summary
    return call
