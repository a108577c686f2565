"""``agentreg install``, ``agentreg export …`` and ``agentreg hook guard``.

Each reads the catalog through :func:`agent_registry.distribution.source.open_catalog`,
so the same commands work on a machine that only reaches the registry's API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from agent_registry.catalog.http import CatalogApiError
from agent_registry.catalog.models import CatalogNotFoundError, CatalogSource, InstallEvent
from agent_registry.cli.errors import CliError
from agent_registry.cli.render import err, plain
from agent_registry.cli.submit import current_user
from agent_registry.config import Settings
from agent_registry.distribution.errors import DistributionError
from agent_registry.distribution.install import InstallOutcome, install_version
from agent_registry.distribution.managed_settings import GUARD_COMMAND, export_managed_settings
from agent_registry.distribution.marketplace import (
    DEFAULT_NAME,
    DEFAULT_OWNER,
    export_marketplace,
)
from agent_registry.distribution.source import NoRegistryError, open_catalog
from agent_registry.distribution.verify import verify_project
from agent_registry.signing.errors import SignatureError, SigningKeyError
from agent_registry.signing.trust import trusted_keyring

export_app = typer.Typer(
    help="Export the published catalog for Claude Code: a plugin marketplace, managed settings.",
    no_args_is_help=True,
)


@contextmanager
def catalog_errors() -> Iterator[None]:
    """Turn what reading the catalog or distributing can refuse into one plain line."""
    try:
        yield
    except (
        CatalogNotFoundError,
        DistributionError,
        NoRegistryError,
        CatalogApiError,
        SigningKeyError,
        ValueError,
    ) as error:
        raise CliError(str(error)) from None


def warn(message: str) -> None:
    """A warning on stderr: something the user should know, that did not stop the command."""
    err.print(f"[bold yellow]warning:[/] {escape(message)}")


def install(
    ref: Annotated[
        str, typer.Argument(help="kind/name@version, or kind/name for the latest published.")
    ],
    into: Annotated[
        Path, typer.Option("--into", help="The project to install into (default: here).")
    ] = Path("."),
    team: Annotated[
        str | None,
        typer.Option(envvar="AGENT_REGISTRY_TEAM", help="Your team, for the install count."),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as", envvar="AGENT_REGISTRY_USER", help="Who you are (default: your login)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace files install did not put there.")
    ] = False,
) -> None:
    """Install a published skill, subagent or MCP server into a project for Claude Code.

    The registry's answer is checked against the ref, the signed publication against
    the trusted keys (AGENT_REGISTRY_TRUSTED_KEYS) and the bundle against the signed
    content hash and file list before anything is written; a retired version is refused
    (with its replacement named) and a deprecated one installed with a warning. Files
    install did not put there are not overwritten without --force. The install is
    counted in the registry; if that fails, it only warns.
    """
    if not into.is_dir():
        raise CliError(f"{into} is not a folder; --into names the project to install into")
    settings = Settings()
    now = datetime.now(UTC)
    with catalog_errors():
        keyring = trusted_keyring(settings)
        catalog = open_catalog(settings)
        outcome = install_version(
            catalog,
            ref,
            project=into.resolve(),
            limits=settings.bundle_limits,
            now=now,
            force=force,
            keyring=keyring,
        )
    for message in outcome.warnings:
        warn(message)
    _report_install(outcome, into)
    if outcome.unchanged:
        return  # nothing was installed, so there is no install to count
    problem = record_install(catalog, outcome, team=team, user=current_user(as_user), now=now)
    if problem is not None:
        warn(problem)


def verify(
    directory: Annotated[
        Path, typer.Argument(help="The project whose installed assets to check.")
    ] = Path("."),
) -> None:
    """Check that every registry asset installed in a project is the signed, reviewed content.

    Each install's signed publication is verified with the trusted keys
    (AGENT_REGISTRY_TRUSTED_KEYS) and the files on disk compared with the files it
    lists; exit 1 naming each asset that differs. Works offline.
    """
    settings = Settings()
    try:
        checked = verify_project(directory.resolve(), keyring=trusted_keyring(settings))
    except (SignatureError, SigningKeyError) as error:
        raise CliError(str(error)) from None
    if not checked:
        plain(f"no registry assets are installed in {directory}")
        return
    bad = [item for item in checked if item.problem is not None]
    for item in checked:
        if item.problem is None:
            plain(f"ok      {item.ref} ({item.where})")
        else:
            err.print(
                f"[bold red]changed[/] {escape(item.ref)} ({item.where}): {escape(item.problem)}"
            )
    if bad:
        raise typer.Exit(1)


def _report_install(outcome: InstallOutcome, into: Path) -> None:
    where = ", ".join(outcome.written)
    if outcome.unchanged:
        plain(f"{outcome.version.ref} is already installed in {into} (nothing changed)")
        return
    replaced = f" (replacing {outcome.previous})" if outcome.previous else ""
    plain(f"installed {outcome.version.ref} into {into}{replaced}: {where}")


def record_install(
    catalog: CatalogSource, outcome: InstallOutcome, *, team: str | None, user: str, now: datetime
) -> str | None:
    """Count the install in the registry; a failure is returned, never raised.

    The files are in place by now and work without the count, so a registry that cannot
    take it must not turn a good install into a failed command.
    """
    event = InstallEvent(
        ref=outcome.version.ref, team=team, user=user, at=now, event_id=uuid.uuid4().hex
    )
    try:
        catalog.record_install(event)
    except Exception as error:  # the install itself succeeded; only the count is lost
        return f"the install was not counted in the registry ({error})"
    return None


@export_app.command()
def marketplace(
    directory: Annotated[Path, typer.Argument(help="The marketplace root to write.")],
    name: Annotated[str, typer.Option(help="Marketplace name users install from.")] = (
        DEFAULT_NAME
    ),
    owner: Annotated[str, typer.Option(help="Maintainer shown for the marketplace.")] = (
        DEFAULT_OWNER
    ),
) -> None:
    """Write a Claude Code plugin marketplace with one plugin per published asset.

    Writes DIRECTORY/.claude-plugin/marketplace.json and DIRECTORY/plugins/; deprecated
    assets are marked, retired ones mapped to their replacement under ``renames``.
    """
    settings = Settings()
    with catalog_errors():
        written = export_marketplace(
            open_catalog(settings),
            directory,
            limits=settings.bundle_limits,
            name=name,
            owner=owner,
        )
    for message in written.skipped:
        warn(f"left out {message}")
    plain(f"wrote {written.path} with {len(written.plugins)} plugin(s)")
    if written.deprecated:
        plain(f"  marked deprecated: {', '.join(written.deprecated)}")
    for old, new in written.renames.items():
        plain(f"  renames {old} → {new or 'removed'}")
    plain(f"  add it in Claude Code: /plugin marketplace add {directory.resolve()}")


@export_app.command("managed-settings")
def managed_settings(
    file: Annotated[Path, typer.Argument(help="The managed settings JSON file to write.")],
    with_guard: Annotated[
        bool, typer.Option("--with-guard", help="Also run `agentreg hook guard` before tools.")
    ] = False,
    guard_command: Annotated[
        str, typer.Option(help="The command line the guard hook runs.")
    ] = GUARD_COMMAND,
) -> None:
    """Write Claude Code managed settings allowing only published MCP servers.

    Published servers are allowlisted by command or URL with their declared tools
    pre-approved; deprecated and retired ones are denied. A server that runs its own
    bundled files is allowed only --with-guard, which pins it by content. The guard runs
    failing closed, with the registry's keys (AGENT_REGISTRY_TRUSTED_KEYS) inline. An
    existing FILE is merged.
    """
    settings = Settings()
    with catalog_errors():
        written = export_managed_settings(
            open_catalog(settings),
            file,
            limits=settings.bundle_limits,
            with_guard=with_guard,
            guard_command=guard_command,
            keyring=trusted_keyring(settings) if with_guard else None,
        )
    for message in written.policy.skipped:
        warn(f"left out {message}")
    policy = written.policy
    plain(
        f"wrote {file}: {len(policy.allowed_refs)} MCP server version(s) allowed, "
        f"{len(policy.denied_refs)} denied, {len(policy.allow_rules)} tool(s) pre-approved"
    )
    if with_guard:
        plain(f"  PreToolUse hook: {guard_command} --fail closed --trusted-keys … (see {file})")
