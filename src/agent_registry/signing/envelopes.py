"""DSSE envelopes holding in-toto statements: signing one, and opening one safely.

An envelope's payload is only read after a trusted key's signature over it verified
(securesystemslib checks the DSSE pre-authentication encoding, which binds the payload
type too), so nothing an attacker wrote is ever parsed as a statement.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import Signer

from agent_registry.signing.errors import SignatureError
from agent_registry.signing.keys import Keyring

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
MAX_ENVELOPE_BYTES = 4 * 1024 * 1024


def sign_statement(
    *,
    subjects: Mapping[str, str],
    predicate_type: str,
    predicate: Mapping[str, object],
    signer: Signer,
) -> str:
    """An in-toto Statement v1 about ``subjects`` (name → sha256), signed, as JSON text.

    Args:
        subjects: What the statement is about: each name with its sha256 hex digest.
        predicate_type: The URI naming what the predicate says.
        predicate: The claim itself.
        signer: The registry's key.
    """
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": d}} for name, d in subjects.items()],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    envelope = Envelope(payload=payload, payload_type=IN_TOTO_PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    return json.dumps(envelope.to_dict(), sort_keys=True)


def open_statement(
    text: str | bytes, *, keyring: Keyring, predicate_type: str
) -> dict[str, object]:
    """The statement inside a DSSE envelope, once a trusted key's signature verified.

    Args:
        text: The envelope's JSON.
        keyring: The keys whose signatures count.
        predicate_type: The statement kind expected; another kind is refused, so a
            statement signed for one purpose is never accepted for another.

    Returns:
        The whole in-toto statement (``subject``, ``predicateType``, ``predicate``).

    Raises:
        SignatureError: Not an envelope, no trusted signature, or not the statement
            expected.
    """
    if not keyring:
        raise SignatureError("no trusted keys are configured, so no signature can be checked")
    if len(text) > MAX_ENVELOPE_BYTES:
        raise SignatureError(f"the envelope is larger than {MAX_ENVELOPE_BYTES} bytes")
    try:
        envelope = Envelope.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError) as error:
        raise SignatureError(f"not a DSSE envelope ({error})") from None
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise SignatureError(
            f"the envelope holds {envelope.payload_type!r}, not an in-toto statement"
        )
    try:
        envelope.verify(list(keyring.keys), 1)
    except VerificationError:
        signed_by = ", ".join(sorted(envelope.signatures)) or "nobody"
        raise SignatureError(
            f"the signature does not verify with any trusted key (signed by key {signed_by}; "
            f"trusted: {', '.join(keyring.keyids)})"
        ) from None
    statement = json.loads(envelope.payload)
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise SignatureError("the signed payload is not an in-toto Statement v1")
    if statement.get("predicateType") != predicate_type:
        raise SignatureError(
            f"the signed statement is a {statement.get('predicateType')!r}, "
            f"not a {predicate_type!r}"
        )
    return statement


def subject_digests(statement: Mapping[str, object]) -> dict[str, str]:
    """The statement's subjects: name → sha256 (subjects without one are left out)."""
    found: dict[str, str] = {}
    subjects = statement.get("subject")
    for subject in subjects if isinstance(subjects, list) else []:
        if isinstance(subject, dict) and isinstance(subject.get("digest"), dict):
            digest = subject["digest"].get("sha256")
            if isinstance(subject.get("name"), str) and isinstance(digest, str):
                found[subject["name"]] = digest
    return found
