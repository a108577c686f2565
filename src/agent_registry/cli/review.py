"""``agentreg review approve|reject|request-changes REF``: vote on a review.

The vote goes to the registry server, which names the reviewer from the caller's
credential (``--as`` only in local mode, on trust). Where Slack identifies reviewers,
votes from the command line are refused (``AGENT_REGISTRY_CLI_REVIEWS``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from agent_registry.api.write_schemas import VOTES_PATH
from agent_registry.assets.refs import AssetRef
from agent_registry.cli.registry_writes import acted_as, send_write
from agent_registry.cli.render import plain
from agent_registry.cli.submit import AsOption
from agent_registry.config import Settings
from agent_registry.lifecycle.stages import Decision

app = typer.Typer(help="Vote on an asset version in review.", no_args_is_help=True)

RefArgument = Annotated[str, typer.Argument(help="The version, kind/name@version.")]
ReasonOption = Annotated[
    str | None, typer.Option(help="Why (required to reject or request changes).")
]


@app.command()
def approve(ref: RefArgument, as_user: AsOption = None, reason: ReasonOption = None) -> None:
    """Approve a version in review."""
    _vote(AssetRef.parse(ref), Decision.APPROVE, as_user, reason)


@app.command()
def reject(ref: RefArgument, as_user: AsOption = None, reason: ReasonOption = None) -> None:
    """Reject a version in review; its lifecycle ends."""
    _vote(AssetRef.parse(ref), Decision.REJECT, as_user, reason)


@app.command("request-changes")
def request_changes(
    ref: RefArgument, as_user: AsOption = None, reason: ReasonOption = None
) -> None:
    """Ask for changes; the submitter answers with `agentreg revise`."""
    _vote(AssetRef.parse(ref), Decision.REQUEST_CHANGES, as_user, reason)


def _vote(ref: AssetRef, decision: Decision, as_user: str | None, reason: str | None) -> None:
    settings = Settings()
    body = {"ref": str(ref), "decision": decision.value, "reason": reason}
    reply = send_write(settings, VOTES_PATH, body, as_user=as_user)
    plain(f"{ref}: {reply.message} {acted_as(reply)}")
