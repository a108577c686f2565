"""``make up`` signs what it publishes, and keeps the key from the probe worker."""

from __future__ import annotations

import stat
from pathlib import Path

from agent_registry.cli.devstack import probe_environment
from agent_registry.signing.embedded import KEYRING_FILE, embedded_signing
from agent_registry.signing.keys import Keyring, load_signer


def test_the_embedded_stack_gets_one_key_and_the_probe_worker_none(tmp_path: Path) -> None:
    first = embedded_signing(tmp_path, {})
    key = Path(first["AGENT_REGISTRY_SIGNING_KEY"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    keyring = Keyring.load(tmp_path / KEYRING_FILE)
    assert keyring.keyids == [load_signer(key).public_key.keyid]
    assert embedded_signing(tmp_path, {}) == first  # the same key on every start
    assert embedded_signing(tmp_path, {"AGENT_REGISTRY_SIGNING_KEY": "/etc/key.pem"}) == {}
    worker_env = {"PATH": "/usr/bin", **first, "AGENT_REGISTRY_AUDIT_KEY": "/etc/audit.key"}
    assert probe_environment(worker_env) == {"PATH": "/usr/bin"}
