"""The served MCP Registry API against the specification's own OpenAPI document.

schemathesis generates requests from ``spec/openapi.yaml`` (the MCP Registry project's
document, kept with its source and licence) and checks every reply against it: status
codes, content types and response schemas, and that no request makes the server fail.
Only the read operations are kept in the document: they are what this registry serves.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from schemathesis.checks import status_code_conformance  # type: ignore[attr-defined]
from schemathesis.generation import GenerationMode

from tests.api.live import call
from tests.mcp_registry.support import GITHUB, OPENAPI, TIME, Served

SCHEMA = schemathesis.openapi.from_path(OPENAPI)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@SCHEMA.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_requests_conform(case: schemathesis.Case, registry_url: str) -> None:
    """Every check on requests the spec allows; on requests it forbids, a refusal.

    The spec documents no 400 for its read operations, so a request it forbids (an
    ``updated_since`` that is no date-time) cannot get a documented status: there the
    status check is left out, and schemathesis's negative-data check requires the 4xx.
    """
    negative = case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE
    excluded = [status_code_conformance] if negative else []
    case.call_and_validate(base_url=registry_url, excluded_checks=excluded)


def _validator(component: str) -> Draft202012Validator:
    """A validator for one of the document's component schemas, resolving its refs."""
    document = SCHEMA.raw_schema
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v0.1/servers",
        "/v0.1/servers?include_deleted=true",
        "/v0.1/servers?version=latest&limit=1",
        f"/v0.1/servers/{quote(TIME, safe='')}/versions",
    ],
)
def test_served_lists_match_server_list(registry_url: str, served: Served, path: str) -> None:
    """The entries generated requests rarely reach (real names) hold to the schema too."""
    answer = call(registry_url, "GET", path)
    assert answer.status == 200
    body = answer.json()
    assert body["servers"], path
    problems = [error.message for error in _validator("ServerList").iter_errors(body)]
    assert problems == []


@pytest.mark.parametrize(
    ("name", "version"), [(TIME, "latest"), (TIME, "2026.9.1"), (GITHUB, "0.20.1")]
)
def test_served_versions_match_server_response(
    registry_url: str, served: Served, name: str, version: str
) -> None:
    answer = call(registry_url, "GET", f"/v0.1/servers/{quote(name, safe='')}/versions/{version}")
    assert answer.status == 200
    problems = [error.message for error in _validator("ServerResponse").iter_errors(answer.json())]
    assert problems == []


def test_the_schema_check_catches_a_broken_entry() -> None:
    """The validator above is not vacuous: a wrong status or a missing server fails it."""
    broken = {
        "servers": [{"_meta": {"io.modelcontextprotocol.registry/official": {"status": "gone"}}}]
    }
    assert list(_validator("ServerList").iter_errors(broken))
