"""``agentreg submit`` and ``agentreg revise``: send an asset version into its lifecycle."""

from __future__ import annotations

import asyncio
import getpass
import time
from pathlib import Path, PurePosixPath
from typing import Annotated

import typer
from temporalio.client import Client

from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.bundle import SIDECAR_NAME
from agent_registry.assets.loader import load_path
from agent_registry.assets.metadata import resolve_metadata
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetRef
from agent_registry.assets.sidecar import SIDECAR_SUFFIX
from agent_registry.cli.errors import CliError
from agent_registry.cli.lifecycle_client import (
    LifecycleHandle,
    lifecycle_handle,
    query_status,
    start_lifecycle,
)
from agent_registry.cli.render import err, plain, print_status
from agent_registry.cli.staging import staged_revision
from agent_registry.config import Settings
from agent_registry.contract import (
    REVISE_UPDATE,
    AssetStatus,
    RevisionInput,
    Submission,
    VoteResult,
)
from agent_registry.evals.findings import Finding, Severity
from agent_registry.lifecycle import Stage
from agent_registry.temporal import connect, workflow_ui_url

SETTLED_WAIT_SECONDS = 60.0
"""How long ``submit`` waits for the eval before leaving the rest to ``agentreg status``."""

TRANSIENT_STAGES = frozenset({Stage.SUBMITTED, Stage.EVALUATING})

PathArgument = Annotated[
    Path, typer.Argument(help="A skill folder, a subagent .md file or an MCP server folder.")
]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Who you are (default: your login name).")
]
WaitOption = Annotated[
    bool, typer.Option("--wait/--no-wait", help="Wait for the eval result before returning.")
]


def current_user(as_user: str | None) -> str:
    """The identity to act as: ``--as`` when given, else the login name."""
    return (as_user or getpass.getuser()).strip()


def _checked(parsed: ParsedAsset, path: Path) -> ParsedAsset:
    """Refuse locally what could never be registered, before anything is started.

    The sidecar is checked here or never: it is not part of the stored bundle, so the
    worker's eval cannot see its problems (an unknown key, a malformed mark).
    """
    if parsed.manifest is None:
        details = "\n".join(f"  {p.location}: {p.message}" for p in parsed.problems)
        raise CliError(f"{path}: the manifest is invalid; nothing was submitted\n{details}")
    sidecar = [p for p in parsed.problems if p.severity is Severity.BLOCK and _in_sidecar(p)]
    if sidecar:
        details = "\n".join(f"  {p.location}: {p.message}" for p in sidecar)
        raise CliError(f"{path}: the registry sidecar is invalid; nothing was submitted\n{details}")
    return parsed


def _in_sidecar(problem: Finding) -> bool:
    """Whether a problem is in the registry sidecar (``agentreg.yaml`` or ``*.agentreg.yaml``)."""
    name = PurePosixPath(problem.file or "").name
    return name == SIDECAR_NAME or name.endswith(SIDECAR_SUFFIX)


def prepare_submission(
    settings: Settings,
    path: Path,
    *,
    submitter: str,
    team: str | None = None,
    version: str | None = None,
    changelog: str | None = None,
    authors: list[str] | None = None,
    machine_authored: bool | None = None,
) -> Submission:
    """Read, check and package an asset for its lifecycle; nothing is started.

    Flags override the metadata found in the asset or its sidecar.

    Raises:
        CliError: When the manifest is invalid.
        MetadataError: When team or version is missing or invalid.
        AssetLoadError: When the path is not an asset.
        BundleError: When the bundle is unsafe or too large.
    """
    parsed = _checked(load_path(path, limits=settings.bundle_limits), path)
    metadata = resolve_metadata(
        parsed.registry_metadata,
        kind=parsed.kind,
        owner_team=team,
        version=version,
        changelog=changelog,
        authors=authors,
        machine_authored=machine_authored,
        default_author=submitter,
    )
    assert parsed.manifest is not None
    ref = AssetRef(kind=parsed.kind, name=parsed.manifest.name, version=metadata.version)
    return Submission(
        ref=ref, metadata=metadata, submitter=submitter, archive=canonical_archive(parsed.bundle)
    )


