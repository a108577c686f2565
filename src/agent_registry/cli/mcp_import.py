"""``agentreg import mcp``: bring MCP servers from an upstream registry into the lifecycle.

Two steps, because a declared scope is still required and only the submitter can
confirm it:

1. ``agentreg import mcp --from URL [--search S] [--name N]... --team T`` reads the
   chosen servers (the latest version of each) from any registry that speaks the MCP
   Registry API, checks every ``server.json`` against the published schema, and writes
   one draft folder per version under ``--into``: ``server.json`` exactly as upstream
   serves it, the sidecar, and a ``scope.yaml`` proposed from the live probe's findings
   (the tools the server really exposes). Nothing is submitted.
2. The submitter narrows each proposed tool's effects and deletes the proposal's first
   line; the same command with ``--submit`` then submits every chosen version as an
   ordinary submission (eval bar, probe, human review). It submits nothing while any
   draft is unconfirmed, missing or stale, and a version submitted before is reported,
   not submitted again.

``--watch 1d`` (with ``--name``) also asks the registry server to set up a Temporal
Schedule that submits each new upstream version of those servers once, carrying the
confirmed scope forward.

Both writes go to the registry server, like every other write (see
:mod:`agent_registry.cli.registry_writes`): submissions to its submission route, the
watch to ``POST /api/v1/mcp-watches``. The server names the submitter, and the watcher
whose the scheduled submissions are, from the caller's credential; the person
importing needs no Temporal credentials.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from agent_registry.api.mcp_watches import MCP_WATCHES_PATH, WatchReply
from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.kinds import SCOPE_FILE, SERVER_FILE
from agent_registry.assets.loader import AssetLoadError, load_path
from agent_registry.assets.metadata import MetadataError
from agent_registry.assets.refs import InvalidRefError, is_semver
from agent_registry.cli.errors import CliError
from agent_registry.cli.mcp_submit import Submitted, prepare_folder, send_prepared
from agent_registry.cli.registry_writes import credential_headers, request_json
from agent_registry.cli.render import plain
from agent_registry.config import Settings
from agent_registry.lifecycle.contract import Submission
from agent_registry.mcp_registry.drafts import DraftError, read_draft, server_text, write_draft
from agent_registry.mcp_registry.scope_proposal import proposal
from agent_registry.mcp_registry.upstream import (
    DEFAULT_UPSTREAM,
    TIMEOUT_SECONDS,
    UpstreamError,
    UpstreamVersion,
    fetch_chosen,
)
from agent_registry.policy.durations import parse_duration
from agent_registry.policy.loader import load_policy

DEFAULT_DRAFTS = Path("mcp-imports")

app = typer.Typer(help="Import assets from an upstream registry into the governed lifecycle.")

_PROBE_PROBLEMS = ("probe.failed", "probe.timeout", "probe.output-capped", "probe.not-probed")


@app.command("mcp")
def import_mcp(
    from_url: Annotated[
        str, typer.Option("--from", help="An MCP registry's base URL.")
    ] = DEFAULT_UPSTREAM,
    search: Annotated[
        str | None, typer.Option(help="Servers whose name contains this text.")
    ] = None,
    name: Annotated[
        list[str] | None, typer.Option("--name", help="A server name; repeat for several.")
    ] = None,
    team: Annotated[str | None, typer.Option(help="The owner team of the submissions.")] = None,
    into: Annotated[Path, typer.Option(help="Where the draft folders are.")] = DEFAULT_DRAFTS,
    submit: Annotated[
        bool, typer.Option("--submit", help="Submit the confirmed drafts of the chosen servers.")
    ] = False,
    probe: Annotated[
        bool, typer.Option("--probe/--no-probe", help="Propose the scope from a live probe.")
    ] = True,
    watch: Annotated[
        str | None,
        typer.Option(help="With --name: submit new upstream versions every interval (e.g. 1d)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds one upstream request may take.")
    ] = TIMEOUT_SECONDS,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Local mode only: the email you act as, taken on trust. With an identity "
            "provider, you are who agentreg login says.",
        ),
    ] = None,
) -> None:
    """Draft (or, with --submit, submit) MCP servers read from an upstream registry."""
    names = list(name or [])
    if watch is not None and not names:
        raise CliError("--watch needs the servers to watch: name each with --name")
    every = parse_duration(watch) if watch is not None else None
    settings = Settings()
    chosen = _fetch(from_url, search=search, names=names, timeout=timeout)
    if submit:
        _submit(settings, into, chosen, team=team, as_user=as_user)
    else:
        draft_all(settings, into, chosen, team=team, upstream=from_url, probe=probe)
    if every is not None:
        reply = watch_servers(
            settings, upstream=from_url, names=names, team=team, every=every, as_user=as_user
        )
        unverified = " (identity unverified: local mode)" if reply.identity == "unverified" else ""
        plain(
            f"watching {', '.join(reply.names)} at {from_url} every {watch} "
            f"(schedule {reply.schedule_id}); new versions are submitted as "
            f"{reply.principal}{unverified}"
        )


def _fetch(
    upstream: str, *, search: str | None, names: list[str], timeout: float
) -> list[UpstreamVersion]:
    try:
        chosen = asyncio.run(fetch_chosen(upstream, search=search, names=names, timeout=timeout))
    except UpstreamError as error:
        raise CliError(f"{error}; nothing was imported") from None
    if not chosen:
        raise CliError(f"{upstream} has no server matching the search; nothing was imported")
    return chosen


def draft_all(
    settings: Settings,
    root: Path,
    chosen: list[UpstreamVersion],
    *,
    team: str | None,
    upstream: str,
    probe: bool,
) -> None:
    """Write a draft of every chosen version (keeping those that exist); submit nothing."""
    for entry in chosen:
        if not is_semver(entry.version):
            plain(f"skipped {entry.name} {entry.version}: not a semantic version")
            continue
        try:
            draft = write_draft(
                root,
                name=entry.name,
                version=entry.version,
                server=entry.server,
                scope_text=_proposal(settings, entry, probe=probe),
                team=team,
                changelog=f"Imported from {upstream}.",
            )
        except DraftError as error:
            raise CliError(str(error)) from None
        state = "confirmed" if draft.confirmed else "scope proposed, to confirm"
        verb = "wrote" if draft.written else "kept"
        plain(f"{verb} {draft.folder} ({state})")
    plain(
        f"next: check each {SCOPE_FILE} under {root}, delete its first line to confirm, "
        "then run the same command with --submit"
    )


def _proposal(settings: Settings, entry: UpstreamVersion, *, probe: bool) -> str:
    """The proposed scope: the tools a live probe sees the server expose."""
    if not probe:
        return proposal(entry.name, [], note="the live probe was not run (--no-probe)")
    from agent_registry.evals.live import run_live_checks  # late: the probe loads the MCP SDK

    with tempfile.TemporaryDirectory(prefix="agentreg-import-") as folder:
        bundle = Path(folder) / entry.name.split("/")[1]
        bundle.mkdir()
        (bundle / SERVER_FILE).write_text(server_text(entry.server), encoding="utf-8")
        (bundle / SCOPE_FILE).write_text("tools: []\n", encoding="utf-8")
        parsed = load_path(bundle, limits=settings.bundle_limits)
        live = run_live_checks(
            parsed, load_policy(settings.policy), catalog=None, baseline=None, probe=True
        )
    problems = [f.message for f in live.findings if f.check_id in _PROBE_PROBLEMS]
    return proposal(
        entry.name,
        [fingerprint.name for fingerprint in live.fingerprints],
        note=problems[0] if problems else None,
    )


def _submit(
    settings: Settings,
    root: Path,
    chosen: list[UpstreamVersion],
    *,
    team: str | None,
    as_user: str | None,
) -> None:
    """Submit every chosen version through the server, or nothing when any draft is not ready."""
    prepared = ready_drafts(settings, root, chosen, submitter="", team=team)
    for submitted in submit_prepared(settings, prepared, as_user=as_user):
        if submitted.started:
            plain(
                f"submitted {submitted.ref} as workflow {submitted.workflow_id} "
                f"{submitted.acted_as}"
            )
        else:
            plain(f"already submitted {submitted.ref}; not submitted again")


def ready_drafts(
    settings: Settings,
    root: Path,
    chosen: list[UpstreamVersion],
    *,
    submitter: str,
    team: str | None,
) -> list[Submission]:
    """Every chosen version's submission, read from its confirmed draft.

    Raises:
        CliError: Listing every draft that is missing, stale or unconfirmed, or that
            ``agentreg submit`` would refuse; then nothing is to be submitted.
    """
    prepared, problems = prepare_drafts(settings, root, chosen, submitter=submitter, team=team)
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise CliError(f"nothing was submitted:\n{listed}")
    return prepared


def submit_prepared(
    settings: Settings, prepared: list[Submission], *, as_user: str | None
) -> list[Submitted]:
    """Send each prepared submission to the server; those submitted before are reported.

    Raises:
        CliError: The server refused the caller (401/403, its one line) or a submission.
    """
    return [send_prepared(settings, submission, as_user=as_user) for submission in prepared]


def prepare_drafts(
    settings: Settings,
    root: Path,
    chosen: list[UpstreamVersion],
    *,
    submitter: str,
    team: str | None,
) -> tuple[list[Submission], list[str]]:
    """Every chosen version's submission, and every reason one is not ready."""
    prepared: list[Submission] = []
    problems: list[str] = []
    for entry in chosen:
        if not is_semver(entry.version):
            continue
        try:
            draft = read_draft(root, name=entry.name, version=entry.version, server=entry.server)
        except DraftError as error:
            problems.append(str(error))
            continue
        if not draft.confirmed:
            problems.append(
                f"the scope of {entry.name} {entry.version} is still a proposal: check "
                f"{draft.folder / SCOPE_FILE} and delete its first line to confirm"
            )
            continue
        try:
            prepared.append(prepare_folder(settings, draft.folder, submitter=submitter, team=team))
        except (CliError, MetadataError, AssetLoadError, BundleError, InvalidRefError) as error:
            problems.append(f"{draft.folder}: {error}")
    return prepared, problems


def watch_servers(
    settings: Settings,
    *,
    upstream: str,
    names: list[str],
    team: str | None,
    every: timedelta,
    as_user: str | None,
) -> WatchReply:
    """Ask the server to create (or update) the schedule importing new versions of ``names``.

    Raises:
        CliError: The server refused the caller (401/403, its one line) or the watch.
    """
    body = {
        "upstream": upstream,
        "names": names,
        "team": team,
        "every_seconds": int(every.total_seconds()),
    }
    data = request_json(
        settings, MCP_WATCHES_PATH, body, headers=credential_headers(settings, as_user)
    )
    return WatchReply.model_validate(data)
