"""The MCP Registry API at 10,000 published servers, and an import of 100 upstream servers.

Two targets (issue 19): ``GET /v0.1/servers`` p99 under 50 ms with 10,000 published MCP
servers, and an import of 100 upstream servers submitting all 100 in under a minute.

Serving: 10,000 MCP servers, one published version each (every tenth also has a
deprecated older version), bulk-inserted with real bundles (``server.json`` and
``scope.yaml``), served by ``agentreg serve``'s application (its API routes) in a
process of its own on a loopback port, and asked over HTTP with one keep-alive
connection from the benchmark's process. The mix, seeded: pages of the default size from
the start and from cursors anywhere in the catalog, ``search`` on a name fragment,
``version=latest``, ``updated_since``, and ``/versions/{version}`` (``latest`` too).
Timed after one unmeasured walk of every page, which reads each bundle's documents
once (reported as "first walk"), and 100 unmeasured requests of the mix.

Import: a loopback registry speaking the API serves 100 ``server.json`` documents; timed
from the first upstream request to the 100th lifecycle started on the dev server, as
``agentreg import mcp`` then ``--submit`` do it (drafts with the probe off, scopes
confirmed in between, untimed): fetch and schema-check, read the drafts, send each
version to the registry server's submission route (local mode, ``--as``), which stages
the bundle and starts the lifecycle.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
import yaml
from aiohttp import web
from sqlalchemy import Engine

from agent_registry.api import mcp_registry
from agent_registry.api.app import build_web_app
from agent_registry.catalog.database import DatabaseCatalog
from agent_registry.catalog.mcp_servers import McpServerCatalog
from agent_registry.cli.mcp_import import draft_all, ready_drafts, submit_prepared
from agent_registry.config import Settings
from agent_registry.mcp_registry.drafts import draft_folder
from agent_registry.mcp_registry.upstream import fetch_chosen
from agent_registry.registry.db import make_engine
from agent_registry.registry.tables import Asset, AssetVersion, Blob, utcnow, version_sort_key
from bench.report import Figure, ms, percentile, write_section
from bench.stack import dev_server, fresh_registry
from tests.mcp_registry.support import TIME_TOOLS, server_archive, upstream
from tests.mcp_registry.upstream_double import Upstream, serving
from tests.ports import free_port
from tests.registry_server import registry_server

CHUNK = 500
WARMUP = 100
"""Requests of the mix sent before timing, so that one-time statement compilation is not timed."""
TARGET_P99_MS = 50.0
TARGET_IMPORT_SECONDS = 60.0


def _server(serial: int, version: str) -> dict[str, Any]:
    server = upstream("time")
    server["name"] = f"io.github.bench{serial // 100}/server-{serial:05d}"
    server["description"] = f"Benchmark server {serial}: time and time zones."
    server["version"] = version
    return server


def seed(engine: Engine, servers: int) -> list[str]:
    """Bulk-insert ``servers`` published MCP servers with their bundles; returns the names."""
    now = utcnow()
    assets: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    blobs: dict[str, bytes] = {}
    names: list[str] = []
    for serial in range(servers):
        name = _server(serial, "1.0.0")["name"]
        names.append(name)
        assets.append(
            {"id": serial + 1, "kind": "mcp-server", "name": name, "owner_team": "platform"}
        )
        history = ["0.9.0", "1.0.0"] if serial % 10 == 0 else ["1.0.0"]
        for position, version in enumerate(history):
            archive = server_archive(_server(serial, version), TIME_TOOLS)
            content_hash = hashlib.sha256(archive).hexdigest()
            blobs[content_hash] = archive
            latest = position == len(history) - 1
            at = now - timedelta(days=servers - serial, hours=len(history) - position)
            versions.append(
                {
                    "asset_id": serial + 1,
                    "version": version,
                    "version_sort": version_sort_key(version),
                    "stage": "Published" if latest else "Deprecated",
                    "content_hash": content_hash,
                    "manifest_json": json.dumps(_server(serial, version)),
                    "description": f"Benchmark server {serial}",
                    "risk_tier": "low",
                    "tier_reasons": [],
                    "submitter": "ada@example.com",
                    "authors": ["ada@example.com"],
                    "changelog": "bulk seeded",
                    "machine_authored": False,
                    "workflow_id": f"asset/mcp-server/{name}/{version}",
                    "policy_version": "1",
                    "submitted_at": at,
                    "updated_at": at,
                    "published_at": at,
                    "approvers": ["grace@example.com"],
                    "deprecated_at": None if latest else at,
                    "deprecation_reason": None if latest else "superseded",
                    "replacement": None if latest else f"mcp-server/{name}@1.0.0",
                }
            )
    with engine.begin() as connection:
        for table, rows in (
            (Asset.__table__, assets),  # type: ignore[attr-defined]
            (AssetVersion.__table__, versions),  # type: ignore[attr-defined]
            (
                Blob.__table__,  # type: ignore[attr-defined]
                [{"content_hash": h, "size": len(d), "data": d} for h, d in blobs.items()],
            ),
        ):
            for start in range(0, len(rows), CHUNK):
                connection.execute(sa.insert(table), rows[start : start + CHUNK])
        if engine.dialect.name == "postgresql":
            for table_name in ("asset", "asset_version"):
                sequence = f"pg_get_serial_sequence('{table_name}', 'id')"
                highest = f"SELECT max(id) FROM {table_name}"  # noqa: S608 - our own names
                connection.execute(sa.text(f"SELECT setval({sequence}, ({highest}))"))
            connection.execute(sa.text("ANALYZE"))
    return names


def _kind(path: str) -> str:
    """Which part of the mix a path is, for the per-kind p99."""
    for marker, kind in (
        ("/versions/latest", "one version (latest)"),
        ("/versions", "all versions of a server"),
        ("updated_since=", "updated_since"),
        ("version=latest", "version=latest page"),
        ("search=", "search"),
        ("cursor=", "page at a cursor"),
    ):
        if marker in path:
            return kind
    return "first page"


def _paths(names: list[str], rng: random.Random, count: int) -> list[str]:
    since = quote((utcnow() - timedelta(days=30)).isoformat())
    paths = []
    for _ in range(count):
        name = rng.choice(names)
        roll = rng.random()
        if roll < 0.15:
            paths.append("/v0.1/servers")
        elif roll < 0.40:
            paths.append(f"/v0.1/servers?cursor={quote(name + ':1.0.0')}")
        elif roll < 0.55:
            paths.append(f"/v0.1/servers?search=server-{rng.randrange(1000):03d}")
        elif roll < 0.65:
            paths.append(f"/v0.1/servers?version=latest&cursor={quote(name)}")
        elif roll < 0.75:
            paths.append(f"/v0.1/servers?updated_since={since}")
        elif roll < 0.90:
            paths.append(f"/v0.1/servers/{quote(name, safe='')}/versions/latest")
        else:
            paths.append(f"/v0.1/servers/{quote(name, safe='')}/versions")
    return paths


def serve(database_url: str, port: int) -> None:
    """Serve the API as ``agentreg serve`` assembles it, in a process of its own.

    The benchmark's client must not share an interpreter (and its lock) with the server
    it times, so the server runs here, on the registry the benchmark seeded.
    """
    engine = make_engine(database_url)
    settings = Settings(_env_file=None, database_url=database_url)
    app = build_web_app(settings, DatabaseCatalog(engine), extra_routes=[mcp_registry.add_routes])
    app[mcp_registry.MCP_SERVERS] = McpServerCatalog(engine)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far.

    What a request costs the server, whatever else the machine's cores are doing.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the benchmark server exited ({process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the benchmark server did not listen within 60 s")


def measure_serving(servers: int, requests: int) -> list[Figure]:
    """Seed, serve, walk once cold, then time the request mix."""
    with fresh_registry() as registry:
        started = time.perf_counter()
        names = seed(registry.engine, servers)
        seeding = time.perf_counter() - started
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.mcp_registry", "--serve", registry.url, str(port)]
        )
        try:
            _wait_listening(port, server)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

            def get(path: str) -> dict[str, Any]:
                connection.request("GET", path)
                reply = connection.getresponse()
                body = reply.read()
                if reply.status != 200:
                    raise RuntimeError(f"{path} answered {reply.status}: {body[:200]!r}")
                value: dict[str, Any] = json.loads(body)
                return value

            walk_started = time.perf_counter()
            path, pages = "/v0.1/servers?limit=100", 0
            while True:
                body = get(path)
                pages += 1
                cursor = body["metadata"].get("nextCursor")
                if not cursor:
                    break
                path = f"/v0.1/servers?limit=100&cursor={quote(cursor)}"
            walk = time.perf_counter() - walk_started
            warmup = random.Random(7)  # noqa: S311 - a reproducible mix, nothing secret
            for path in _paths(names, warmup, WARMUP):
                get(path)  # each kind of query compiled and planned once, unmeasured
            cpu_before = _cpu_seconds(server.pid)
            timings: list[float] = []
            by_kind: dict[str, list[float]] = {}
            mix = random.Random(19)  # noqa: S311 - a reproducible mix, nothing secret
            for path in _paths(names, mix, requests):
                begin = time.perf_counter()
                get(path)
                timings.append(time.perf_counter() - begin)
                by_kind.setdefault(_kind(path), []).append(timings[-1])
            cpu = (_cpu_seconds(server.pid) - cpu_before) / len(timings)
            connection.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    p99 = percentile(timings, 0.99)
    return [
        Figure("GET /v0.1/servers mix p50", ms(percentile(timings, 0.5))),
        Figure(
            "GET /v0.1/servers mix p99",
            ms(p99),
            f"< {TARGET_P99_MS:.0f} ms",
            p99 * 1000 < TARGET_P99_MS,
        ),
        *(
            Figure(f"p50 / p99, {kind}", f"{ms(percentile(t, 0.5))} / {ms(percentile(t, 0.99))}")
            for kind, t in sorted(by_kind.items())
        ),
        Figure("server CPU per request of the mix, mean", ms(cpu)),
        Figure(f"first walk, {pages} pages of 100, bundles read cold", ms(walk)),
        Figure(f"seeding {servers} servers", f"{seeding:.1f} s"),
    ]


async def measure_import(count: int) -> list[Figure]:
    """Import ``count`` upstream servers: drafts, confirmation, then the timed submission."""
    double = Upstream(page_size=100)
    for serial in range(count):
        double.add(_server(50_000 + serial, "1.0.0"))
    with fresh_registry() as registry, serving(double) as url:
        root = registry.folder / "drafts"
        chosen = await fetch_chosen(url, search="bench", names=[], timeout=30)
        draft_all(registry.settings, root, chosen, team="platform", upstream=url, probe=False)
        for entry in chosen:  # the submitter's confirmation, untimed
            folder = draft_folder(root, entry.name, entry.version)
            (folder / "scope.yaml").write_text(yaml.safe_dump({"tools": TIME_TOOLS}))
        engine = make_engine(registry.settings.database_url or "")
        async with (
            dev_server() as env,
            registry_server(registry.settings, env.client, engine) as api,
        ):
            settings = registry.settings.model_copy(update={"api_url": api})
            started = time.perf_counter()
            fetched = await fetch_chosen(url, search="bench", names=[], timeout=30)
            prepared = await asyncio.to_thread(
                ready_drafts, settings, root, fetched, submitter="", team="platform"
            )
            submitted = await asyncio.to_thread(
                submit_prepared, settings, prepared, as_user="ada@example.com"
            )
            elapsed = time.perf_counter() - started
        engine.dispose()
    started_count = sum(s.started for s in submitted)
    return [
        Figure(
            f"import of {count} upstream servers, all submitted",
            f"{elapsed:.1f} s ({started_count} started)",
            f"< {TARGET_IMPORT_SECONDS:.0f} s",
            elapsed < TARGET_IMPORT_SECONDS and started_count == count,
        )
    ]


def main() -> None:
    """Run both measures and rewrite this benchmark's section of docs/performance.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--imports", type=int, default=100)
    parser.add_argument(
        "--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    figures = measure_serving(args.servers, args.requests)
    figures += asyncio.run(measure_import(args.imports))
    write_section(
        "mcp_registry",
        title="MCP Registry API and import",
        command=(
            f".venv/bin/python -m bench.mcp_registry --servers {args.servers} "
            f"--requests {args.requests} --imports {args.imports}"
        ),
        figures=figures,
        notes=__doc__.split("\n\n", 1)[1].strip(),
    )


if __name__ == "__main__":
    main()
