"""One behavioural evaluation, start to finish: plugin folder, client run, figures.

Runs on a probe worker (it executes what an asset makes the agent do). The client gets
an environment built from nothing: a fresh ``HOME`` in the work folder, the model
credential and endpoint, nonessential traffic off. The credential is passed in the
environment only; it is never in the command line, and any text of the client's that
goes into an error is scrubbed of it first.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from agent_registry.assets.bundle import Bundle
from agent_registry.assets.refs import AssetRef
from agent_registry.behaviour.command import PARTIAL_EXIT, eval_command
from agent_registry.behaviour.plugin_dir import write_plugin
from agent_registry.behaviour.results import BehaviourResultError, read_result
from agent_registry.policy.behaviour import BehaviourPolicy
from agent_registry.vocabulary.behaviour_figures import BehaviourFigures

STDERR_TAIL = 2000
"""How much of the client's stderr an error keeps."""


class BehaviourRunError(RuntimeError):
    """The evaluation did not produce a result; the message says why (no secrets in it)."""


@dataclass(frozen=True)
class EvalClient:
    """The Claude Code that runs evaluations, and the model account it runs them on.

    Attributes:
        binary: The ``claude`` executable.
        api_key: The organisation's model credential.
        base_url: The Messages API endpoint, when not Anthropic's (a gateway).
        path: Folders put on ``PATH`` before the system's (runtimes cases may call).
    """

    binary: Path
    api_key: SecretStr
    base_url: str | None = None
    path: tuple[Path, ...] = ()

    def environment(self, home: Path) -> dict[str, str]:
        """The client's whole environment: nothing inherited from the worker."""
        env = {
            "PATH": ":".join(
                [str(self.binary.parent), *map(str, self.path), "/usr/local/bin:/usr/bin:/bin"]
            ),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "ANTHROPIC_API_KEY": self.api_key.get_secret_value(),
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
        }
        if self.base_url:
            env["ANTHROPIC_BASE_URL"] = self.base_url
        return env


def run_behaviour(
    ref: AssetRef,
    bundle: Bundle,
    *,
    description: str,
    client: EvalClient,
    policy: BehaviourPolicy,
    work_dir: Path,
) -> BehaviourFigures:
    """Evaluate ``bundle`` with its own cases and a no-asset baseline arm.

    Args:
        ref: The version evaluated.
        bundle: Its files (cases under ``evals/``).
        description: The asset's description, for the plugin manifest.
        client: The client and credential to run with.
        policy: Runs, cost ceiling, timeout and model.
        work_dir: An empty folder for the plugin, the client's home and the results.

    Returns:
        The figures; ``partial`` when the cost ceiling stopped the run.

    Raises:
        BehaviourRunError: The client failed, timed out or wrote no readable result.
    """
    plugin = work_dir / "plugin"
    plugin.mkdir()
    home = work_dir / "home"
    home.mkdir()
    write_plugin(ref, bundle, plugin, description=description)
    result_file = work_dir / "result.json"
    argv = eval_command(
        client.binary,
        plugin,
        policy=policy,
        result_file=result_file,
        output_dir=work_dir / "results",
    )
    try:
        done = subprocess.run(
            argv,
            cwd=work_dir,
            env=client.environment(home),
            capture_output=True,
            text=True,
            timeout=policy.timeout.total_seconds(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BehaviourRunError(
            f"the behavioural eval of {ref} took longer than the policy's timeout"
        ) from None
    except OSError as error:
        raise BehaviourRunError(f"could not start {client.binary}: {error.strerror}") from None
    if done.returncode not in (0, 1, PARTIAL_EXIT) or not result_file.exists():
        tail = _scrubbed(done.stderr[-STDERR_TAIL:] or done.stdout[-STDERR_TAIL:], client)
        raise BehaviourRunError(
            f"the behavioural eval of {ref} exited {done.returncode} without a result: {tail}"
        )
    try:
        figures = read_result(result_file.read_text(encoding="utf-8"), model=policy.model)
    except BehaviourResultError as error:
        raise BehaviourRunError(f"{ref}: {error}") from None
    if done.returncode == PARTIAL_EXIT and not figures.partial:
        figures = figures.model_copy(update={"partial": True})
    return figures


def _scrubbed(text: str, client: EvalClient) -> str:
    secret = client.api_key.get_secret_value()
    return text.replace(secret, "[credential]").strip() if secret else text.strip()
