"""Caps on what one request may ask for or carry, shared by the server and its client.

The telemetry routes are open to every machine that runs the usage hook, so what one
request may cost is bounded before any of it reaches the database. The client splits
its batches by the same numbers, so it never sends what the server would refuse.
"""

from __future__ import annotations

MAX_USAGE_BATCH = 500
"""The most usage events one ``POST /api/v1/usage`` may carry."""

MAX_USAGE_BODY_BYTES = 1024 * 1024
"""The largest usage batch body: 500 events of about 2 KiB each."""

MAX_INSTALL_BODY_BYTES = 64 * 1024
"""The largest install event body; a real one is a few hundred bytes."""

MAX_QUERY_CHARS = 500
"""The longest search text; longer is not a search a person typed."""

MAX_TEXT_PARAM_CHARS = 300
"""The longest team, name or version a query or path may carry."""

MAX_OFFSET = 2**31 - 1
"""The largest ``offset``: beyond every catalog, and within every database's integers."""

HEALTH_TIMEOUT_SECONDS = 5.0
"""How long ``/healthz`` waits for the database before reporting it unavailable."""
