"""Names of the registry's own metrics, exported next to the Temporal SDK's.

The worker records them through the Temporal runtime's meter, so when
``AGENT_REGISTRY_METRICS_ADDRESS`` is set they appear on the same Prometheus endpoint as
the SDK's ``temporal_*`` metrics. Every counter carries the asset ``kind``; the ones
recorded after an eval run also carry its risk ``tier``. The workflow's meter adds
``namespace``, ``task_queue`` and ``workflow_type``.

The names end in ``_total`` themselves: the runtime's Prometheus exporter adds no suffix.
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
)
