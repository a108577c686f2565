"""Signed statements: what the registry vouches for, in a form anyone can check offline.

A publication and the guard's snapshot are in-toto statements in DSSE envelopes, signed
with the registry's Ed25519 key (``securesystemslib`` over ``cryptography``); clients
hold the registry's public keys and accept nothing those keys did not sign.
"""
