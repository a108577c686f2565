"""The scheduled import: submit each new upstream version of the watched servers once.

A Temporal Schedule (``agentreg import mcp --watch``) starts this workflow every
interval. It only orchestrates: one activity plans (reads upstream and the registry),
then one activity per new version submits it as an ordinary submission, which starts
that version's own lifecycle (eval bar, probe, review). A version already submitted is
reported, not submitted again, so overlapping or repeated runs are harmless.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.mcp_import import McpImportActivities
    from agent_registry.mcp_registry.contract import (
        MCP_IMPORT_WORKFLOW,
        ImportOutcome,
        McpImportInput,
        McpImportResult,
        SubmitPickInput,
    )

UPSTREAM_TIMEOUT = timedelta(minutes=5)
"""One plan or one submission: every upstream page is bounded to well under this."""

UPSTREAM_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=5,
    non_retryable_error_types=["NoScope"],
)
"""An upstream outage outlasting these attempts waits for the schedule's next run."""


@workflow.defn(name=MCP_IMPORT_WORKFLOW)
class McpImportWorkflow:
    """Plans, then submits each new upstream version; returns what became of each."""

    @workflow.run
    async def run(self, request: McpImportInput) -> McpImportResult:
        """One pass over the watched servers."""
        result = McpImportResult()
        try:
            plan = await workflow.execute_activity_method(
                McpImportActivities.plan_import,
                request,
                start_to_close_timeout=UPSTREAM_TIMEOUT,
                retry_policy=UPSTREAM_RETRY,
                summary=f"read {request.upstream}",
            )
        except ActivityError as error:
            result.notes.append(f"upstream not read: {_cause(error)}")
            return result
        result.notes.extend(plan.notes)
        for pick in plan.picks:
            try:
                outcome = await workflow.execute_activity_method(
                    McpImportActivities.submit_pick,
                    SubmitPickInput(
                        upstream=request.upstream,
                        pick=pick,
                        team=request.team,
                        submitter=request.submitter,
                        # Only the activity's input grows: the commands a run issues
                        # are unchanged, so runs in flight replay without a patch.
                        principal=request.principal,
                    ),
                    start_to_close_timeout=UPSTREAM_TIMEOUT,
                    retry_policy=UPSTREAM_RETRY,
                    summary=f"submit {pick.name} {pick.version}",
                )
            except ActivityError as error:
                outcome = ImportOutcome(
                    name=pick.name, version=pick.version, status="failed", message=_cause(error)
                )
            result.outcomes.append(outcome)
        return result


def _cause(error: ActivityError) -> str:
    cause = error.cause
    return str(cause) if cause is not None else str(error)
