"""The registry's signing key and the public keys clients trust, with rotation.

The private key is an Ed25519 PEM file (PKCS#8) whose path is in the settings; a secret
manager that mounts secrets as files serves it as well. Its public half, and the public
halves of keys it replaced, form a *keyring*: a JSON file every client is given (the
managed-settings export embeds it) and the API serves. A key id is the securesystemslib
default, the sha256 of the key's canonical description, so it names the key itself.

Rotation: generate a new key, add the old public key to the keyring file named by
``AGENT_REGISTRY_TRUSTED_KEYS``, point ``AGENT_REGISTRY_SIGNING_KEY`` at the new key.
Statements signed by the old key keep verifying as long as its public key is listed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from securesystemslib.signer import CryptoSigner, SSlibKey

from agent_registry.signing.errors import SigningKeyError

KEYRING_FORMAT = 1


def load_signer(path: Path) -> CryptoSigner:
    """The signer for the Ed25519 private key in the PEM file at ``path``.

    Raises:
        SigningKeyError: The file is missing, unreadable, or not an unencrypted Ed25519
            PKCS#8 key; the message names the file, never its content.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(f"cannot read the signing key {path}: {error.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"the signing key {path} is not an unencrypted PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"the signing key {path} is not an Ed25519 key")
    return CryptoSigner(key, SSlibKey.from_crypto(key.public_key()))


def generate_key(path: Path) -> CryptoSigner:
    """Write a new Ed25519 private key to ``path`` (mode 0600) and return its signer.

    Raises:
        SigningKeyError: ``path`` exists already (a key is never overwritten).
    """
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{path} exists; a signing key is never overwritten") from None
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(pem)
    return CryptoSigner(key, SSlibKey.from_crypto(key.public_key()))


@dataclass(frozen=True)
class Keyring:
    """Public keys whose signatures are accepted, by key id."""

    keys: tuple[SSlibKey, ...] = ()

    @property
    def keyids(self) -> list[str]:
        """The key ids, in keyring order."""
        return [key.keyid for key in self.keys]

    def __bool__(self) -> bool:
        return bool(self.keys)

    def merged(self, others: Iterable[SSlibKey]) -> Keyring:
        """This keyring plus ``others``, each key id once (first wins)."""
        seen: dict[str, SSlibKey] = {key.keyid: key for key in self.keys}
        for key in others:
            seen.setdefault(key.keyid, key)
        return Keyring(tuple(seen.values()))

    def to_json(self) -> str:
        """The keyring file's content (also what ``GET /api/v1/keys`` answers)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_dict(self) -> dict[str, object]:
        """The keyring as a JSON object."""
        return {
            "format": KEYRING_FORMAT,
            "keys": [{"keyid": key.keyid, **key.to_dict()} for key in self.keys],
        }

    @classmethod
    def from_json(cls, text: str, *, source: str) -> Keyring:
        """Parse a keyring; ``source`` names where it came from in errors.

        Raises:
            SigningKeyError: Not a keyring of Ed25519 public keys.
        """
        try:
            data = json.loads(text)
            entries = data["keys"]
            if not isinstance(entries, list):
                raise TypeError("keys is not a list")
            keys = []
            for entry in entries:
                fields = dict(entry)
                keyid = fields.pop("keyid")
                key = SSlibKey.from_dict(keyid, fields)
                if key.keytype != "ed25519":
                    raise ValueError(f"key {keyid} is {key.keytype}, not ed25519")
                public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key.keyval["public"]))
                if SSlibKey.from_crypto(public).keyid != keyid:
                    raise ValueError(f"key id {keyid} is not the id of its key")
                keys.append(key)
        except (ValueError, TypeError, KeyError) as error:
            raise SigningKeyError(f"{source} is not a keyring of Ed25519 keys: {error}") from None
        return cls(tuple(keys))

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """The keyring in the file at ``path``.

        Raises:
            SigningKeyError: Unreadable, or not a keyring.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SigningKeyError(f"cannot read the keyring {path}: {error}") from None
        return cls.from_json(text, source=str(path))


def keyring_from_text(value: str) -> Keyring:
    """A keyring given inline (JSON, starting with ``{``) or as the path of its file.

    The managed-settings export puts the keyring inline in the guard's command, so no
    file a user can edit decides which keys are trusted.
    """
    text = value.strip()
    if text.startswith("{"):
        return Keyring.from_json(text, source="the inline keyring")
    return Keyring.load(Path(text).expanduser())
