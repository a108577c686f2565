"""A server that never answers, ignores SIGTERM and leaves a child process behind.

It writes its own pid and its child's to ``pids.txt`` so a test can check that the
whole process group is gone after the probe.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
Path("pids.txt").write_text(f"{os.getpid()} {child.pid}\n")
while True:
    time.sleep(1)
