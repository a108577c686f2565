"""``python -m agent_registry.usage``: the usage hook without the CLI's start-up cost."""

from __future__ import annotations

import os
import sys

from agent_registry.usage.entry import hook_main

if __name__ == "__main__":
    hook_main(getattr(sys.stdin, "buffer", None))
    sys.stdout.flush()
    # A flush that outlived its budget is still running in a daemon thread; leave now.
    os._exit(0)
