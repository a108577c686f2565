"""The embedded stack's signing key: ``make up`` signs what it publishes, as production does.

Without a key the embedded registry would publish unsigned versions, and install and
the guard would have nothing to check. On first start a key is generated in the data
folder (mode 0600) with the keyring clients pin, unless ``AGENT_REGISTRY_SIGNING_KEY``
already names one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from agent_registry.signing.keys import Keyring, generate_key, load_signer

KEY_FILE = "registry-signing.pem"
KEYRING_FILE = "registry-keys.json"
SIGNING_VARIABLE = "AGENT_REGISTRY_SIGNING_KEY"


def embedded_signing(data_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    """The variables that give the embedded worker and server their signing key.

    Returns:
        ``{AGENT_REGISTRY_SIGNING_KEY: path}``, or nothing when the environment names a
        key already.
    """
    if env.get(SIGNING_VARIABLE, "").strip():
        return {}
    key = data_dir / KEY_FILE
    signer = load_signer(key) if key.exists() else generate_key(key)
    keyring = Keyring((signer.public_key,))
    (data_dir / KEYRING_FILE).write_text(keyring.to_json() + "\n", encoding="utf-8")
    return {SIGNING_VARIABLE: str(key)}
