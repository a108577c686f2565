"""Property-based fuzzing of every route: whatever the input, never a 5xx, always the shape.

Query and path values are drawn from each parameter's documented schema (valid values
and values just outside it) and from arbitrary text and bytes; bodies from the event
models' fields and from arbitrary JSON and bytes. Every reply must be what the OpenAPI
document promises for its status.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, quote_from_bytes

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.api.live import Contract, call
from tests.api.seed import MCP, PUBLISHED, SUBAGENT_IN_REVIEW, Seeded

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON = {"Content-Type": "application/json"}
_PLACEHOLDER = re.compile(r"\{([^}]+)\}")

ODD_TEXT = st.sampled_from(["", " ", "\x00", "\ud800", "%", "%2F", "@", "/", "..", "é", "\u202e"])
"""Text that has broken servers before: NUL, a lone surrogate, escapes, separators."""

TEXT = st.one_of(st.text(max_size=40), ODD_TEXT, st.text(max_size=600))


def _encoded(value: str | bytes, *, safe: str = "") -> str:
    """A value as it goes into a URL; text with surrogates goes as its raw escapes."""
    if isinstance(value, bytes):
        return quote_from_bytes(value, safe=safe)
    try:
        return quote(value, safe=safe)
    except UnicodeEncodeError:
        return quote_from_bytes(value.encode("utf-8", "surrogatepass"), safe=safe)


def _mostly(
    likely: st.SearchStrategy[Any], unlikely: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """``likely`` three times in four, so that valid requests get far enough to be served."""
    return st.sampled_from([True, True, True, False]).flatmap(
        lambda pick: likely if pick else unlikely
    )


def _values(schema: dict[str, Any], known: list[str]) -> st.SearchStrategy[str | bytes]:
    """Known and valid values mostly, then values just outside the schema, then anything."""
    valid: list[st.SearchStrategy[str | bytes]] = []
    odd: list[st.SearchStrategy[str | bytes]] = [TEXT, st.binary(max_size=20)]
    if known:
        valid.append(st.sampled_from(known))
    if "enum" in schema:
        valid.append(st.sampled_from(schema["enum"]))
        odd.append(st.sampled_from(schema["enum"]).map(str.upper))
    if schema.get("type") == "integer":
        low, high = schema["minimum"], schema["maximum"]
        valid.append(st.integers(low, min(high, low + 50)).map(str))
        odd.append(st.integers(low - 3, low + 3).map(str))
        odd.append(st.integers(high - 3, high + 3).map(str))
        odd.append(st.integers().map(str))
        odd.append(st.sampled_from(["1.0", "1e3", "+5", "-0", " 7", "0x10", "٣"]))
    if "pattern" in schema:
        valid.append(st.from_regex(schema["pattern"], fullmatch=True))
    if "maxLength" in schema:
        length = schema["maxLength"]
        valid.append(st.text(max_size=20))
        odd.append(st.integers(length - 1, length + 1).map(lambda n: "a" * n))
    if not valid:
        return st.one_of(odd)
    return _mostly(st.one_of(valid), st.one_of(odd))


def _known_values(seeded: Seeded) -> dict[str, list[str]]:
    refs = [*PUBLISHED, SUBAGENT_IN_REVIEW]
    return {
        "name": sorted({ref.name for ref in refs}),
        "version": sorted({ref.version for ref in refs}),
        "content_hash": sorted(seeded.hashes.values()),
        "q": ["tickets", "release notes", "review"],
        "team": ["docs", "support"],
    }


def _request(
    data: st.DataObject, template: str, operation: dict[str, Any], known: dict[str, list[str]]
) -> str:
    """A request path with drawn path values and a drawn query string."""
    params = operation.get("parameters", [])
    path = template
    for param in (p for p in params if p["in"] == "path"):
        value = data.draw(_values(param["schema"], known.get(param["name"], [])))
        # A name's '/' is sent as it is or escaped; both are one name.
        safe = data.draw(st.sampled_from(["", "/"])) if param["name"] == "name" else ""
        path = path.replace(f"{{{param['name']}}}", _encoded(value, safe=safe))
    pairs: list[tuple[str, str | bytes]] = []
    for param in (p for p in params if p["in"] == "query"):
        for _ in range(data.draw(st.sampled_from([0, 0, 1, 1, 1, 2]))):
            pairs.append(
                (param["name"], data.draw(_values(param["schema"], known.get(param["name"], []))))
            )
    if data.draw(st.sampled_from([False] * 5 + [True])):  # one the route does not take
        pairs.append((data.draw(TEXT), data.draw(TEXT)))
    if not pairs:
        return path
    return path + "?" + "&".join(f"{_encoded(k)}={_encoded(v)}" for k, v in pairs)


def _templates_for(template: str) -> list[str]:
    """Templates the path may have been routed to: a drawn name may hold an '@'."""
    if template.startswith("/api/v1/assets/"):
        return ["/api/v1/assets/{kind}/{name}@{version}", "/api/v1/assets/{kind}/{name}"]
    return [template]


def _check(contract: Contract, answer: Any, templates: list[str], method: str) -> Any:
    assert answer.status < 500, (answer.status, answer.body[:300])
    event(f"{method} {templates[-1]} -> {answer.status}")
    problems: list[Exception] = []
    for template in templates:
        try:
            return contract.check(answer, template, method)
        except Exception as problem:  # try the next template
            problems.append(problem)
    raise AssertionError(f"reply {answer.status} fits no documented reply: {problems}")


@FUZZ
@given(data=st.data())
def test_get_routes_answer_every_query_with_their_documented_shape(
    server: str, contract: Contract, document: dict[str, Any], seeded: Seeded, data: st.DataObject
) -> None:
    gets = sorted(t for t, operations in document["paths"].items() if "get" in operations)
    template = data.draw(st.sampled_from(gets))
    path = _request(data, template, document["paths"][template]["get"], _known_values(seeded))

    answer = call(server, "GET", path)

    _check(contract, answer, _templates_for(template), "GET")


# ----- bodies ----------------------------------------------------------------------------

ZONES = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12, minutes=30))]
)
MOMENTS = _mostly(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ).map(datetime.isoformat),
    st.one_of(
        st.datetimes(timezones=ZONES).map(datetime.isoformat),
        st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:30", "now", ""]),
        st.integers(),
        TEXT,
    ),
)
PLAIN = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=30
)
"""Text any database stores."""
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return _mostly(strategy, st.one_of(JSON_VALUES, TEXT))


INSTALL = st.fixed_dictionaries(
    {
        "ref": _maybe(st.sampled_from([str(ref) for ref in PUBLISHED])),
        "user": _maybe(PLAIN),
        "at": MOMENTS,
    },
    optional={
        "team": _maybe(st.none() | PLAIN),
        "target": _maybe(st.just("claude-code")),
        "event_id": _maybe(st.none() | st.text(max_size=70)),
    },
)
USE = st.fixed_dictionaries(
    {
        "kind": _maybe(st.sampled_from(["skill", "subagent", "mcp-server"])),
        "name": _maybe(st.sampled_from(["release-notes", MCP.name]) | PLAIN),
        "user": _maybe(PLAIN),
        "at": MOMENTS,
    },
    optional={
        "version": _maybe(st.none() | st.sampled_from(["1.1.0", "1.0.0"]) | PLAIN),
        "tool": _maybe(st.none() | PLAIN),
        "team": _maybe(st.none() | PLAIN),
        "session": _maybe(st.none() | PLAIN),
        "event_id": _maybe(st.none() | st.text(max_size=70)),
    },
)


def _bodies(event: st.SearchStrategy[Any], *, batch: bool) -> st.SearchStrategy[bytes]:
    shaped = st.lists(event, max_size=6) if batch else event
    return _mostly(
        shaped.map(lambda value: json.dumps(value).encode()),
        st.one_of(
            JSON_VALUES.map(lambda value: json.dumps(value).encode()), st.binary(max_size=200)
        ),
    )


@FUZZ
@given(data=st.data())
def test_post_routes_answer_every_body_with_their_documented_shape(
    server: str, contract: Contract, data: st.DataObject
) -> None:
    template, body = data.draw(
        st.one_of(
            st.tuples(st.just("/api/v1/installs"), _bodies(INSTALL, batch=False)),
            st.tuples(st.just("/api/v1/usage"), _bodies(USE, batch=True)),
        )
    )

    answer = call(server, "POST", template, body=body, headers=JSON)

    value = _check(contract, answer, [template], "POST")
    if answer.status == 200:
        sent = json.loads(body)
        assert value["recorded"] <= (len(sent) if isinstance(sent, list) else 1)
