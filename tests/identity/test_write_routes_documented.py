"""The write routes are in the OpenAPI document with valid schemas, and none of their
bodies has a field for who is asking."""

from __future__ import annotations

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from agent_registry.api import writes
from agent_registry.api.openapi import openapi_document
from agent_registry.api.write_schemas import (
    ATTESTATIONS_PATH,
    DEPRECATIONS_PATH,
    REVISIONS_PATH,
    SUBMISSIONS_PATH,
    VOTES_PATH,
    AttestBody,
    DeprecateBody,
    ReviseBody,
    SubmitBody,
    VoteBody,
)

CALLER_FIELDS = {
    "reviewer",
    "attester",
    "actor",
    "author",
    "submitter",
    "source",
    "verified_groups",
}


def test_every_write_route_is_documented_with_401_and_403() -> None:
    document = openapi_document(writes.ENDPOINTS)
    for path in (
        SUBMISSIONS_PATH,
        REVISIONS_PATH,
        VOTES_PATH,
        ATTESTATIONS_PATH,
        DEPRECATIONS_PATH,
    ):
        responses = document["paths"][path]["post"]["responses"]
        assert {"401", "403"} <= set(responses), path
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_no_write_body_can_name_its_caller() -> None:
    for body in (SubmitBody, ReviseBody, VoteBody, AttestBody, DeprecateBody):
        assert not CALLER_FIELDS & set(body.model_fields), body.__name__
        assert body.model_config.get("extra") == "forbid", body.__name__
