"""Imported by the check processes' forkserver only: hardens it, and so its children.

The worker marks itself not dumpable (``agent_registry.hardening``) so that no process
of its user can read its credentials from ``/proc/<pid>/environ``. The forkserver is
started with ``exec``, which makes a process dumpable again, and with the worker's
environment; marked here, as it starts, it and every check process forked from it keep
the worker's protection. It also ignores SIGTERM, as the children do: a SIGTERM to the
worker's whole process group (systemd's default) would otherwise end the forkserver, and
its children's pool would count them dead in the middle of the checks the worker's
drain waits for; it still leaves when the worker does, through its liveness pipe.
Nothing else imports this module.
"""

from __future__ import annotations

import signal

from agent_registry.hardening import forbid_same_user_inspection

forbid_same_user_inspection()
signal.signal(signal.SIGTERM, signal.SIG_IGN)
