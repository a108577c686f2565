"""A server that never answers, ignores SIGTERM and leaves a child process behind.

The child carries the marker given as the first argument in its command line, so a test
can check (by scanning /proc) that no process of the server outlives the probe.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", sys.argv[1]])
while True:
    time.sleep(1)
