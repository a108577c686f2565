"""What the server records about a submission's people: canonical authors, and machine
authorship from the caller's principal, never from the body."""

from __future__ import annotations

import pytest

from agent_registry.api.errors import ApiError
from agent_registry.api.writes import server_metadata
from agent_registry.assets.manifests import RegistryMetadata
from agent_registry.vocabulary.principal import Principal, PrincipalKind, VerifiedBy

PERSON = Principal(email="dana@example.com", verified_by=VerifiedBy.OIDC)
BOT = Principal(
    email="ci-bot@clients.idp.example.com", kind=PrincipalKind.MACHINE, verified_by=VerifiedBy.OIDC
)


def _metadata(authors: list[str], *, machine: bool) -> RegistryMetadata:
    return RegistryMetadata(
        owner_team="docs", version="1.0.0", authors=authors, machine_authored=machine
    )


def test_authors_are_canonical_emails_once_each_and_default_to_the_submitter() -> None:
    recorded = server_metadata(
        _metadata([" Alice@Example.com", "alice@example.com", "BOB@example.com"], machine=False),
        PERSON,
    )
    assert recorded.authors == ["alice@example.com", "bob@example.com"]
    assert server_metadata(_metadata([], machine=False), PERSON).authors == ["dana@example.com"]


def test_an_author_that_is_not_an_email_is_refused_naming_it() -> None:
    with pytest.raises(ApiError) as caught:
        server_metadata(_metadata(["alice@example.com", "Anthropic"], machine=False), PERSON)
    assert caught.value.status == 400
    assert "metadata.authors[1]" in caught.value.error
    assert "'Anthropic' is not an email address" in caught.value.error


@pytest.mark.parametrize("declared", [True, False])
def test_machine_authorship_follows_the_principal_not_the_declaration(declared: bool) -> None:
    assert server_metadata(_metadata([], machine=declared), PERSON).machine_authored is False
    assert server_metadata(_metadata([], machine=declared), BOT).machine_authored is True
