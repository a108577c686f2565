"""Keeping the hook silent: its logs go to a small file, never to Claude Code's pipes.

Claude Code may read a hook's stdout as instructions and shows its stderr to the user,
so for the hook's duration every log record, warning and stray print goes to
``usage-hook.log`` instead (rotated at a small size; one old file is kept).
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

MAX_LOG_BYTES = 256 * 1024
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


@contextlib.contextmanager
def quiet(log_path: Path) -> Iterator[None]:
    """Send logs, warnings, stdout and stderr to ``log_path`` for the block.

    If the log cannot be opened, everything is discarded instead; the hook still runs.
    """
    handler: logging.Handler
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = logging.handlers.RotatingFileHandler(
            log_path, maxBytes=MAX_LOG_BYTES, backupCount=1, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
    except OSError:
        handler = logging.NullHandler()
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    stray = io.StringIO()
    try:
        with contextlib.redirect_stdout(stray), contextlib.redirect_stderr(stray):
            yield
    finally:
        if stray.getvalue().strip():
            logging.getLogger(__name__).warning("output: %s", stray.getvalue().strip()[:2000])
        logging.captureWarnings(False)
        root.removeHandler(handler)
        root.setLevel(saved_level)
        handler.close()
