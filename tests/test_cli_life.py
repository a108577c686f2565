"""``agentreg attest``, ``deprecate``, and what ``show``/``list`` say about a version's life.

Local refusals and the registry's view run the console script against a SQLite file
seeded through the store. The update path runs against the dev server with a stand-in
lifecycle, so that refusals are checked to reach the user as one line whatever the real
workflow's rules are at the time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio import workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from agent_registry.assets.refs import AssetRef
from agent_registry.cli.errors import CliError
from agent_registry.cli.life import parse_replacement, parse_sunset
from agent_registry.lifecycle.contract import (
    ATTEST_UPDATE,
    DEPRECATE_UPDATE,
    LIFECYCLE_WORKFLOW,
    STATUS_QUERY,
    AssetStatus,
    AttestInput,
    DeprecateInput,
    Deprecation,
    VoteResult,
)
from agent_registry.lifecycle.stages import Stage
from agent_registry.registry import store
from agent_registry.registry.db import session_scope
from tests.registry.factories import publish, submit
from tests.registry_server import registry_server
from tests.support import make_settings
from tests.test_cli import Run, agentreg, agentreg_async

REF = AssetRef.parse("skill/pdf-report@1.0.0")
NEXT = AssetRef.parse("skill/pdf-report@2.0.0")
SUNSET = datetime(2099, 1, 1, tzinfo=UTC)
NOWHERE = {"TEMPORAL_ADDRESS": "127.0.0.1:1"}
OWNER = "owner@localhost"
"""Who ``--as owner`` is in local mode, the stand-in's one attester."""
"""Local checks must answer before any connection is tried; an attempt would fail here."""


def _cli(*args: str, env: Mapping[str, str] = NOWHERE) -> Run:
    return agentreg(*args, cwd=None, **env)


def _one_line_error(run: Run, *expected: str) -> None:
    assert run.code == 1, run.stdout + run.stderr
    assert run.stderr.startswith("error:") and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    for text in expected:
        assert text in run.stderr


def _deprecate(*extra: str) -> Run:
    return _cli("deprecate", str(REF), "--reason", "replaced", "--as", "alice", *extra)


# --- local validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        ("skill/pdf-report@latest", "not an exact semantic version"),
        ("pdf-report", "not an asset reference"),
        ("widget/pdf-report@2.0.0", "unknown kind"),
        (str(REF), "cannot replace itself"),
    ],
)
def test_deprecate_refuses_a_bad_replacement_locally(replacement: str, expected: str) -> None:
    _one_line_error(_deprecate("--replacement", replacement), "--replacement", expected)


@pytest.mark.parametrize(
    "sunset", ["2099-13-01", "2099-02-30", "tomorrow", "2099/01/01", "20990101"]
)
def test_deprecate_refuses_a_bad_date_locally(sunset: str) -> None:
    _one_line_error(_deprecate("--sunset", sunset), "--sunset", "YYYY-MM-DD")


def test_deprecate_refuses_a_sunset_that_is_not_ahead() -> None:
    _one_line_error(_deprecate("--sunset", "2020-01-01"), "--sunset", "not after today")


def test_deprecate_needs_a_reason_that_says_something() -> None:
    blank = _cli("deprecate", str(REF), "--reason", "  ", "--as", "alice")
    _one_line_error(blank, "--reason")
    missing = _cli("deprecate", str(REF), "--as", "alice")
    assert missing.code == 2 and "--reason" in missing.stderr


def test_attest_refuses_a_bad_ref_locally() -> None:
    _one_line_error(
        _cli("attest", "skill/pdf-report@next", "--as", "alice"),
        "semantic version",
    )


def test_sunset_is_midnight_utc_of_a_later_day() -> None:
    today = date(2026, 11, 24)
    assert parse_sunset("2026-11-25", today=today) == datetime(2026, 11, 25, tzinfo=UTC)
    assert parse_sunset(None, today=today) is None
    with pytest.raises(CliError, match="not after today"):
        parse_sunset("2026-11-24", today=today)


def test_replacement_is_normalised() -> None:
    assert parse_replacement(" skill/pdf-report@2.0.0 ", ref=REF) == str(NEXT)
    assert parse_replacement(None, ref=REF) is None


# --- what the registry shows ----------------------------------------------------------


