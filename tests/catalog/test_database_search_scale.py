"""Search over a thousand versions gives exactly what a plain reading of the rules does.

Timing is the benchmark's business; this pins correctness at a size where the latest
version per asset, the stage rules and paging all have real work to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session

from agent_registry.assets.refs import AssetKind, AssetRef
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.models import MAX_PAGE_SIZE, SearchHit, SearchQuery
from agent_registry.lifecycle.stages import Stage
from tests.seeding import deprecate, move, publish, register, retire

ASSETS = 500
"""Enough that every query spans more than one page of ``MAX_PAGE_SIZE`` hits."""
KINDS = [AssetKind.SKILL, AssetKind.SUBAGENT, AssetKind.MCP_SERVER]
COLOURS = ["red", "green", "blue", "amber"]
ANIMALS = ["fox", "owl", "cat", "yak", "emu"]
OLD_WORDS = ["alpha", "bravo", "delta", "echo", "golf", "hotel", "india"]
NEW_WORDS = ["mercury", "venus", "earth", "jupiter", "saturn", "neptune"]


@dataclass(frozen=True)
class Expected:
    """What search must show for one asset."""

    kind: str
    name: str
    team: str
    version: str
    stage: str
    description: str

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}@{self.version}"


def name_of(index: int) -> str:
    name = f"{COLOURS[index % 4]}-{ANIMALS[index % 5]}-{index}"
    return f"io.github.acme/{name}" if KINDS[index % 3] is AssetKind.MCP_SERVER else name


def seed(session: Session) -> tuple[list[Expected], list[Expected]]:
    """About 1,100 versions in every stage mix; returns what search and InReview show."""
    shown: list[Expected] = []
    in_review: list[Expected] = []
    for index in range(ASSETS):
        kind, name, team = KINDS[index % 3], name_of(index), f"team-{index % 7}"
        old = f"Legacy {OLD_WORDS[index % 7]} helper."
        new = f"Modern {NEW_WORDS[index % 6]} helper."
        case = index % 5
        first = _version(session, kind, name, "1.0.0", old, team)
        if case == 4:
            _version(session, kind, name, "0.9.0", "Ancient.", team, stage=Stage.RETIRED)
            deprecate(session, first)
            shown.append(Expected(kind.value, name, team, "1.0.0", "Deprecated", old))
            continue
        second_stage = {
            0: Stage.PUBLISHED,
            1: Stage.IN_REVIEW,
            2: Stage.DEPRECATED,
            3: Stage.PUBLISHED,
        }[case]
        _version(session, kind, name, "2.0.0", new, team, stage=second_stage)
        if case == 0:
            _version(session, kind, name, "3.0.0-rc.1", "Next.", team, stage=Stage.SUBMITTED)
            shown.append(Expected(kind.value, name, team, "2.0.0", "Published", new))
        elif case == 1:
            shown.append(Expected(kind.value, name, team, "1.0.0", "Published", old))
            in_review.append(Expected(kind.value, name, team, "2.0.0", "InReview", new))
        elif case == 2:
            shown.append(Expected(kind.value, name, team, "1.0.0", "Published", old))
        else:
            retire(session, first)
            shown.append(Expected(kind.value, name, team, "2.0.0", "Published", new))
    session.commit()
    return shown, in_review


def _version(
    session: Session,
    kind: AssetKind,
    name: str,
    version: str,
    description: str,
    team: str,
    *,
    stage: Stage = Stage.PUBLISHED,
) -> AssetRef:
    ref = register(session, f"{kind.value}/{name}@{version}", description=description, team=team)
    if stage is Stage.SUBMITTED:
        return ref
    if stage is Stage.IN_REVIEW:
        move(session, ref, stage, actor="t")
        return ref
    publish(session, ref)
    if stage is Stage.DEPRECATED:
        deprecate(session, ref)
    if stage is Stage.RETIRED:
        retire(session, ref)
    return ref


def everything(catalog: DatabaseCatalog, **query: object) -> list[SearchHit]:
    """Every hit of a query, page by page as a client would fetch them."""
    hits: list[SearchHit] = []
    offset: int | None = 0
    while offset is not None:
        page = catalog.search(
            SearchQuery.model_validate({**query, "limit": MAX_PAGE_SIZE, "offset": offset})
        )
        assert page.total == len(hits) + len(page.items) + (
            0 if page.next_offset is None else page.total - page.next_offset
        )
        hits.extend(page.items)
        offset = page.next_offset
    return hits


@pytest.fixture
def seeded(session: Session) -> tuple[list[Expected], list[Expected]]:
    return seed(session)


def test_a_large_catalog_answers_by_the_rules(
    seeded: tuple[list[Expected], list[Expected]], catalog: DatabaseCatalog
) -> None:
    shown, in_review = seeded
    by_ref = {expected.ref: expected for expected in shown}

    everyone = everything(catalog)
    assert [hit.ref for hit in everyone] == [
        e.ref for e in sorted(shown, key=lambda e: (e.kind, e.name))
    ]
    assert all(
        (hit.stage, hit.description, hit.owner_team)
        == (by_ref[hit.ref].stage, by_ref[hit.ref].description, by_ref[hit.ref].team)
        for hit in everyone
    )

    # A word only older versions carry finds the assets whose shown version is old.
    delta = everything(catalog, text="delta")
    assert {hit.ref for hit in delta} == {e.ref for e in shown if "delta" in e.description}
    assert {hit.score for hit in delta} == {0.4}
    recency = [hit.published_at for hit in delta]
    assert recency == sorted(recency, reverse=True)  # type: ignore[type-var]

    modern = everything(catalog, text="modern", kind="mcp-server", team="team-3")
    assert {hit.ref for hit in modern} == {
        e.ref
        for e in shown
        if e.version == "2.0.0" and e.kind == "mcp-server" and e.team == "team-3"
    }

    # Name words beat description words; an exact name beats everything.
    foxes = everything(catalog, text="amber fox")
    assert {hit.ref for hit in foxes} == {e.ref for e in shown if "amber-fox-" in e.name}
    target = next(e for e in shown if e.kind == "subagent" and e.stage == "Deprecated")
    exact = catalog.search(SearchQuery(text=target.name)).items
    assert exact[0].ref == target.ref
    assert exact[0].score == 1.0

    reviews = everything(catalog, stage="InReview")
    assert [hit.ref for hit in reviews] == [
        e.ref for e in sorted(in_review, key=lambda e: (e.kind, e.name))
    ]