def submit(
    path: PathArgument,
    team: Annotated[
        str | None, typer.Option(help="Owner team (overrides the asset's metadata).")
    ] = None,
    version: Annotated[str | None, typer.Option(help="Exact semantic version, e.g. 1.2.0.")] = None,
    changelog: Annotated[str | None, typer.Option(help="One line on what changed.")] = None,
    author: Annotated[list[str] | None, typer.Option(help="An author; repeat for several.")] = None,
    as_user: AsOption = None,
    machine_authored: Annotated[
        bool | None,
        typer.Option("--machine-authored/--human-authored", help="Whether a machine wrote it."),
    ] = None,
    wait: WaitOption = True,
) -> None:
    """Submit an asset version: it is stored, evaluated, then waits for review."""
    settings = Settings()
    submission = prepare_submission(
        settings,
        path,
        submitter=current_user(as_user),
        team=team,
        version=version,
        changelog=changelog,
        authors=author or None,
        machine_authored=machine_authored,
    )
    asyncio.run(_submit(settings, submission, wait=wait))


async def _submit(settings: Settings, submission: Submission, *, wait: bool) -> None:
    client = await connect()
    handle = await start_lifecycle(client, settings, submission=submission)
    ref = submission.ref
    plain(f"submitted {ref} as workflow {handle.id}")
    plain(f"  {_ui_link(client, settings, handle)}")
    if wait:
        await _report_settled(handle, ref)


async def _report_settled(handle: LifecycleHandle, ref: AssetRef, *, revision: int = 0) -> None:
    """Wait until the eval of ``revision`` has run, then say where the version stands.

    Raises:
        typer.Exit: Code 1 when the version failed its eval or was refused.
    """
    status = await _wait_settled(handle, revision=revision)
    if status is None:
        plain(f"still evaluating; follow it with `agentreg status {ref}`")
        return
    print_status(status)
    if status.stage is Stage.EVAL_FAILED:
        err.print(
            f"{ref} failed the eval bar; fix it and send `agentreg revise PATH`", markup=False
        )
        raise typer.Exit(code=1)
    if status.stage is Stage.IN_REVIEW:
        plain(f"next: a reviewer runs `agentreg review approve {ref} --as THEM`")


async def _wait_settled(handle: LifecycleHandle, *, revision: int) -> AssetStatus | None:
    deadline = time.monotonic() + SETTLED_WAIT_SECONDS
    while time.monotonic() < deadline:
        description = await handle.describe()
        if description.close_time is not None:
            # Ended before settling (a refused submission): surface its failure.
            await handle.result()
        status = await query_status(handle)
        if status.revision >= revision and status.stage not in TRANSIENT_STAGES:
            return status
        await asyncio.sleep(0.2)
    return None


def _ui_link(client: Client, settings: Settings, handle: LifecycleHandle) -> str:
    return workflow_ui_url(
        settings.ui_url,
        namespace=client.namespace,
        workflow_id=handle.id,
        run_id=handle.result_run_id,
    )


def prepare_revision(
    settings: Settings,
    target: AssetRef,
    path: Path,
    *,
    author: str,
    changelog: str | None = None,
) -> RevisionInput:
    """Read, check and package new content for ``target``; nothing is sent.

    Raises:
        CliError: When the manifest is invalid or names another asset.
    """
    parsed = _checked(load_path(path, limits=settings.bundle_limits), path)
    assert parsed.manifest is not None
    if parsed.kind is not target.kind or parsed.manifest.name != target.name:
        raise CliError(
            f"{path} holds {parsed.kind.value}/{parsed.manifest.name}, "
            f"not {target.kind.value}/{target.name}"
        )
    return RevisionInput(
        author=author,
        archive=canonical_archive(parsed.bundle),
        changelog=changelog,
        false_positives=parsed.registry_metadata.false_positives or [],
    )


def revise(
    ref: Annotated[str, typer.Argument(help="The version to revise, kind/name@version.")],
    path: PathArgument,
    changelog: Annotated[str | None, typer.Option(help="Replaces the changelog line.")] = None,
    as_user: AsOption = None,
    wait: WaitOption = True,
) -> None:
    """Send new content for a version that failed its eval or had changes requested."""
    settings = Settings()
    target = AssetRef.parse(ref)
    revision = staged_revision(
        settings,
        prepare_revision(settings, target, path, author=current_user(as_user), changelog=changelog),
    )
    asyncio.run(_revise(target, revision, wait=wait))


async def _revise(ref: AssetRef, revision: RevisionInput, *, wait: bool) -> None:
    client = await connect()
    handle = await lifecycle_handle(client, ref)
    before = await query_status(handle)
    result = await handle.execute_update(REVISE_UPDATE, revision, result_type=VoteResult)
    plain(f"{ref}: {result.message}")
    if wait:
        await _report_settled(handle, ref, revision=before.revision + 1)
