"""Signed publications with real Ed25519 keys: round trip, tampering, rotation."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent_registry.config import Settings
from agent_registry.signing.errors import SignatureError, SigningKeyError
from agent_registry.signing.keys import Keyring, keyring_from_text, load_signer
from agent_registry.signing.publication import (
    Publication,
    sign_publication,
    verify_publication,
)
from agent_registry.signing.trust import registry_signer, trusted_keyring
from tests.security.signing_keys import keyring_file, new_key

HASH = "ab" * 32
REF = "skill/release-notes@1.0.0"


def _publication(ref: str = REF, content_hash: str = HASH) -> Publication:
    return Publication(
        ref=ref,
        content_hash=content_hash,
        approvers=["bob@example.com"],
        policy_version="2026-11-24",
        published_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def test_a_publication_signed_verifies_and_says_what_was_signed(tmp_path: Path) -> None:
    key, signer = new_key(tmp_path)
    envelope = sign_publication(_publication(), load_signer(key))
    keyring = Keyring((signer.public_key,))
    verified = verify_publication(envelope, keyring=keyring, ref=REF, content_hash=HASH)
    assert verified.approvers == ["bob@example.com"]
    statement = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{"name": REF, "digest": {"sha256": HASH}}]


def test_other_content_under_the_signed_ref_is_refused(tmp_path: Path) -> None:
    _, signer = new_key(tmp_path)
    envelope = sign_publication(_publication(), signer)
    with pytest.raises(SignatureError, match="not the reviewed content"):
        verify_publication(
            envelope, keyring=Keyring((signer.public_key,)), ref=REF, content_hash="cd" * 32
        )


def test_a_signature_moved_to_another_ref_is_refused(tmp_path: Path) -> None:
    _, signer = new_key(tmp_path)
    envelope = sign_publication(_publication(), signer)
    with pytest.raises(SignatureError, match=re.escape("names skill/release-notes@1.0.0")):
        verify_publication(
            envelope,
            keyring=Keyring((signer.public_key,)),
            ref="skill/release-notes@2.0.0",
            content_hash=HASH,
        )


def test_an_edited_payload_is_refused(tmp_path: Path) -> None:
    _, signer = new_key(tmp_path)
    envelope = json.loads(sign_publication(_publication(), signer))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["approvers"] = ["mallory@example.com"]
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(SignatureError, match="does not verify"):
        verify_publication(
            json.dumps(envelope),
            keyring=Keyring((signer.public_key,)),
            ref=REF,
            content_hash=HASH,
        )


def test_a_key_nobody_trusts_is_refused_and_unsigned_is_refused(tmp_path: Path) -> None:
    _, registry = new_key(tmp_path, "registry.pem")
    _, attacker = new_key(tmp_path, "attacker.pem")
    forged = sign_publication(_publication(), attacker)
    keyring = Keyring((registry.public_key,))
    with pytest.raises(SignatureError, match="does not verify with any trusted key"):
        verify_publication(forged, keyring=keyring, ref=REF, content_hash=HASH)
    with pytest.raises(SignatureError, match="no signed publication"):
        verify_publication(None, keyring=keyring, ref=REF, content_hash=HASH)
    with pytest.raises(SignatureError, match="no trusted keys"):
        verify_publication(forged, keyring=Keyring(), ref=REF, content_hash=HASH)


def test_rotation_old_signatures_verify_while_the_old_key_is_listed(tmp_path: Path) -> None:
    old_path, old = new_key(tmp_path, "old.pem")
    new_path, new = new_key(tmp_path, "new.pem")
    signed_before = sign_publication(_publication(), load_signer(old_path))
    # Rotated: the registry signs with the new key and lists the old public key.
    settings = Settings(signing_key=new_path, trusted_keys=keyring_file(tmp_path, old))
    signer = registry_signer(settings)
    assert signer is not None and signer.public_key.keyid == new.public_key.keyid
    keyring = trusted_keyring(settings)
    assert set(keyring.keyids) == {old.public_key.keyid, new.public_key.keyid}
    signed_after = sign_publication(_publication(), signer)
    for envelope in (signed_before, signed_after):
        verify_publication(envelope, keyring=keyring, ref=REF, content_hash=HASH)
    # Retired: once the old key leaves the keyring, what it signed is no longer trusted.
    retired = trusted_keyring(Settings(signing_key=new_path))
    with pytest.raises(SignatureError):
        verify_publication(signed_before, keyring=retired, ref=REF, content_hash=HASH)


def test_keyrings_round_trip_inline_and_refuse_a_mislabelled_key(tmp_path: Path) -> None:
    _, signer = new_key(tmp_path)
    text = Keyring((signer.public_key,)).to_json()
    assert keyring_from_text(text).keyids == [signer.public_key.keyid]
    data = json.loads(text)
    data["keys"][0]["keyid"] = "0" * 64
    with pytest.raises(SigningKeyError, match="not the id of its key"):
        keyring_from_text(json.dumps(data))


def test_a_signing_key_that_is_not_ed25519_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(SigningKeyError, match=str(bad)):
        load_signer(bad)
    with pytest.raises(SigningKeyError, match="never overwritten"):
        new_key(tmp_path, "bad.pem")
