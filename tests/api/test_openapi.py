"""The OpenAPI document: well-formed, served as built, and listing every route there is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from agent_registry.api.app import build_web_app
from agent_registry.config import Settings
from tests.api.live import call

COMPONENT_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
"""What OpenAPI 3.1 allows as a component's name."""


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def test_the_server_serves_the_document_it_is_built_from(
    server: str, document: dict[str, Any]
) -> None:
    answer = call(server, "GET", "/openapi.json")

    assert (answer.status, answer.media_type) == (200, "application/json")
    assert answer.json() == json.loads(json.dumps(document))


def test_the_document_is_openapi_3_1_with_valid_schemas(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    schemas = document["components"]["schemas"]
    for name, schema in schemas.items():
        assert COMPONENT_NAME.match(name), name
        Draft202012Validator.check_schema(schema)
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_every_route_is_documented_with_its_parameters_and_errors(
    document: dict[str, Any], tmp_path: Path
) -> None:
    app = build_web_app(Settings(_env_file=None), object())  # type: ignore[arg-type]
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }

    assert served == documented
    operation_ids = []
    for path, operations in document["paths"].items():
        placeholders = set(re.findall(r"\{([^}]+)\}", path))
        for operation in operations.values():
            operation_ids.append(operation["operationId"])
            params = operation.get("parameters", [])
            assert {p["name"] for p in params if p["in"] == "path"} == placeholders, path
            assert all(p["schema"] and p["description"] for p in params)
            responses = operation["responses"]
            assert "default" in responses
            error = responses["default"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorBody"}
    assert len(operation_ids) == len(set(operation_ids))


def test_the_usage_batch_documents_its_cap(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/usage"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]

    assert schema["type"] == "array" and schema["maxItems"] == 500
    assert schema["items"] == {"$ref": "#/components/schemas/UsageEvent"}
    assert "413" in document["paths"]["/api/v1/usage"]["post"]["responses"]
