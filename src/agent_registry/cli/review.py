"""``agentreg review approve|reject|request-changes REF --as USER``: vote on a review.

CLI reviews serve the embedded default, where identities are taken on trust; the Slack
app is where identities are verified.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from agent_registry.assets.refs import AssetRef
from agent_registry.cli.errors import CliError
from agent_registry.cli.lifecycle_client import is_running, lifecycle_handle, query_status
from agent_registry.cli.render import plain
from agent_registry.cli.submit import AsOption, current_user
from agent_registry.contract import DECISION_UPDATES, ReviewInput, VoteResult
from agent_registry.lifecycle import Decision
from agent_registry.temporal import connect

app = typer.Typer(help="Vote on an asset version in review.", no_args_is_help=True)

RefArgument = Annotated[str, typer.Argument(help="The version, kind/name@version.")]
ReasonOption = Annotated[
    str | None, typer.Option(help="Why (required to reject or request changes).")
]


@app.command()
def approve(ref: RefArgument, as_user: AsOption = None, reason: ReasonOption = None) -> None:
    """Approve a version in review."""
    asyncio.run(_vote(AssetRef.parse(ref), Decision.APPROVE, current_user(as_user), reason))


@app.command()
def reject(ref: RefArgument, as_user: AsOption = None, reason: ReasonOption = None) -> None:
    """Reject a version in review; its lifecycle ends."""
    asyncio.run(_vote(AssetRef.parse(ref), Decision.REJECT, current_user(as_user), reason))


@app.command("request-changes")
def request_changes(
    ref: RefArgument, as_user: AsOption = None, reason: ReasonOption = None
) -> None:
    """Ask for changes; the submitter answers with `agentreg revise`."""
    asyncio.run(_vote(AssetRef.parse(ref), Decision.REQUEST_CHANGES, current_user(as_user), reason))


async def _vote(ref: AssetRef, decision: Decision, reviewer: str, reason: str | None) -> None:
    client = await connect()
    handle = await lifecycle_handle(client, ref)
    if not await is_running(handle):
        status = await query_status(handle)
        raise CliError(f"{ref} is {status.stage.value}; its review is over")
    result = await handle.execute_update(
        DECISION_UPDATES[decision],
        ReviewInput(reviewer=reviewer, reason=reason, source="cli"),
        # Each invocation is a new vote; the validator refuses a second one by the
        # same reviewer with the reason, which a reused id would hide.
        id=f"cli/{decision.value}/{uuid.uuid4()}",
        result_type=VoteResult,
    )
    plain(f"{ref}: {result.message}")
