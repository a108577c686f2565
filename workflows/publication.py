"""Publication: the approved content becomes the catalog's, and its life is planned.

Publishing writes the version, its signed statement and (in runs with merged steps) the
first re-certification date in one transaction, after reading the policy's plan for the
life; older published versions of the asset are then told that this one supersedes them.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.activity_options import REGISTRY_WRITE, options
from workflows.context import LifecycleContext
from workflows.published_life import read_life_plan

with workflow.unsafe.imports_passed_through():
    from activities.life import LifeActivities
    from activities.models import Audience, PublicationInput, PublishInput
    from activities.registry import RegistryActivities
    from agent_registry import metrics, temporal
    from agent_registry.lifecycle import wording
    from agent_registry.lifecycle.contract import LifePlan
    from agent_registry.lifecycle.notices import NoticeEvent
    from agent_registry.lifecycle.stages import Stage


class Publication:
    """Publishes an approved version and supersedes its predecessors."""

    def __init__(self, context: LifecycleContext) -> None:
        self._context = context
        self._predecessors: int | None = None
        """Older published versions, when publication counted them (merged steps)."""

    async def publish(self, content_hash: str) -> LifePlan | None:
        """Publish the approved content and tell the submitter.

        Returns:
            The plan for the published life when publication read it (runs with merged
            steps, which also scheduled the first re-certification); else None.
        """
        context = self._context
        status = context.status
        request = PublishInput(
            ref=status.ref,
            content_hash=content_hash,
            approvers=status.approvers,
            event_key=context.key("publish"),
        )
        plan: LifePlan | None = None
        if context.merged_steps:
            plan = await read_life_plan(context)
            due = workflow.now() + plan.recertify_every
            self._predecessors = await context.registry_step(
                RegistryActivities.publish_and_schedule,
                PublicationInput(
                    publish=request,
                    recertify_by=due,
                    recertification_key=context.key("recertification"),
                ),
                "publish the approved content and schedule its re-certification",
            )
            status.recertify_by = due
            workflow.upsert_search_attributes([temporal.RECERTIFY_BY.value_set(due)])
        else:
            await context.registry_step(
                RegistryActivities.publish_version, request, "publish the approved content"
            )
        context.count(metrics.PUBLICATIONS)
        note = wording.published(request.approvers)
        await context.enter(Stage.PUBLISHED, note=note)
        context.set_waiting(f"published ({note})")
        await context.notify(
            Audience.SUBMITTER,
            NoticeEvent.PUBLISHED,
            f"Published ({note}); content hash {content_hash}",
        )
        return plan

    async def supersede_predecessors(self) -> None:
        """Deprecate the older published versions of this asset in favour of this one.

        Skipped when publication counted none: a first version has nothing to supersede,
        and telling nobody is not worth a durable step.
        """
        if self._predecessors == 0:
            return
        await workflow.execute_activity_method(
            LifeActivities.supersede_predecessors,
            self._context.status.ref,
            **options(REGISTRY_WRITE, "deprecate older published versions in favour of this one"),
        )
