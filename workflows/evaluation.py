"""The eval bar as a lifecycle step: static checks, then untrusted code on probe workers.

A submission is judged in up to three calls of one activity: the static bar, which says
whether the live MCP probe or the behavioural evals are needed; those run on the probe
workers' own queue, since they execute the submitted code; then the same activity judges
everything together. Both the first submission and each re-certification go through here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows import patches
from workflows.activity_options import BEHAVIOUR, EVALUATE, PROBE, PROBE_QUEUE_SUFFIX, options
from workflows.context import LifecycleContext, failure_message

with workflow.unsafe.imports_passed_through():
    from activities.behaviour import BehaviourActivities
    from activities.evaluation import EvalActivities
    from activities.models import EvalOutcome, EvaluateInput
    from activities.probe import ProbeActivities
    from agent_registry import metrics, temporal


class Evaluation:
    """Runs the eval bar on the lifecycle's current bundle and keeps its outcome."""

    def __init__(self, context: LifecycleContext) -> None:
        self._context = context

    async def run(self, *, content_hash: str, judging_moves_stage: bool = False) -> EvalOutcome:
        """Evaluate ``content_hash`` under the policy in force; the status shows the result.

        With ``judging_moves_stage`` (a submission's eval, not a re-certification's), the
        judging transaction also writes the stage the result leads to, in runs with
        merged steps.
        """
        context = self._context
        context.set_waiting("running the eval bar")
        request = EvaluateInput(
            ref=context.status.ref,
            content_hash=content_hash,
            run_key=context.key("eval"),
            false_positives=context.metadata.false_positives,
            then_stage_key=context.key("stage")
            if judging_moves_stage and context.merged_steps
            else None,
        )
        if workflow.patched(patches.SANDBOXED_PROBE):
            steps: dict[str, object] = {"probe": "defer"}
            if workflow.patched(patches.BEHAVIOUR_EVALS):
                steps["behaviour"] = "defer"
            outcome = await self._judge(request.model_copy(update=steps))
            if (probe := outcome.probe_request) is not None:
                steps.update(
                    await self._on_probe_worker(
                        "probe",
                        "running the live probe of the MCP server on a probe worker",
                        lambda queue: workflow.execute_activity_method(
                            ProbeActivities.probe_mcp_server,
                            probe,
                            **options(PROBE, "run the live MCP probe", task_queue=queue),
                        ),
                    )
                )
                outcome = await self._judge(request.model_copy(update=steps))
            if (behaviour := outcome.behaviour_request) is not None:
                steps.update(
                    await self._on_probe_worker(
                        "behaviour",
                        "running the behavioural evals on a probe worker",
                        lambda queue: workflow.execute_activity_method(
                            BehaviourActivities.run_behaviour_evals,
                            behaviour,
                            **options(BEHAVIOUR, "run the behavioural evals", task_queue=queue),
                        ),
                    )
                )
                outcome = await self._judge(request.model_copy(update=steps))
        else:
            outcome = await self._judge(request)
        self._keep(outcome)
        return outcome

    def _keep(self, outcome: EvalOutcome) -> None:
        context = self._context
        context.status.eval = outcome.summary
        context.status.plan = outcome.plan
        passed = outcome.summary.passed
        context.count(metrics.EVAL_RUNS, result="passed" if passed else "failed")
        if any(f.check_id in metrics.PROBE_FAILURE_CHECKS for f in outcome.summary.top_findings):
            context.count(metrics.PROBE_FAILURES)
        workflow.upsert_search_attributes(
            [temporal.RISK_TIER.value_set(outcome.summary.risk_tier.value)]
        )

    async def _judge(self, request: EvaluateInput) -> EvalOutcome:
        return await workflow.execute_activity_method(
            EvalActivities.evaluate_version,
            request,
            **options(EVALUATE, "run the eval bar"),
        )

    async def _on_probe_worker(
        self,
        step: Literal["probe", "behaviour"],
        waiting: str,
        start: Callable[[str], Awaitable[object]],
    ) -> dict[str, object]:
        """Run a step of untrusted code on the probe queue; its fields for judging.

        One way for every step that runs untrusted code: on the probe queue, bounded by a
        deadline that covers waiting for a worker (the options' schedule-to-close), and a
        failure becomes ``<step>_failure`` for the evaluation to judge rather than
        failing the lifecycle.
        """
        self._context.set_waiting(waiting)
        try:
            output = await start(workflow.info().task_queue + PROBE_QUEUE_SUFFIX)
        except ActivityError as error:
            return {step: "given", f"{step}_failure": failure_message(error)}
        return {step: "given", f"{step}_output": output}
