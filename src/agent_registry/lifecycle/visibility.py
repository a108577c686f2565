"""The platform team's views into Temporal: visibility queries and Web UI links.

The dashboard's governance sections, ``agentreg report`` and docs/operations.md all show
the same five sets of lifecycles; this module is the one place that says which
visibility query selects each set, which search attributes to show as its columns, and
how the Temporal Web UI spells a link to a workflow or to a filtered workflow list
(``/namespaces/<ns>/workflows?query=<url-encoded query>``, the UI's own
``routeForWorkflowsWithQuery``). Each query is the dashboard section's rule restated over
the search attributes the lifecycle workflow upserts (:mod:`agent_registry.temporal`), so
a click from a section lands on the same set in the UI.

Queries are built only from our own constants and timestamps: nothing a submitter
typed reaches them, so there is nothing to escape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from temporalio.envconfig import ClientConfig

from agent_registry.lifecycle.contract import LIFECYCLE_WORKFLOW
from agent_registry.lifecycle.stages import Stage
from agent_registry.temporal import (
    ASSET_KIND,
    ASSET_NAME,
    ASSET_VERSION,
    LIFECYCLE_STAGE,
    OWNER_TEAM,
    RECERTIFY_BY,
    REVIEW_DEADLINE,
    RISK_TIER,
    workflow_ui_url,
)

DEFAULT_NAMESPACE = "default"

RECERTIFICATION_HORIZON = timedelta(days=30)
"""How far ahead the re-certification view looks (the dashboard lists the same)."""

EVAL_FAILURE_WINDOW = timedelta(days=7)
""""This week": lifecycles started within this long whose eval failed."""

PENDING_REVIEWS = "pending-reviews"
PAST_SLA = "past-sla"
RECERTIFICATIONS_DUE = "recertifications-due"
AWAITING_SUNSET = "awaiting-sunset"
EVAL_FAILURES = "eval-failures"

ALL_LIFECYCLES = f'WorkflowType="{LIFECYCLE_WORKFLOW}"'
"""Every asset version's lifecycle, whatever its stage."""

_IDENTITY = (ASSET_KIND.name, ASSET_NAME.name, ASSET_VERSION.name, OWNER_TEAM.name)


@dataclass(frozen=True)
class View:
    """One saved view: a named visibility query and the columns to show with it.

    Attributes:
        key: A stable identifier (the dashboard's ``data-view`` attribute).
        title: What the view is called, in the dashboard and the UI's saved views.
        description: Which lifecycles it lists, in one sentence.
        query: The Temporal visibility (list filter) query.
        columns: The search attributes to add as columns in the Temporal UI.
    """

    key: str
    title: str
    description: str
    query: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class TemporalConsole:
    """Where the Temporal Web UI is and which namespace the registry runs in.

    Attributes:
        ui_url: The UI's base URL (``AGENT_REGISTRY_UI_URL``).
        namespace: The Temporal namespace (``TEMPORAL_NAMESPACE`` or the CLI profile's).
    """

    ui_url: str
    namespace: str = DEFAULT_NAMESPACE

    def workflow(self, workflow_id: str) -> str:
        """The UI page of a workflow (its latest run)."""
        return workflow_ui_url(
            self.ui_url, namespace=self.namespace, workflow_id=workflow_id, run_id=None
        )

    def workflow_list(self, query: str) -> str:
        """The UI's workflow list filtered by ``query``."""
        base = self.ui_url.rstrip("/")
        namespace = quote(self.namespace, safe="")
        return f"{base}/namespaces/{namespace}/workflows?query={quote(query, safe='')}"


def lifecycle_workflow_id(ref: str) -> str:
    """The lifecycle workflow id of ``kind/name@version``.

    The same id as :attr:`agent_registry.assets.refs.AssetRef.workflow_id`, built
    without parsing: the dashboard makes one per listed version, thousands per page.
    """
    asset, _, version = ref.rpartition("@")
    return f"asset/{asset}/{version}"


def views(now: datetime) -> tuple[View, ...]:
    """The five views as of ``now`` (the time-bound ones are fixed at ``now``).

    Args:
        now: The moment the dashboard or report was computed (aware).

    Returns:
        Pending reviews, past SLA, re-certifications due, awaiting sunset and eval
        failures this week, in the dashboard's order.
    """
    stage = LIFECYCLE_STAGE.name
    return (
        View(
            PENDING_REVIEWS,
            "Pending reviews",
            "Versions waiting for review.",
            _lifecycles(f'{stage}="{Stage.IN_REVIEW.value}"'),
            (*_IDENTITY, RISK_TIER.name, REVIEW_DEADLINE.name),
        ),
        View(
            PAST_SLA,
            "Reviews past SLA",
            "Versions still in review after their review deadline.",
            _lifecycles(
                f'{stage}="{Stage.IN_REVIEW.value}"',
                f'{REVIEW_DEADLINE.name} < "{_instant(now)}"',
            ),
            (*_IDENTITY, RISK_TIER.name, REVIEW_DEADLINE.name),
        ),
        View(
            RECERTIFICATIONS_DUE,
            "Re-certifications due in 30 days",
            "Published versions whose re-certification is due within 30 days or overdue.",
            _lifecycles(
                f'{stage} IN ("{Stage.PUBLISHED.value}", "{Stage.RECERTIFYING.value}")',
                f'{RECERTIFY_BY.name} <= "{_instant(now + RECERTIFICATION_HORIZON)}"',
            ),
            (*_IDENTITY, stage, RISK_TIER.name, RECERTIFY_BY.name),
        ),
        View(
            AWAITING_SUNSET,
            "Deprecated, awaiting sunset",
            "Deprecated versions not retired yet.",
            _lifecycles(f'{stage}="{Stage.DEPRECATED.value}"'),
            (*_IDENTITY, RISK_TIER.name),
        ),
        View(
            EVAL_FAILURES,
            "Eval failures this week",
            "Lifecycles started in the last 7 days whose eval failed and that wait for a revision.",
            _lifecycles(
                f'{stage}="{Stage.EVAL_FAILED.value}"',
                f'StartTime >= "{_instant(now - EVAL_FAILURE_WINDOW)}"',
            ),
            (*_IDENTITY, RISK_TIER.name),
        ),
    )


def view(key: str, now: datetime) -> View:
    """One of :func:`views` by its key.

    Raises:
        KeyError: No view has that key.
    """
    for candidate in views(now):
        if candidate.key == key:
            return candidate
    raise KeyError(f"no Temporal view named {key!r}")


def configured_namespace() -> str:
    """The namespace a client of this process connects to, as the ``temporal`` CLI reads it.

    ``TEMPORAL_NAMESPACE`` or the active profile's namespace; ``default`` otherwise. A
    profile file that cannot be read leaves links on the default namespace rather than
    stopping the dashboard.
    """
    try:
        config = ClientConfig.load_client_connect_config()
    except Exception:  # a broken profile is reported by the commands that connect
        return DEFAULT_NAMESPACE
    return str(config.get("namespace") or DEFAULT_NAMESPACE)


def console_for(ui_url: str) -> TemporalConsole:
    """The console at ``ui_url`` on this process's configured namespace."""
    return TemporalConsole(ui_url=ui_url, namespace=configured_namespace())


def _lifecycles(*conditions: str) -> str:
    return " AND ".join((ALL_LIFECYCLES, *conditions))


def _instant(moment: datetime) -> str:
    """A timestamp as visibility queries compare it: RFC 3339 in UTC, whole seconds."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
