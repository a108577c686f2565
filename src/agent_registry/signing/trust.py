"""Which key signs and which keys are trusted, from the settings.

The registry (worker and server) signs with ``signing_key``; every reader trusts the
keyring in ``trusted_keys`` plus, where it holds the signing key, that key's public half.
"""

from __future__ import annotations

from securesystemslib.signer import CryptoSigner

from agent_registry.config import Settings
from agent_registry.signing.keys import Keyring, load_signer


def registry_signer(settings: Settings) -> CryptoSigner | None:
    """The registry's signer, or None where no signing key is configured.

    Raises:
        SigningKeyError: A key is configured but cannot be used.
    """
    return load_signer(settings.signing_key) if settings.signing_key else None


def trusted_keyring(settings: Settings, *, signer: CryptoSigner | None = None) -> Keyring:
    """The public keys whose signatures this machine accepts.

    Args:
        settings: ``trusted_keys`` (a keyring file) and ``signing_key``.
        signer: The signer already loaded, to save reading its file again.

    Raises:
        SigningKeyError: A configured key or keyring cannot be used.
    """
    keyring = Keyring.load(settings.trusted_keys) if settings.trusted_keys else Keyring()
    own = signer or registry_signer(settings)
    return keyring.merged([own.public_key]) if own is not None else keyring
