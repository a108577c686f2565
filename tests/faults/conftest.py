"""The fault tests' Slack double: one submitter and the registry's two channels."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.faults.helpers import ALICE, REVIEWS
from tests.slack_double import SlackDouble


@pytest.fixture
async def double() -> AsyncIterator[SlackDouble]:
    async with SlackDouble(
        users=[ALICE], channels={REVIEWS: "C0REVIEWS", "agent-registry-platform": "C0PLAT"}
    ) as running:
        yield running
