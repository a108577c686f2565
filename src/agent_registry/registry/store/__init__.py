"""Store functions: every read and write of the registry, each given a session.

Writes flush but never commit: the caller's :func:`agent_registry.registry.db.session_scope`
decides the unit of work. Every write is idempotent by a key the caller passes (an
activity's retry sends the same key again), and stays idempotent when two retries race:
a write that loses a unique-key race rolls back its SAVEPOINT and returns the row that
won. Writes to an existing version first lock its row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite serialises writers anyway), so checks such as "already published?"
and the write that follows them cannot interleave with another worker's.

Callers write ``from agent_registry.registry import store`` and ``store.put_blob(...)``;
this package gathers the public functions of its modules, one purpose each:

- :mod:`~agent_registry.registry.store.blobs`: bundle bytes by content hash;
- :mod:`~agent_registry.registry.store.submissions`: registering and revising versions;
- :mod:`~agent_registry.registry.store.stages`: stage changes and publication;
- :mod:`~agent_registry.registry.store.life`: re-certification, deprecation, retirement;
- :mod:`~agent_registry.registry.store.evals`: eval runs and their findings;
- :mod:`~agent_registry.registry.store.decisions`: reviewers' decisions;
- :mod:`~agent_registry.registry.store.reads`: versions, listings and the audit log;
- :mod:`~agent_registry.registry.store.catalog`: the published catalog for the reuse check;
- :mod:`~agent_registry.registry.store.usage`: installs and uses of catalog assets;
- :mod:`~agent_registry.registry.store.rows` and
  :mod:`~agent_registry.registry.store.idempotency`: what the writes share.
"""

from agent_registry.registry.store.blobs import get_blob, prune_unclaimed_blobs, put_blob
from agent_registry.registry.store.catalog import catalog_generation, published_catalog
from agent_registry.registry.store.decisions import DECISION_EVENT_PREFIX, record_decision
from agent_registry.registry.store.evals import (
    EVAL_EVENT_PREFIX,
    baseline_fingerprints,
    behaviour_lines,
    probe_stderr_for_reviewers,
    published_behaviour,
    record_eval,
)
from agent_registry.registry.store.idempotency import SYSTEM_ACTOR
from agent_registry.registry.store.life import (
    deprecate_version,
    record_recertification,
    retire_version,
    schedule_recertification,
)
from agent_registry.registry.store.reads import (
    audit_for,
    decisions_for,
    find_version,
    get_asset_for,
    get_version,
    latest_eval,
    latest_published,
    list_versions,
    published_predecessors,
    withdrawn_versions,
)
from agent_registry.registry.store.stages import publish_version, set_stage
from agent_registry.registry.store.submissions import register_version
from agent_registry.registry.store.usage import (
    AssetUse,
    DayCount,
    asset_uses,
    daily_counts,
    record_install,
    record_usage,
)

__all__ = [
    "DECISION_EVENT_PREFIX",
    "EVAL_EVENT_PREFIX",
    "SYSTEM_ACTOR",
    "AssetUse",
    "DayCount",
    "asset_uses",
    "audit_for",
    "baseline_fingerprints",
    "behaviour_lines",
    "catalog_generation",
    "daily_counts",
    "decisions_for",
    "deprecate_version",
    "find_version",
    "get_asset_for",
    "get_blob",
    "get_version",
    "latest_eval",
    "latest_published",
    "list_versions",
    "probe_stderr_for_reviewers",
    "prune_unclaimed_blobs",
    "publish_version",
    "published_behaviour",
    "published_catalog",
    "published_predecessors",
    "put_blob",
    "record_decision",
    "record_eval",
    "record_install",
    "record_recertification",
    "record_usage",
    "register_version",
    "retire_version",
    "schedule_recertification",
    "set_stage",
    "withdrawn_versions",
]
