"""Turn what can go wrong into one plain sentence for the person at the terminal.

Server refusals, missing lifecycles, unreachable services and bad input all end here;
nothing the user did wrong produces a traceback.
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from agent_registry.assets.bundle_problems import BundleError
from agent_registry.assets.loader import AssetLoadError
from agent_registry.assets.metadata import MetadataError
from agent_registry.assets.refs import InvalidRefError
from agent_registry.lifecycle.client import already_submitted_message
from agent_registry.policy.loader import PolicyError
from agent_registry.registry.errors import RegistryError
from agent_registry.vocabulary.findings import Finding


class CliError(Exception):
    """A failure already phrased for the user."""


def _problem_lines(problems: list[Finding]) -> str:
    return "\n".join(
        f"  {p.location}: {p.message}" if p.location else f"  {p.message}" for p in problems
    )


def explain(error: BaseException) -> str | None:
    """Phrase a known failure for the user, or None for a genuine bug.

    Args:
        error: What a command raised.

    Returns:
        The message to print on stderr, or None when the error is unexpected.
    """
    if isinstance(error, CliError | InvalidRefError | PolicyError | RegistryError):
        return str(error)
    if isinstance(error, AssetLoadError | BundleError | MetadataError):
        return f"{_first_line(error)}\n{_problem_lines(error.problems)}"
    if isinstance(error, WorkflowAlreadyStartedError):
        return already_submitted_message(error.workflow_id)
    if isinstance(error, WorkflowUpdateFailedError):
        return f"refused: {_cause_message(error)}"
    if isinstance(error, WorkflowFailureError):
        return f"the lifecycle failed: {_cause_message(error)}"
    if isinstance(error, RPCError):
        return _rpc_message(error)
    if isinstance(error, OperationalError):
        return f"cannot use the registry database: {error.orig}"
    if isinstance(error, RuntimeError) and "connect" in str(error).lower():
        return (
            f"cannot reach Temporal ({error}); is the stack running (`make up`), "
            "or is TEMPORAL_ADDRESS right?"
        )
    return None


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def _cause_message(error: BaseException) -> str:
    cause = error.__cause__
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or error)


def _rpc_message(error: RPCError) -> str:
    if error.status is RPCStatusCode.NOT_FOUND:
        return f"not found: {error.message}"
    if error.status is RPCStatusCode.UNAVAILABLE:
        return f"Temporal is unavailable ({error.message}); is the stack running (`make up`)?"
    return f"Temporal refused the request: {error.message}"
