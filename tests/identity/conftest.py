"""Fixtures for the identity tests: a real OpenID Provider on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.idp.fixture import IdentityProvider, new_signing_key, require_node_provider


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    """``oidc-provider`` on loopback, signing with one fresh RSA key (kid ``k1``)."""
    node = require_node_provider()
    _, jwk = new_signing_key("k1")
    provider = IdentityProvider(node=node, keys=[jwk])
    provider.start()
    yield provider
    provider.stop()
