"""Links from a running activity to its workflow in the Temporal Web UI."""

from __future__ import annotations

from temporalio import activity

from agent_registry.temporal import workflow_ui_url


def calling_workflow_link(ui_url: str) -> str:
    """The Temporal UI page of the workflow that scheduled the running activity."""
    info = activity.info()
    return workflow_ui_url(
        ui_url,
        namespace=info.workflow_namespace or "default",
        workflow_id=info.workflow_id or "",
        run_id=info.workflow_run_id,
    )
