"""The statement a publication is signed with, and checking local files against it.

When a version is published the registry signs: its ref, its content hash, who approved
it, under which policy, and when. Install, ``agentreg verify`` and the guard accept a
version's files only when that statement verifies with a trusted key and names the
ref and the hash of exactly those files.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, ValidationError
from securesystemslib.signer import Signer

from agent_registry.signing.envelopes import open_statement, sign_statement, subject_digests
from agent_registry.signing.errors import SignatureError
from agent_registry.signing.keys import Keyring

PUBLICATION_PREDICATE = "https://agent-registry.dev/attestations/publication/v1"


class Publication(BaseModel):
    """What a signed publication says.

    Attributes:
        ref: ``kind/name@version``.
        content_hash: sha256 of the version's canonical archive.
        approvers: Who approved it.
        policy_version: The policy it was reviewed under.
        published_at: When it was published.
        files: sha256 of every file of the bundle, by its path in the bundle (a
            single-file bundle's one path is its submitted file name), so installed
            copies can be checked file by file without the archive.
        single_file: Whether the bundle is one file (a subagent).
    """

    ref: str
    content_hash: str
    approvers: list[str]
    policy_version: str | None
    published_at: datetime
    files: dict[str, str] = Field(default_factory=dict)
    single_file: bool = False


def sign_publication(publication: Publication, signer: Signer) -> str:
    """The DSSE envelope (JSON) of ``publication``, signed by ``signer``."""
    return sign_statement(
        subjects={publication.ref: publication.content_hash},
        predicate_type=PUBLICATION_PREDICATE,
        predicate=publication.model_dump(mode="json"),
        signer=signer,
    )


def verify_publication(
    envelope: str | None, *, keyring: Keyring, ref: str, content_hash: str
) -> Publication:
    """The publication in ``envelope``, checked to vouch for ``ref`` with ``content_hash``.

    Raises:
        SignatureError: Unsigned, not signed by a trusted key, or about another ref or
            other content; the message names the ref.
    """
    if not envelope:
        raise SignatureError(f"{ref} carries no signed publication statement")
    try:
        statement = open_statement(envelope, keyring=keyring, predicate_type=PUBLICATION_PREDICATE)
        publication = Publication.model_validate(statement.get("predicate"))
    except SignatureError as error:
        raise SignatureError(f"the publication of {ref} is not trusted: {error}") from None
    except ValidationError as error:
        raise SignatureError(f"the signed publication of {ref} is malformed: {error}") from None
    subjects = subject_digests(statement)
    if publication.ref != ref or subjects.get(ref) != publication.content_hash:
        raise SignatureError(f"the signed publication names {publication.ref}, not {ref}")
    if publication.content_hash != content_hash.lower():
        raise SignatureError(
            f"{ref} was signed with content hash {publication.content_hash[:12]}, "
            f"but the files hash to {content_hash[:12]}: they are not the reviewed content"
        )
    return publication
