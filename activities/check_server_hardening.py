"""Imported by the check processes' forkserver only: marks it, and so its children, not dumpable.

The worker marks itself not dumpable (``agent_registry.hardening``) so that no process
of its user can read its credentials from ``/proc/<pid>/environ``. The forkserver is
started with ``exec``, which makes a process dumpable again, and with the worker's
environment; marked here, as it starts, it and every check process forked from it keep
the worker's protection. Nothing else imports this module.
"""

from __future__ import annotations

from agent_registry.hardening import forbid_same_user_inspection

forbid_same_user_inspection()
