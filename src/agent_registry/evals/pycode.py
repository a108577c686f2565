"""Python read as code: secrets that reach the network, and code fetched then executed.

The script is parsed with the interpreter's own parser (:mod:`ast`, what Bandit builds
on) and followed through its assignments, so ``data = open(key).read()`` then
``requests.post(url, data=data)`` is one flow however the lines are worded or ordered.
The analysis is per script and flow-insensitive on purpose: a script that reads a key
file and posts anything anywhere is worth a reviewer's eyes even when the two are
linked through a helper the analysis does not follow.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache

from agent_registry.evals import shell

_SEND_CALLS = frozenset(
    {
        "requests.post",
        "requests.put",
        "requests.patch",
        "requests.request",
        "httpx.post",
        "httpx.put",
        "httpx.patch",
        "httpx.request",
        "session.post",
        "client.post",
        "urllib.request.urlopen",
        "urlopen",
        "urllib.request.Request",
        "Request",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "HTTPConnection",
        "HTTPSConnection",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "SMTP",
        "ftplib.FTP",
        "FTP",
        "socket.create_connection",
        "paramiko.SSHClient",
        "aiohttp.ClientSession",
        "upload_file",
        "put_object",
        "sendall",
        "send",
        "sendto",
    }
)
_FETCH_CALLS = frozenset(
    {
        "requests.get",
        "httpx.get",
        "urllib.request.urlopen",
        "urlopen",
        "urlretrieve",
        "urllib.request.urlretrieve",
        "session.get",
        "client.get",
    }
)
_EXEC_CALLS = frozenset({"exec", "eval", "compile", "runpy.run_path", "__import__"})
_SHELL_CALLS = frozenset(
    {
        "os.system",
        "os.popen",
        "subprocess.run",
        "subprocess.call",
        "subprocess.Popen",
        "subprocess.check_call",
        "subprocess.check_output",
        "run",
        "call",
        "Popen",
        "check_output",
        "check_call",
    }
)


@dataclass
class PythonReading:
    """What a Python script does with secrets, the network and fetched code.

    Attributes:
        secrets: Where it reads a credential file or the whole environment.
        sends: Calls that send data off the machine.
        exfiltrates: Send calls fed by a secret.
        runs_fetched: Calls that execute what was fetched.
        parsed: False when the file is not valid Python (then nothing is known).
    """

    secrets: list[int] = field(default_factory=list)
    sends: list[int] = field(default_factory=list)
    exfiltrates: list[int] = field(default_factory=list)
    runs_fetched: list[int] = field(default_factory=list)
    parsed: bool = True

    @property
    def leaks(self) -> bool:
        """A secret flows to a send, or a secret is read and data sent in one script."""
        return bool(self.exfiltrates) or (bool(self.secrets) and bool(self.sends))


_MAY_MATTER = re.compile(
    r"requests|httpx|urllib|urlopen|http\.client|HTTPConnection|smtplib|ftplib|socket"
    r"|paramiko|aiohttp|boto|upload_file|put_object|subprocess|os\.system|popen|\bexec\b"
    r"|\beval\b|runpy|__import__",
)
"""Names a script must mention to send data, run a shell or execute code at all."""


@lru_cache(maxsize=1024)
def read(source: str) -> PythonReading:
    """Read one Python script (cached: several checks read the same script)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return PythonReading(parsed=False)
    reading = PythonReading()
    if not _MAY_MATTER.search(source):
        return reading  # no network, no shell, no exec: nothing here can leak or fetch
    secret_names: set[str] = set()
    fetched_names: set[str] = set()
    assignments = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.With | ast.NamedExpr)
    ]
    for _ in range(3):  # a few rounds reach the fixed point of short chains
        before = len(secret_names) + len(fetched_names)
        for assignment in assignments:
            value, targets = _assigned(assignment)
            if value is None or set(targets) <= secret_names | fetched_names:
                continue
            if _is_secret(value, secret_names):
                secret_names.update(targets)
            if _is_fetch(value, fetched_names):
                fetched_names.update(targets)
        if len(secret_names) + len(fetched_names) == before:
            break
    for walked in ast.walk(tree):
        if _is_secret_source(walked):
            reading.secrets.append(getattr(walked, "lineno", 0))
        if not isinstance(walked, ast.Call):
            continue
        node = walked
        name = _dotted(node.func)
        tail = name.rsplit(".", 1)[-1]
        line = node.lineno
        if (name in _SEND_CALLS or tail in _SEND_CALLS) and _sends_remote(node):
            reading.sends.append(line)
            if any(_is_secret(arg, secret_names) for arg in _arguments(node)):
                reading.exfiltrates.append(line)
        if name in _EXEC_CALLS and any(_is_fetch(arg, fetched_names) for arg in node.args):
            reading.runs_fetched.append(line)
        if name in _SHELL_CALLS or tail in ("system", "popen"):
            command = " ".join(_strings(node))
            if command:
                sub = shell.read(command)
                if sub.runs_fetched:
                    reading.runs_fetched.append(line)
                if sub.leaks:
                    reading.exfiltrates.append(line)
                elif sub.sends:
                    reading.sends.append(line)
    return reading


def _assigned(node: ast.AST) -> tuple[ast.AST | None, list[str]]:
    if isinstance(node, ast.Assign):
        return node.value, [
            n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)
        ]
    if isinstance(node, ast.AnnAssign):
        return node.value, [n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)]
    if isinstance(node, ast.NamedExpr):
        return node.value, [node.target.id]
    if isinstance(node, ast.With):
        for item in node.items:
            if item.optional_vars is not None:
                return item.context_expr, [
                    n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)
                ]
    return None, []


def _is_secret(node: ast.AST, names: set[str]) -> bool:
    return any(
        _is_secret_source(inner) or (isinstance(inner, ast.Name) and inner.id in names)
        for inner in ast.walk(node)
    )


def _is_secret_source(node: ast.AST) -> bool:
    """A credential path, or the environment taken whole (not one variable of it)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(shell.SENSITIVE_PATH.search(node.value)) and len(node.value) < 300
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name in ("dict", "json.dumps", "str", "repr") and any(
            _dotted(arg) in ("os.environ", "environ") for arg in node.args
        ):
            return True
        if name in ("os.environ.items", "environ.items", "os.environ.values"):
            return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        constants = [
            c for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)
        ]
        constants.sort(key=lambda c: (c.lineno, c.col_offset))
        parts = [str(c.value) for c in constants]
        return bool(shell.SENSITIVE_PATH.search("/".join(parts)))
    return False


def _is_fetch(node: ast.AST, names: set[str]) -> bool:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and inner.id in names:
            return True
        if isinstance(inner, ast.Call):
            name = _dotted(inner.func)
            if name in _FETCH_CALLS or name.rsplit(".", 1)[-1] in ("urlopen", "urlretrieve"):
                return True
    return False


def _sends_remote(node: ast.Call) -> bool:
    """Unless every URL the call names is on this machine, it may send data away."""
    urls = [s for s in _strings(node) if "://" in s]
    if not urls:
        return True
    return any(shell.remote_urls(url) for url in urls)


def _arguments(node: ast.Call) -> list[ast.AST]:
    return [*node.args, *(keyword.value for keyword in node.keywords)]


def _strings(node: ast.AST) -> list[str]:
    return [
        c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)
    ]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""
