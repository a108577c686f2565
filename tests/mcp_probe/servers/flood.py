"""A server that floods stdout: one endless line (``line``) or endless short lines."""

from __future__ import annotations

import sys

sys.stderr.write("flood server starting; stdout will not stop\n")
sys.stderr.flush()
piece = b"x" * 65536 if sys.argv[1:] == ["line"] else b'{"not": "json-rpc"}\n' * 4096
while True:
    sys.stdout.buffer.write(piece)