@pytest.fixture
def seeded(sqlite_url: str, sqlite_engine: Engine) -> dict[str, str]:
    """Three versions: 1.0.0 retired (for 2.0.0), 2.0.0 deprecated (for 3.0.0), 3.0.0 live.

    Returns the environment that points the console script at that registry.
    """
    third = AssetRef.parse("skill/pdf-report@3.0.0")
    with session_scope(sqlite_engine) as session:
        for ref in (REF, NEXT, third):
            submit(session, ref)
            publish(session, ref)
        store.deprecate_version(
            session,
            ref=REF,
            reason="reads PDFs page by page, too slowly",
            by="alice",
            replacement=str(NEXT),
            sunset_at=SUNSET,
            event_key="d1",
        )
        store.retire_version(session, ref=REF, event_key="r1")
        store.deprecate_version(
            session,
            ref=NEXT,
            reason="superseded",
            by="agent-registry",
            replacement=str(third),
            sunset_at=SUNSET,
            event_key="d2",
        )
        store.schedule_recertification(
            session, ref=third, recertify_by=datetime(2027, 5, 1, 9, 30, tzinfo=UTC), event_key="s3"
        )
    return {"AGENT_REGISTRY_DATABASE_URL": sqlite_url}


def _today() -> str:
    return f"{datetime.now(UTC):%Y-%m-%d}"


def test_show_marks_a_deprecated_version(seeded: dict[str, str]) -> None:
    shown = _cli("show", str(NEXT), env=seeded)
    assert shown.code == 0, shown.stderr
    assert (
        f"DEPRECATED on {_today()} by agent-registry: superseded; "
        "use skill/pdf-report@3.0.0; retires on 2099-01-01"
    ) in shown.stdout
    assert "re-certification due" not in shown.stdout


def test_show_marks_a_retired_version_and_still_answers(seeded: dict[str, str]) -> None:
    shown = _cli("show", str(REF), env=seeded)
    assert shown.code == 0, shown.stderr
    assert (
        f"RETIRED on {_today()}: reads PDFs page by page, too slowly; "
        "replaced by skill/pdf-report@2.0.0"
    ) in shown.stdout
    assert "gone from search and install" in shown.stdout


def test_show_latest_skips_withdrawn_versions(seeded: dict[str, str]) -> None:
    shown = _cli("show", "skill/pdf-report", env=seeded)
    assert shown.code == 0, shown.stderr
    assert "skill/pdf-report@3.0.0" in shown.stdout
    assert "re-certification due 2027-05-01 09:30 UTC" in shown.stdout
    assert "DEPRECATED" not in shown.stdout


def test_show_latest_names_the_replacement_when_nothing_is_left(
    seeded: dict[str, str], sqlite_engine: Engine
) -> None:
    with session_scope(sqlite_engine) as session:
        store.deprecate_version(
            session,
            ref=AssetRef.parse("skill/pdf-report@3.0.0"),
            reason="moved",
            by="alice",
            replacement="skill/pdf-tools@1.0.0",
            sunset_at=SUNSET,
            event_key="d3",
        )
    shown = _cli("show", "skill/pdf-report", env=seeded)
    _one_line_error(
        shown,
        "no published version left",
        "3.0.0 is Deprecated",
        "1.0.0 is Retired",
        "use skill/pdf-tools@1.0.0",
    )


def test_list_hides_retired_versions_unless_asked(seeded: dict[str, str]) -> None:
    listed = _cli("list", env=seeded)
    assert listed.code == 0, listed.stderr
    assert "3.0.0" in listed.stdout and "2.0.0" in listed.stdout
    assert "1.0.0" not in listed.stdout
    retired = _cli("list", "--stage", "Retired", env=seeded)
    assert "1.0.0" in retired.stdout and "2.0.0" not in retired.stdout


def test_show_says_when_a_version_was_last_recertified(
    seeded: dict[str, str], sqlite_engine: Engine
) -> None:
    third = AssetRef.parse("skill/pdf-report@3.0.0")
    with session_scope(sqlite_engine) as session:
        store.record_recertification(
            session,
            ref=third,
            recertify_by=datetime(2027, 11, 1, tzinfo=UTC),
            actor="alice",
            event_key="c1",
            policy_version="2026-11-24",
        )
    shown = _cli("show", str(third), env=seeded)
    assert "re-certification due 2027-11-01 00:00 UTC" in shown.stdout
    assert f"last re-certified {_today()}" in shown.stdout


