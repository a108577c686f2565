"""``agentreg up``: the whole stack on the embedded defaults, in the foreground.

Migrates the SQLite registry, starts the Temporal dev server (file persistence under the
data folder, Web UI, our search attributes registered) and the worker, and stops all of
it on Ctrl-C. The worker runs as its own process (``agentreg-worker``), and so does a
probe worker (``agentreg-worker --probe``, without credentials): this package never
imports the worker's code.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from agent_registry.cli.errors import CliError
from agent_registry.cli.render import out
from agent_registry.cli.serve import DEFAULT_PORT
from agent_registry.config import Settings
from agent_registry.registry.audit_chain import load_audit_key, rekey_chain
from agent_registry.registry.audit_key import AUDIT_KEY_FILE, embedded_audit_key
from agent_registry.registry.db import make_engine, session_scope, upgrade_database
from agent_registry.signing.embedded import embedded_signing
from agent_registry.temporal import dev_server_flags, search_attribute_flags

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0


def _binary(name: str) -> Path:
    """A console script installed beside this interpreter (the venv's ``bin``)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise CliError(f"{path} is missing; run `make up` (it installs the project) first")
    return path


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, process: subprocess.Popen[bytes], *, what: str, see: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CliError(f"{what} exited early; see {see}")
        if _port_in_use(port):
            return
        time.sleep(0.2)
    raise CliError(f"{what} did not listen on :{port} in time; see {see}")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop children in reverse start order: the worker drains before the server goes."""
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def stack_environment(base: Mapping[str, str], *, port: int, ui_port: int) -> dict[str, str]:
    """The worker's and the registry server's environment: ``base`` pointed at this stack.

    The Temporal address and the Web UI's address follow ``--port`` and ``--ui-port``,
    so the links the dashboard, Slack messages and notices carry open the UI this stack
    started, whatever ``AGENT_REGISTRY_UI_URL`` said before.
    """
    return {
        **base,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        "AGENT_REGISTRY_UI_URL": f"http://localhost:{ui_port}",
    }


PROBE_WITHHELD = (
    "AGENT_REGISTRY_DATABASE_URL",
    "AGENT_REGISTRY_SIGNING_KEY",
    "AGENT_REGISTRY_AUDIT_KEY",
    "AGENT_REGISTRY_SLACK_BOT_TOKEN",
    "AGENT_REGISTRY_SLACK_SIGNING_SECRET",
    "AGENT_REGISTRY_SLACK_APP_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
)
"""Credentials the probe worker is never given (it refuses to start holding one)."""


def probe_environment(worker_env: Mapping[str, str]) -> dict[str, str]:
    """The probe worker's environment: the worker's, less every credential."""
    return {name: value for name, value in worker_env.items() if name not in PROBE_WITHHELD}


def _embedded_audit_key(data_dir: Path, settings: Settings) -> dict[str, str]:
    """The stack's audit key; a chain written before the key existed is keyed once.

    Raises:
        CliError: The chain written before is broken, so keying it would bless a rewrite.
    """
    audit_env, created = embedded_audit_key(data_dir, os.environ)
    if not created:
        return audit_env
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as session:
            result = rekey_chain(session, key=load_audit_key(data_dir / AUDIT_KEY_FILE))
    finally:
        engine.dispose()
    if result.broken is not None:
        raise CliError(
            f"the audit chain is broken after {result.count} good events "
            f"({result.broken.message}); it was not keyed with the new audit key"
        )
    out.print(f"audit key: {data_dir / AUDIT_KEY_FILE} (chain keyed: {result.count} events)")
    return audit_env


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def up(
    port: Annotated[int, typer.Option(help="Temporal frontend (gRPC) port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port.")] = 8233,
    registry_port: Annotated[
        int, typer.Option(help="The registry server: JSON API, dashboard, Slack endpoint.")
    ] = DEFAULT_PORT,
) -> None:
    """Start the dev server, the Web UI, the worker and the registry; Ctrl-C stops them."""
    # SIGTERM (a supervisor, `kill`) stops the stack as Ctrl-C does; SIGINT is restored in
    # case a parent shell started us with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    settings = Settings()
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    for taken in (port, ui_port, registry_port):
        if _port_in_use(taken):
            raise CliError(
                f"port {taken} is already in use; stop what holds it or pass "
                "--port/--ui-port/--registry-port"
            )
    upgrade_database(settings.resolved_database_url)
    audit_env = _embedded_audit_key(data_dir, settings)
    shown = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    out.print(f"registry migrated: {shown}")
    server_log = data_dir / "temporal-server.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with server_log.open("ab") as log_file:
            processes.append(
                subprocess.Popen(
                    [
                        str(_binary("temporal")),
                        "server",
                        "start-dev",
                        "--db-filename",
                        str(data_dir / "temporal.db"),
                        "--ip",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--ui-port",
                        str(ui_port),
                        "--log-level",
                        "warn",
                        *search_attribute_flags(),
                        *dev_server_flags(),
                    ],
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    # Own session: Ctrl-C reaches only us, and we stop the children in order.
                    start_new_session=True,
                )
            )
        _wait_for_port(port, processes[0], what="the Temporal dev server", see=str(server_log))
        worker_env = {
            **stack_environment(os.environ, port=port, ui_port=ui_port),
            **embedded_signing(data_dir, os.environ),
            **audit_env,
        }
        processes.append(
            subprocess.Popen(
                [str(_binary("agentreg-worker"))], env=worker_env, start_new_session=True
            )
        )
        # The probe worker: the sandboxed live MCP probe, with no credential in reach.
        processes.append(
            subprocess.Popen(
                [str(_binary("agentreg-worker")), "--probe"],
                env=probe_environment(worker_env),
                start_new_session=True,
            )
        )
        # The registry server: loopback only, since the embedded default has no auth.
        processes.append(
            subprocess.Popen(
                [
                    str(_binary("agentreg")),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(registry_port),
                ],
                env=worker_env,
                start_new_session=True,
            )
        )
        _wait_for_port(
            registry_port, processes[-1], what="the registry server", see="the output above"
        )
        _announce(port=port, ui_port=ui_port, registry_port=registry_port, server_log=server_log)
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        raise CliError("a part of the stack stopped; see the output above and " + str(server_log))
    except KeyboardInterrupt:
        out.print("\nstopping the worker and the dev server…")
    finally:
        _stop(processes)


def _announce(*, port: int, ui_port: int, registry_port: int, server_log: Path) -> None:
    out.print(f"[bold green]Agent Registry is up.[/] Temporal at 127.0.0.1:{port}")
    out.print(f"  Temporal Web UI: [bold]http://localhost:{ui_port}[/]  (server log: {server_log})")
    out.print(
        f"  Registry dashboard: [bold]http://localhost:{registry_port}/[/]  "
        f"(API: http://localhost:{registry_port}/api/v1, "
        f"OpenAPI: http://localhost:{registry_port}/openapi.json)"
    )
    if port != 7233:
        out.print(f"  in another terminal: export TEMPORAL_ADDRESS=127.0.0.1:{port}")
    if ui_port != 8233:
        out.print(f"  in another terminal: export AGENT_REGISTRY_UI_URL=http://localhost:{ui_port}")
    out.print("  next, in another terminal:")
    out.print("    .venv/bin/agentreg submit examples/skills/release-notes --as alice")
    out.print("    .venv/bin/agentreg review approve skill/release-notes@1.0.0 --as bob")
    out.print("    .venv/bin/agentreg show skill/release-notes@1.0.0")
    out.print("    .venv/bin/agentreg search notes")
    out.print(
        "    export AGENT_REGISTRY_TRUSTED_KEYS=.agent-registry/registry-keys.json"
        "   # install checks signatures"
    )
    out.print("    .venv/bin/agentreg install skill/release-notes --into /tmp/my-project")
    out.print("  Ctrl-C stops everything.")
