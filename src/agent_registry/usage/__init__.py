"""Usage telemetry: which registry assets agents actually use, counted without slowing them.

The Claude Code hook (``agentreg hook usage``) reads one tool call, keeps it only if it
is a registry skill, subagent or MCP tool, appends it to a local spool and, now and
then, sends the spool to the registry in one batch under a hard time budget. Each module
has one job:

- :mod:`~agent_registry.usage.hook_input`: the hook's JSON and which asset a call used;
- :mod:`~agent_registry.usage.installed`: what the install command recorded in a project;
- :mod:`~agent_registry.usage.identity`: who is using it, and for which team;
- :mod:`~agent_registry.usage.paths`: where the spool and the log live;
- :mod:`~agent_registry.usage.spool`: appending, claiming and removing spooled events;
- :mod:`~agent_registry.usage.flush`: when to send, and sending within a budget;
- :mod:`~agent_registry.usage.registry`: the API or database a batch goes to;
- :mod:`~agent_registry.usage.hook`: the whole hook, which never fails its caller;
- :mod:`~agent_registry.usage.quiet` and :mod:`~agent_registry.usage.entry`: the hook
  as a process, silent on stdout and stderr (also ``python -m agent_registry.usage``).
"""

from __future__ import annotations

import logging

# A send abandoned at the time budget may still log after the hook has stopped routing
# logs to its file; without a handler of its own, Python would print that on stderr.
logging.getLogger(__name__).addHandler(logging.NullHandler())