# --- the update path, against a stand-in lifecycle ------------------------------------


@workflow.defn(name=LIFECYCLE_WORKFLOW)
class StandInLifecycle:
    """Takes attest and deprecate like the real lifecycle, with one fixed rule each."""

    @workflow.init
    def __init__(self, status: AssetStatus) -> None:
        self._status = status

    @workflow.run
    async def run(self, status: AssetStatus) -> AssetStatus:
        await workflow.wait_condition(lambda: self._status.deprecation is not None)
        return self._status

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> AssetStatus:
        return self._status

    @workflow.update(name=ATTEST_UPDATE)
    def attest(self, attest: AttestInput) -> VoteResult:
        self._status.attested_by = attest.attester
        return VoteResult(stage=self._status.stage, message=f"attested by {attest.attester}")

    @attest.validator
    def _validate_attest(self, attest: AttestInput) -> None:
        if self._status.attested_by is not None:
            raise ApplicationError(
                f"already attested by {self._status.attested_by}", type="Refused"
            )
        if attest.attester != OWNER:
            raise ApplicationError(f"{attest.attester} is not in team platform", type="Refused")

    @workflow.update(name=DEPRECATE_UPDATE)
    def deprecate(self, request: DeprecateInput) -> VoteResult:
        self._status.stage = Stage.DEPRECATED
        self._status.deprecation = Deprecation(
            reason=request.reason,
            by=request.actor,
            at=workflow.now(),
            sunset_at=request.sunset or workflow.now() + timedelta(days=30),
            replacement=request.replacement,
        )
        return VoteResult(stage=Stage.DEPRECATED, message="deprecated")


async def _stand_in(client: Client, task_queue: str) -> AssetRef:
    ref = AssetRef.parse(f"skill/stand-in-{uuid.uuid4().hex[:8]}@1.0.0")
    status = AssetStatus(
        ref=ref, stage=Stage.RECERTIFYING, owner_team="platform", submitter="owner"
    )
    await client.start_workflow(
        LIFECYCLE_WORKFLOW, status, id=ref.workflow_id, task_queue=task_queue
    )
    return ref


@pytest.mark.asyncio(loop_scope="session")
async def test_attest_and_deprecate_through_the_console_script(
    dev_env: WorkflowEnvironment, sqlite_url: str, sqlite_engine: Engine, tmp_path: Path
) -> None:
    client = dev_env.client
    settings = make_settings(tmp_path, sqlite_url)
    env = {"TEMPORAL_ADDRESS": client.service_client.config.target_host}
    task_queue = f"test-{uuid.uuid4()}"
    async with (
        Worker(
            client,
            task_queue=task_queue,
            workflows=[StandInLifecycle],
            workflow_runner=UnsandboxedWorkflowRunner(),
        ),
        registry_server(settings, client, sqlite_engine) as url,
    ):
        env["AGENT_REGISTRY_API_URL"] = url
        target = await _stand_in(client, task_queue)
        ref = str(target)

        stranger = await agentreg_async("attest", ref, "--as", "mallory", **env)
        _one_line_error(stranger, "error: refused: mallory@localhost is not in team platform")
        attested = await agentreg_async("attest", ref, "--as", "owner", **env)
        assert attested.code == 0, attested.stderr
        assert f"{ref}: attested by {OWNER} as {OWNER} (identity unverified" in attested.stdout
        # A fresh update id per attempt: the second is judged, not deduplicated.
        again = await agentreg_async("attest", ref, "--as", "owner", **env)
        _one_line_error(again, f"refused: already attested by {OWNER}")

        deprecated = await agentreg_async(
            "deprecate",
            ref,
            "--reason",
            "replaced",
            "--replacement",
            "skill/pdf-report@2.0.0",
            "--sunset",
            "2099-01-01",
            "--as",
            "owner",
            **env,
        )
        assert deprecated.code == 0, deprecated.stderr
        handle = client.get_workflow_handle(target.workflow_id, result_type=AssetStatus)
        final = await handle.result()
        assert final.deprecation is not None
        assert final.deprecation.sunset_at == SUNSET
        assert final.deprecation.replacement == "skill/pdf-report@2.0.0"
        assert final.deprecation.by == OWNER

        closed = await agentreg_async("attest", ref, "--as", "owner", **env)
        _one_line_error(closed, f"{ref} is Deprecated; there is nothing to attest")
