"""The eval bar on the corpus of real public assets: no false positive, no miss.

``make evalbar`` prints the same two numbers; this keeps them at zero in ``make test``,
with the corpus's size held to what the bar promises (at least 100 real assets of all
three kinds and 30 planted problems).
"""

from __future__ import annotations

from collections import Counter

import pytest

from agent_registry.assets.bundle import BundleLimits
from agent_registry.assets.loader import load_path
from agent_registry.policy.loader import load_policy
from bench.evalbar import good_assets, planted_cases, run


@pytest.fixture(scope="module")
def outcome():  # type: ignore[no-untyped-def]
    return run(load_policy(None))


def test_the_corpus_has_100_real_assets_of_all_three_kinds() -> None:
    kinds = Counter(load_path(path, limits=BundleLimits()).kind.value for path in good_assets())
    assert sum(kinds.values()) >= 100, kinds
    assert set(kinds) == {"skill", "subagent", "mcp-server"}, kinds


def test_the_corpus_has_30_planted_problems() -> None:
    assert len(list(planted_cases())) >= 30


def test_no_good_asset_is_blocked(outcome) -> None:  # type: ignore[no-untyped-def]
    shown = "\n".join(f"{name}: {findings}" for name, findings in outcome.false_positives)
    assert outcome.false_positives == [], shown


def test_every_planted_problem_is_caught(outcome) -> None:  # type: ignore[no-untyped-def]
    assert outcome.misses == []
