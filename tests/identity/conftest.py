"""Fixtures for the identity tests: a real OpenID Provider on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.idp.fixture import IdentityProvider, one_key_provider


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    """``oidc-provider`` on loopback, signing with one fresh RSA key (kid ``k1``)."""
    with one_key_provider() as provider:
        yield provider
