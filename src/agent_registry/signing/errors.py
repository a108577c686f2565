"""Why a signature or a key was refused."""

from __future__ import annotations


class SigningKeyError(ValueError):
    """A signing key or keyring file that cannot be used; the message names the file."""


class SignatureError(ValueError):
    """An envelope that does not verify, or does not say what it is expected to say."""
