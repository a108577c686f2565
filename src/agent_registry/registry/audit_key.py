"""Where the audit key comes from, and the embedded stack's own.

An unkeyed chain is only a checksum: anyone who can write to the database can rewrite
a row and re-hash every later one. So ``make up`` generates an audit key on first start
(32 random bytes, mode 0600, in the data folder and never in the database), as it does
the signing key, and every writer of that stack (worker, server, CLI) keys the chain
with it. A CLI started in another terminal finds it in the data folder without being
told; a production deployment names its key with ``AGENT_REGISTRY_AUDIT_KEY``.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from agent_registry.registry.audit_chain import MIN_KEY_BYTES, load_audit_key

AUDIT_KEY_FILE = "audit.key"
AUDIT_VARIABLE = "AGENT_REGISTRY_AUDIT_KEY"


def generate_audit_key(path: Path) -> None:
    """Write a new random audit key to ``path`` (mode 0600); never overwrites one.

    Raises:
        FileExistsError: ``path`` exists already.
    """
    secret = base64.b64encode(secrets.token_bytes(MIN_KEY_BYTES)) + b"\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(secret)


def embedded_audit_key(data_dir: Path, env: Mapping[str, str]) -> tuple[dict[str, str], bool]:
    """The variable that gives the embedded worker and server their audit key.

    Returns:
        ``({AGENT_REGISTRY_AUDIT_KEY: path}, created)``; nothing, and False, when the
        environment names a key already. ``created`` says the key is new, so a chain
        written before it is keyed once (``agentreg audit rekey``'s check first).
    """
    if env.get(AUDIT_VARIABLE, "").strip():
        return {}, False
    key = data_dir / AUDIT_KEY_FILE
    created = not key.exists()
    if created:
        generate_audit_key(key)
    return {AUDIT_VARIABLE: str(key)}, created


def audit_key_path(configured: Path | None, data_dir: Path) -> Path | None:
    """The audit key's file: the configured one, else the embedded stack's, if it exists.

    Without the fallback a CLI command run beside ``make up`` would append unkeyed rows
    to a keyed chain (or verify without the key and call a rewrite intact).
    """
    if configured is not None:
        return configured
    embedded = data_dir / AUDIT_KEY_FILE
    return embedded if embedded.is_file() else None


def resolve_audit_key(configured: Path | None, data_dir: Path) -> bytes | None:
    """The audit key's bytes (see :func:`audit_key_path`), or None when there is none.

    Raises:
        ValueError: The file is unreadable or too short; names the file.
    """
    path = audit_key_path(configured, data_dir)
    return None if path is None else load_audit_key(path)
