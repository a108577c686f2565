"""Logging for the long-running processes: the worker and ``agentreg serve``.

``AGENT_REGISTRY_LOG_FORMAT=text`` (the default) keeps the plain one-line format people
read; ``json`` writes one JSON object per line for a log pipeline, with ``time`` (UTC,
ISO 8601), ``level``, ``logger`` and ``message``, plus ``exception`` when there is one.
Every line logged inside a lifecycle's workflow or one of its activities also carries
``workflow_id`` and ``asset_ref`` (and ``run_id``, and ``activity`` inside an activity),
whichever logger it came through: the SDK's ``workflow.logger``/``activity.logger`` or a
module's own ``logging.getLogger(__name__)``.

Only those fields are written: the record's other ``extra`` values are left out, so no
setting or token passed to a log call as context can reach the log by accident.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO, Any, Literal

from temporalio import activity, workflow

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

WORKFLOW_ID_PREFIX = "asset/"
"""Lifecycle workflow ids are ``asset/<kind>/<name>/<version>`` (``AssetRef.workflow_id``)."""

_CONTEXT_FIELDS = ("workflow_id", "asset_ref", "run_id", "activity")


def asset_ref_of(workflow_id: str) -> str | None:
    """The asset ref (``kind/name@version``) whose lifecycle has ``workflow_id``.

    The inverse of ``AssetRef.workflow_id``; an MCP server's name has a slash of its own
    (``io.github.acme/tickets``), so the version is what follows the last slash and the
    kind what precedes the first. None for an id that is not a lifecycle's.
    """
    if not workflow_id.startswith(WORKFLOW_ID_PREFIX):
        return None
    kind_and_name, _, version = workflow_id[len(WORKFLOW_ID_PREFIX) :].rpartition("/")
    kind, _, name = kind_and_name.partition("/")
    if not (kind and name and version):
        return None
    return f"{kind}/{name}@{version}"


def lifecycle_context(record: logging.LogRecord) -> dict[str, str]:
    """The workflow context of a log record: from the SDK's extras, else the running task.

    The SDK's loggers put a ``temporal_workflow``/``temporal_activity`` dict on the
    record; a plain module logger called inside an activity (its thread or task) or a
    workflow is placed by asking the SDK which one is running.
    """
    context: dict[str, str] = {}
    details = getattr(record, "temporal_activity", None)
    if isinstance(details, dict):
        _put(context, "workflow_id", details.get("workflow_id"))
        _put(context, "run_id", details.get("workflow_run_id"))
        _put(context, "activity", details.get("activity_type"))
    details = getattr(record, "temporal_workflow", None)
    if isinstance(details, dict):
        _put(context, "workflow_id", details.get("workflow_id"))
        _put(context, "run_id", details.get("run_id"))
    if "workflow_id" not in context:
        if activity.in_activity():
            info = activity.info()
            _put(context, "workflow_id", info.workflow_id)
            _put(context, "run_id", info.workflow_run_id)
            _put(context, "activity", info.activity_type)
        elif workflow.in_workflow():
            winfo = workflow.info()
            _put(context, "workflow_id", winfo.workflow_id)
            _put(context, "run_id", winfo.run_id)
    if "workflow_id" in context:
        _put(context, "asset_ref", asset_ref_of(context["workflow_id"]))
    return context


def _put(context: dict[str, str], key: str, value: object) -> None:
    if value and key not in context:
        context[key] = str(value)


class LifecycleContextFilter(logging.Filter):
    """Puts the workflow context on each record, in the thread that logs it.

    On a handler, it runs where the log call is made, so the running activity or
    workflow is still known even if formatting happens later elsewhere.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the context fields; never drops a record."""
        if not hasattr(record, "workflow_id"):
            for key, value in lifecycle_context(record).items():
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the lifecycle context."""

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if hasattr(record, "workflow_id"):
            context = {key: getattr(record, key, None) for key in _CONTEXT_FIELDS}
        else:
            context = dict(lifecycle_context(record))
        entry.update({key: value for key, value in context.items() if value})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_handler(
    log_format: Literal["text", "json"], stream: IO[str] | None = None
) -> logging.Handler:
    """A stream handler (stderr by default) writing ``log_format``."""
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.addFilter(LifecycleContextFilter())
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(log_format: Literal["text", "json"], *, level: int = logging.INFO) -> None:
    """Set up the root logger of a long-running process (worker, server) in ``log_format``.

    In JSON mode the SDK's loggers stop appending their context dict to the message:
    the context is in fields of its own.
    """
    logging.basicConfig(level=level, handlers=[make_handler(log_format)], force=True)
    if log_format == "json":
        activity.logger.activity_info_on_message = False
        workflow.logger.workflow_info_on_message = False
