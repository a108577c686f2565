"""Temporal connection, search-attribute keys and names shared by every process.

The client is built in one place from :mod:`temporalio.envconfig`, so ``TEMPORAL_ADDRESS``,
``TEMPORAL_NAMESPACE``, ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS*`` and the CLI's TOML profiles
work exactly as they do for the ``temporal`` CLI: self-hosted clusters and Temporal Cloud
need no settings of ours.
"""

from __future__ import annotations

from urllib.parse import quote

from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

DEFAULT_ADDRESS = "localhost:7233"

ASSET_KIND = SearchAttributeKey.for_keyword("AssetKind")
ASSET_NAME = SearchAttributeKey.for_keyword("AssetName")
ASSET_VERSION = SearchAttributeKey.for_keyword("AssetVersion")
OWNER_TEAM = SearchAttributeKey.for_keyword("OwnerTeam")
LIFECYCLE_STAGE = SearchAttributeKey.for_keyword("LifecycleStage")
RISK_TIER = SearchAttributeKey.for_keyword("RiskTier")
REVIEW_DEADLINE = SearchAttributeKey.for_datetime("ReviewDeadline")
RECERTIFY_BY = SearchAttributeKey.for_datetime("RecertifyBy")

ALL_SEARCH_ATTRIBUTES = (
    ASSET_KIND,
    ASSET_NAME,
    ASSET_VERSION,
    OWNER_TEAM,
    LIFECYCLE_STAGE,
    RISK_TIER,
    REVIEW_DEADLINE,
    RECERTIFY_BY,
)
"""Every custom attribute we use: 6 Keyword and 2 Datetime, inside the budget a
PostgreSQL-backed cluster allows (10 Keyword, 3 Datetime per namespace)."""


def search_attribute_flags() -> list[str]:
    """``--search-attribute NAME=Type`` arguments for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in ALL_SEARCH_ATTRIBUTES:
        type_name = "Datetime" if key in (REVIEW_DEADLINE, RECERTIFY_BY) else "Keyword"
        flags += ["--search-attribute", f"{key.name}={type_name}"]
    return flags


DEV_SERVER_DYNAMIC_CONFIG = {
    "frontend.enableCancelWorkerPollsOnShutdown": "true",
}
"""Server settings the registry's workers rely on, for every dev server we start.

A worker told to stop ends its long polls for tasks. Without this setting the server does
not know: a task it hands to one of those polls in the moment before is lost, and waits
out its start-to-close or heartbeat timeout (a minute for storing a bundle) before another
worker gets it. With it, the namespace advertises ``workerPollCompleteOnShutdown``, for
the SDK to tell the server it is shutting down and the server to complete the pending
polls empty. It does not close the window here: the drain benchmark still sees one
or two tasks lost in 400 drained lifecycles (docs/performance.md). docs/deploy.md asks
the same setting of a production cluster."""


def dev_server_flags() -> list[str]:
    """:data:`DEV_SERVER_DYNAMIC_CONFIG` as ``temporal server start-dev`` arguments."""
    flags: list[str] = []
    for key, value in DEV_SERVER_DYNAMIC_CONFIG.items():
        flags += ["--dynamic-config-value", f"{key}={value}"]
    return flags


async def connect(
    *,
    address: str | None = None,
    namespace: str | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """Connect to Temporal the way the ``temporal`` CLI would.

    Args:
        address: Overrides ``TEMPORAL_ADDRESS`` / the profile (tests use it).
        namespace: Overrides ``TEMPORAL_NAMESPACE`` / the profile.
        runtime: The Temporal runtime to connect (and run workers) with, e.g. one from
            :func:`metrics_runtime`; the SDK's default runtime when None.

    Returns:
        A client using the pydantic data converter, so contract models travel as JSON.
    """
    config = ClientConfig.load_client_connect_config()
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if address is not None:
        config["target_host"] = address
    if namespace is not None:
        config["namespace"] = namespace
    return await Client.connect(**config, data_converter=pydantic_data_converter, runtime=runtime)


def metrics_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime that serves Prometheus metrics on ``bind_address`` (``host:port``).

    A worker connected with it exports the SDK's ``temporal_*`` metrics and every metric
    recorded through the workflow and activity meters (:mod:`agent_registry.metrics`) at
    ``http://<bind_address>/metrics``.
    """
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))


def workflow_ui_url(ui_url: str, *, namespace: str, workflow_id: str, run_id: str | None) -> str:
    """Link to a workflow in the Temporal Web UI (the run's history when the run is known)."""
    base = ui_url.rstrip("/")
    path = f"{base}/namespaces/{quote(namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"
    return f"{path}/{run_id}/history" if run_id else path
