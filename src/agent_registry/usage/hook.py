"""The usage hook from stdin to spool to registry; whatever happens, the agent goes on.

Claude Code runs the hook on every matching tool call and may read its stdout, so the
hook prints nothing, exits 0 and keeps its failures in a log file. The steps are
:func:`record_use` (parse, resolve, append: a few milliseconds) and, only when the
spool is due, :func:`~agent_registry.usage.flush.flush_within` under a hard budget.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agent_registry.catalog.models import UsageEvent
from agent_registry.usage import spool
from agent_registry.usage.flush import (
    FlushOutcome,
    FlushPolicy,
    UsageSink,
    back_off,
    flush_due,
    flush_within,
)
from agent_registry.usage.hook_input import HookInputError, asset_use, parse_hook_input
from agent_registry.usage.identity import identity_from
from agent_registry.usage.installed import claude_dirs, resolve
from agent_registry.usage.paths import UsagePaths, usage_paths

logger = logging.getLogger(__name__)

PROJECT_DIR_VARIABLE = "CLAUDE_PROJECT_DIR"
"""Set by Claude Code for hook commands: the project's root."""

SinkOpener = Callable[[], UsageSink]


@dataclass(frozen=True)
class HookRun:
    """Everything one hook run reads from outside, so a test can give all of it.

    Attributes:
        env: The environment (attribution, folders, thresholds).
        home: The user's home folder.
        now: The time the use is stamped with.
        policy: When to flush and the time budget.
        load_sink: Loads the registry client and returns its opener; called only when
            a flush is due, so a hook that only spools never imports it.
    """

    env: Mapping[str, str]
    home: Path
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    policy: FlushPolicy = field(default_factory=FlushPolicy)
    load_sink: Callable[[], SinkOpener] | None = None

    @property
    def paths(self) -> UsagePaths:
        """The usage folder for this environment."""
        return usage_paths(self.env, self.home)


@dataclass(frozen=True)
class HookResult:
    """What a hook run did, for tests and the log."""

    recorded: UsageEvent | None
    flush: FlushOutcome


def event_for(stdin_text: str, run: HookRun) -> UsageEvent | None:
    """The usage event a hook call describes, or None if it used no registry asset.

    Raises:
        HookInputError: stdin is not a hook call.
    """
    call = parse_hook_input(stdin_text)
    use = asset_use(call)
    if use is None:
        return None
    project = run.env.get(PROJECT_DIR_VARIABLE) or call.cwd
    asset = resolve(use, claude_dirs(Path(project) if project else None, run.home))
    if asset is None:
        return None
    who = identity_from(run.env)
    return UsageEvent(
        kind=asset.kind,
        name=asset.name,
        version=asset.version,
        tool=use.tool,
        team=who.team,
        user=who.user,
        session=call.session_id,
        at=run.now,
        event_id=_event_id(call.session_id, call.tool_use_id),
    )


def record_use(stdin_text: str, run: HookRun) -> UsageEvent | None:
    """Parse a hook call and spool its use; never raises.

    Returns:
        The spooled event, or None when there was nothing to count or it was dropped.
    """
    try:
        event = event_for(stdin_text, run)
        if event is not None:
            spool.append(run.paths, event)
        return event
    except HookInputError as error:
        logger.warning("ignored hook input: %s", error)
    except (spool.SpoolBusyError, spool.SpoolFullError) as error:
        logger.warning("dropped a use: %s", error)
    except Exception:  # the hook's contract: never fail the agent's tool call
        logger.exception("could not record a use")
    return None


def run_hook(stdin_text: str, run: HookRun) -> HookResult:
    """Record the call's use, then flush the spool if due within the budget; never raises.

    Args:
        stdin_text: What Claude Code wrote on stdin.
        run: The environment, clock, thresholds and registry opener.

    Returns:
        The spooled event (if any) and how the flush ended.
    """
    event = record_use(stdin_text, run)
    if run.load_sink is None:
        return HookResult(event, FlushOutcome.NOT_DUE)
    try:
        if not flush_due(run.paths, run.policy, run.now):
            return HookResult(event, FlushOutcome.NOT_DUE)
        # Loading the registry client (imports, settings) happens before the clock starts:
        # it is paid once per flush, and the budget is for the network or the database.
        opener = run.load_sink()
    except LookupError as error:  # nothing configured to send to: expected, not a bug
        logger.warning("usage kept in the spool: %s", error)
        back_off(run.paths, run.now)
        return HookResult(event, FlushOutcome.FAILED)
    except Exception:
        logger.exception("cannot open the registry to send usage")
        back_off(run.paths, run.now)
        return HookResult(event, FlushOutcome.FAILED)
    return HookResult(event, flush_within(run.paths, opener, run.policy, now=run.now))


def policy_from(env: Mapping[str, str]) -> FlushPolicy:
    """Thresholds from ``AGENT_REGISTRY_USAGE_*`` variables, defaults otherwise.

    ``AGENT_REGISTRY_USAGE_FLUSH_SECONDS``, ``AGENT_REGISTRY_USAGE_FLUSH_EVENTS`` and
    ``AGENT_REGISTRY_USAGE_BUDGET_MS`` tune when a batch goes and how long the hook may
    spend sending it; a value that is not a number keeps the default.
    """
    default = FlushPolicy()
    return FlushPolicy(
        max_age_seconds=_number(env, "AGENT_REGISTRY_USAGE_FLUSH_SECONDS", default.max_age_seconds),
        max_events=int(_number(env, "AGENT_REGISTRY_USAGE_FLUSH_EVENTS", default.max_events)),
        budget_seconds=_number(env, "AGENT_REGISTRY_USAGE_BUDGET_MS", 1000 * default.budget_seconds)
        / 1000,
        chunk_size=default.chunk_size,
    )


def _event_id(session: str | None, tool_use_id: str | None) -> str:
    """Claude's call id when there is one, so a Pre and a Post hook count one use."""
    if tool_use_id:
        return hashlib.sha256(f"{session}\x00{tool_use_id}".encode()).hexdigest()[:32]
    return uuid.uuid4().hex


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(env[name])
    except (KeyError, ValueError):
        return default
    return value if value >= 0 else default
