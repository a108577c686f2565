"""A real server for the API tests: the application on a free port, in a thread of its own.

The server runs its own event loop in a background thread, so tests (and the
synchronous :class:`~agent_registry.catalog.http.HttpCatalog`, and hypothesis) call it
over real sockets exactly as a remote client would, without sharing a loop with it.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]


@contextmanager
def live_server(app: web.Application) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and a free port; yields the base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="api-test-server", daemon=True)
    thread.start()

    async def start() -> web.AppRunner:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=30)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


@dataclass
class Answer:
    """One reply, read whole."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get_content_type()

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    base_url: str,
    method: str,
    path: str,
    *,
    body: bytes | Iterable[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """Send one request with the path exactly as given (already percent-encoded).

    An iterable body is sent chunked, without a Content-Length.
    """
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


class Contract:
    """The OpenAPI document as a checker of replies."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def reply(self, template: str, method: str, status: int) -> dict[str, Any]:
        """The documented reply for ``status``, or the operation's default."""
        operation = self.document["paths"][template][method.lower()]
        responses = operation["responses"]
        documented = responses.get(str(status)) or responses.get("default")
        assert documented is not None, f"{method} {template} does not document {status}"
        return dict(documented)

    def check(self, answer: Answer, template: str, method: str) -> Any:
        """Assert ``answer`` is what the document promises; returns its JSON, if any."""
        documented = self.reply(template, method, answer.status)
        content = documented.get("content")
        if content is None:
            assert answer.body == b"", f"{answer.status} documents no body"
            return None
        assert answer.media_type in content, (answer.media_type, list(content))
        if answer.media_type != "application/json":
            return None
        value = answer.json()
        self.validate(value, content["application/json"]["schema"])
        return value

    def validate(self, value: Any, schema: dict[str, Any]) -> None:
        """Validate against a schema whose refs point into the document's components."""
        rooted = {**schema, "components": self.document["components"]}
        Draft202012Validator(rooted).validate(value)

    def component(self, name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}
