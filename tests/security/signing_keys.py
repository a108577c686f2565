"""Real Ed25519 keys for the signature tests, written as the settings expect them."""

from __future__ import annotations

from pathlib import Path

from securesystemslib.signer import CryptoSigner

from agent_registry.signing.keys import Keyring, generate_key


def new_key(folder: Path, name: str = "signing.pem") -> tuple[Path, CryptoSigner]:
    """A fresh private key file under ``folder`` and its signer."""
    path = folder / name
    return path, generate_key(path)


def keyring_file(folder: Path, *signers: CryptoSigner, name: str = "keyring.json") -> Path:
    """A keyring file trusting ``signers``' public keys."""
    path = folder / name
    path.write_text(Keyring(tuple(s.public_key for s in signers)).to_json(), encoding="utf-8")
    return path
