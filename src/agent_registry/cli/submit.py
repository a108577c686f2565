"""``agentreg submit`` and ``agentreg revise``: send an asset version into its lifecycle.

Both read and check the asset here, then send it to the registry server (see
:mod:`agent_registry.cli.registry_writes`), which names the submitter from the caller's
credential, decides machine authorship from it, and starts or updates the lifecycle.
"""

from __future__ import annotations

import getpass
import time
from pathlib import Path, PurePosixPath
from typing import Annotated

import typer

from agent_registry.api.write_schemas import REVISIONS_PATH, SUBMISSIONS_PATH
from agent_registry.assets.archive import canonical_archive
from agent_registry.assets.bundle import SIDECAR_NAME
from agent_registry.assets.loader import load_path
from agent_registry.assets.metadata import resolve_metadata
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.assets.refs import AssetRef
from agent_registry.assets.sidecar import SIDECAR_SUFFIX
from agent_registry.cli.errors import CliError
from agent_registry.cli.registry_writes import acted_as, archive_text, read_status, send_write
from agent_registry.cli.render import err, plain, print_status
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import (
    AssetStatus,
    RevisionInput,
    Submission,
)
from agent_registry.lifecycle.stages import IN_FLIGHT, Stage
from agent_registry.vocabulary.findings import Finding, Severity

SETTLED_WAIT_SECONDS = 60.0
"""How long ``submit`` waits for the eval before leaving the rest to ``agentreg status``."""

PathArgument = Annotated[
    Path, typer.Argument(help="A skill folder, a subagent .md file or an MCP server folder.")
]
AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Local mode only: the email you act as, taken on trust (default: your login "
        "name, as name@localhost). With an identity provider, you are who agentreg login says.",
    ),
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
    wait: WaitOption = True,
) -> None:
    """Submit an asset version: it is stored, evaluated, then waits for review.

    Whether a machine wrote it is not declared: the server records a submission made
    with a machine's credential (a CI bot's client credentials) as machine-authored.
    """
    settings = Settings()
    submission = prepare_submission(
        settings,
        path,
        submitter="",
        team=team,
        version=version,
        changelog=changelog,
        authors=author or None,
    )
    metadata = submission.metadata.model_copy(
        update={"authors": [a for a in submission.metadata.authors if a.strip()]}
    )
    body = {
        "ref": str(submission.ref),
        "metadata": metadata.model_dump(mode="json"),
        "archive": archive_text(submission.archive),
    }
    reply = send_write(settings, SUBMISSIONS_PATH, body, as_user=as_user)
    plain(f"{reply.message} {acted_as(reply)}")
    if reply.ui_link:
        plain(f"  {reply.ui_link}")
    if wait:
        _report_settled(settings, submission.ref)


def _report_settled(settings: Settings, ref: AssetRef, *, revision: int = 0) -> None:
    """Wait until the eval of ``revision`` has run, then say where the version stands.

    Raises:
        typer.Exit: Code 1 when the version failed its eval or was refused.
    """
    status = _wait_settled(settings, ref, revision=revision)
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
        plain(f"next: a reviewer (not you) runs `agentreg review approve {ref}`")


def _wait_settled(settings: Settings, ref: AssetRef, *, revision: int) -> AssetStatus | None:
    """Follow the lifecycle through the server until its eval of ``revision`` settled."""
    deadline = time.monotonic() + SETTLED_WAIT_SECONDS
    while time.monotonic() < deadline:
        reply = read_status(settings, str(ref))
        status = reply.status
        if status.revision >= revision and status.stage not in IN_FLIGHT:
            return status
        if not reply.running:
            raise CliError(f"{ref} ended {status.stage.value} before its eval settled")
        time.sleep(0.2)
    return None


def prepare_revision(
    settings: Settings,
    target: AssetRef,
    path: Path,
    *,
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
    revision = prepare_revision(settings, target, path, changelog=changelog)
    before = read_status(settings, str(target)).status
    body = {
        "ref": str(target),
        "archive": archive_text(revision.archive),
        "changelog": revision.changelog,
        "false_positives": [m.model_dump(mode="json") for m in revision.false_positives or []],
    }
    reply = send_write(settings, REVISIONS_PATH, body, as_user=as_user)
    plain(f"{target}: {reply.message} {acted_as(reply)}")
    if wait:
        _report_settled(settings, target, revision=before.revision + 1)
