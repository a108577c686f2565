"""Counting lifecycle events from workflow code.

The workflow's metric meter is replay safe: a replayed workflow task records nothing,
so each event is counted once however often its history is replayed.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from agent_registry.metrics import Counter


def count(counter: Counter, **attributes: str) -> None:
    """Add one to ``counter`` with ``attributes`` (e.g. ``kind``, ``tier``)."""
    meter = workflow.metric_meter()
    meter.create_counter(counter.name, counter.description).add(1, attributes)
