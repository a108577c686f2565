"""Reading an upstream registry: paging, the schema check, and every upstream failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent_registry.cli.errors import CliError
from agent_registry.cli.main import build_app
from agent_registry.mcp_registry.upstream import UpstreamError, UpstreamRegistry, fetch_chosen
from tests.mcp_registry.support import CONTEXT7, FILESYSTEM, GITHUB, TIME, upstream, with_version
from tests.mcp_registry.upstream_double import Upstream, serving
from tests.ports import free_port


@pytest.fixture
def double() -> Upstream:
    fixtures = Upstream()
    for stem in ("time", "github", "filesystem", "context7"):
        fixtures.add(upstream(stem))
    return fixtures


@pytest.fixture
def url(double: Upstream) -> Iterator[str]:
    with serving(double) as base:
        yield base


async def test_search_follows_every_page(double: Upstream, url: str) -> None:
    double.add(with_version(upstream("time"), "2026.11.2"))
    chosen = await fetch_chosen(url, search=None, names=[], timeout=5)
    assert [(c.name, c.version) for c in chosen] == sorted(
        [(GITHUB, "0.20.1"), (FILESYSTEM, "2025.8.21"), (TIME, "2026.11.2"), (CONTEXT7, "1.0.17")]
    )
    assert sum("/v0.1/servers?" in path for path in double.requests) == 2  # page size 2


async def test_names_and_search_choose(url: str) -> None:
    chosen = await fetch_chosen(url, search="modelcontextprotocol", names=[GITHUB], timeout=5)
    assert sorted(c.name for c in chosen) == sorted([FILESYSTEM, TIME, GITHUB])
    served = {c.name: c.server for c in chosen}
    assert served[GITHUB] == upstream("github")  # exactly as served


async def test_unknown_name_is_named(url: str) -> None:
    with pytest.raises(UpstreamError, match=r"has no server com\.example/none"):
        await fetch_chosen(url, search=None, names=["com.example/none"], timeout=5)


async def test_unreachable() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(UpstreamError, match=r"cannot reach http://127\.0\.0\.1"):
        await fetch_chosen(f"http://127.0.0.1:{port}", search=None, names=[TIME], timeout=5)


async def test_slow(double: Upstream, url: str) -> None:
    double.fault, double.delay = "slow", 3.0
    with pytest.raises(UpstreamError, match=r"did not answer .* within 0.5s"):
        await fetch_chosen(url, search=None, names=[TIME], timeout=0.5)


@pytest.mark.parametrize(
    ("fault", "message"),
    [("not-json", "did not answer JSON"), ("not-a-list", "is not an MCP Registry server list")],
)
async def test_malformed_page(double: Upstream, url: str, fault: str, message: str) -> None:
    double.fault = fault
    with pytest.raises(UpstreamError, match=message):
        await fetch_chosen(url, search="time", names=[], timeout=5)


async def test_server_json_failing_the_schema(double: Upstream, url: str) -> None:
    broken = upstream("context7")
    broken["description"] = "x" * 101
    broken["packages"][0]["version"] = "latest"
    double.servers[-1] = broken
    with pytest.raises(UpstreamError) as caught:
        await fetch_chosen(url, search=None, names=[], timeout=5)
    text = str(caught.value)
    assert f"the server.json of {CONTEXT7} 1.0.17 fails the server.json schema" in text
    assert "server.json.description" in text
    assert "server.json.packages[0].version" in text


async def test_answer_must_be_what_was_asked(double: Upstream, url: str) -> None:
    double.servers = [upstream("time")]
    async with UpstreamRegistry(url, timeout=5) as registry:
        with pytest.raises(UpstreamError, match=r"has no server .* at version 1\.0\.0"):
            await registry.version(TIME, "1.0.0")


def test_not_an_http_url() -> None:
    with pytest.raises(UpstreamError, match="not an http"):
        UpstreamRegistry("file:///etc/passwd")


def test_a_failed_fetch_writes_nothing(tmp_path: Path, double: Upstream, url: str) -> None:
    """``agentreg import mcp`` refuses before anything is drafted: nothing was imported."""
    double.fault = "not-json"
    drafts = tmp_path / "drafts"
    args = ["import", "mcp", "--from", url, "--name", TIME, "--into", str(drafts), "--no-probe"]
    result = CliRunner().invoke(build_app(), args)
    assert isinstance(result.exception, CliError)
    assert "nothing was imported" in str(result.exception)
    assert not drafts.exists()


async def test_an_answer_about_another_server_is_refused(double: Upstream, url: str) -> None:
    double.fault = "wrong-server"
    with pytest.raises(UpstreamError, match=f"answered with {GITHUB} 0.20.1, not {TIME} latest"):
        await fetch_chosen(url, search=None, names=[TIME], timeout=5)


async def test_an_oversized_answer_is_refused(
    monkeypatch: pytest.MonkeyPatch, double: Upstream, url: str
) -> None:
    monkeypatch.setattr("agent_registry.mcp_registry.upstream.MAX_BODY_BYTES", 512)
    with pytest.raises(UpstreamError, match="answered more than 512 bytes"):
        await fetch_chosen(url, search=None, names=[TIME], timeout=5)


@pytest.mark.parametrize("name", ["../escape", "../..", "io.github.acme/.."])
def test_a_name_cannot_write_outside_the_drafts(
    tmp_path: Path, double: Upstream, url: str, name: str
) -> None:
    """The published schema lets a name part be '..'; no draft is written outside --into."""
    evil = upstream("time")
    evil["name"] = name
    double.servers = [evil]
    drafts = tmp_path / "work" / "drafts"
    args = ["import", "mcp", "--from", url, "--search", ".", "--into", str(drafts), "--no-probe"]
    result = CliRunner().invoke(build_app(), args)
    assert isinstance(result.exception, CliError)
    assert "cannot name a draft folder" in str(result.exception)
    assert list(tmp_path.rglob("*")) == []  # nothing written, inside or outside
