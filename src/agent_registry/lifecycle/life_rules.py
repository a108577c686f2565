"""Who may attest a re-certification or deprecate a version, and when.

Pure functions over the workflow's state, like :mod:`agent_registry.lifecycle.review_rules`, so the
update validators stay one line and the rules are tested without a server.
"""

from __future__ import annotations

from datetime import datetime

from agent_registry.lifecycle.contract import AssetStatus, AttestInput, DeprecateInput
from agent_registry.lifecycle.membership import members_include
from agent_registry.lifecycle.review_rules import channel_refusal
from agent_registry.lifecycle.stages import IN_CATALOG, Stage

DEPRECATABLE_STAGES = IN_CATALOG


def owner_members(status: AssetStatus) -> list[str]:
    """The owner team as policy knows it, else the people who submitted and wrote it."""
    if status.life is not None and status.life.attesters:
        return status.life.attesters
    return [status.submitter, *status.authors]


def _cli_allowed(status: AssetStatus) -> bool:
    """Whether decisions from the command line count for this version (its review plan's rule).

    The plan is read again at every re-certification's eval, so a registry that turned
    command-line decisions off applies it to attestations from the next cycle on.
    """
    return status.plan.cli_reviews if status.plan is not None else True


def attest_refusal(status: AssetStatus, attest: AttestInput) -> str | None:
    """Say why an attestation may not be given now, or None when it may."""
    who = attest.attester
    if not who:
        return "an attester identity is required"
    if status.stage is not Stage.RECERTIFYING:
        return f"{status.ref} is {status.stage.value}; attestation is asked only when it is due"
    if status.attested_by is not None:
        return f"{status.ref} was already attested by {status.attested_by}"
    channel = channel_refusal(attest.source, cli_allowed=_cli_allowed(status))
    if channel is not None:
        return channel
    if not members_include(owner_members(status), who, verified_groups=attest.groups):
        return f"{who} is not in team {status.owner_team}, which owns {status.ref}"
    return None


def deprecate_refusal(status: AssetStatus, request: DeprecateInput, *, now: datetime) -> str | None:
    """Say why a deprecation may not be made now, or None when it may.

    Args:
        status: The lifecycle's state.
        request: The deprecation asked for.
        now: The workflow's current time, to judge the sunset date.
    """
    if request.system is not None:
        return "only the registry itself deprecates as the system"
    who = request.actor
    if not who:
        return "an identity is required"
    if status.stage not in DEPRECATABLE_STAGES:
        return f"{status.ref} is {status.stage.value}; only a published version can be deprecated"
    if not request.reason.strip():
        return "a reason is required to deprecate"
    channel = channel_refusal(request.source, cli_allowed=_cli_allowed(status))
    if channel is not None:
        return channel
    deprecators = status.life.deprecators if status.life is not None else []
    allowed = members_include(
        owner_members(status), who, verified_groups=request.groups
    ) or members_include(deprecators, who, verified_groups=request.groups)
    if not allowed:
        return (
            f"{who} may not deprecate {status.ref}: only team {status.owner_team} "
            "and the platform team may"
        )
    if request.sunset is not None and request.sunset <= now:
        return f"the sunset date {request.sunset:%Y-%m-%d} is not in the future"
    if request.replacement is not None and request.replacement == str(status.ref):
        return "a version cannot replace itself"
    return None
