"""The bad-input table: each case builds its input in a temporary folder.

Many of these inputs cannot live in git (symlinks, FIFOs, device nodes, invalid UTF-8,
names that are not UTF-8, sparse multi-gigabyte files), so every case is a small builder
run against ``tmp_path``. ``expect`` holds text that must appear in what the user sees,
from ``agentreg validate`` and from ``agentreg submit`` alike.
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GOOD_DESCRIPTION = (
    "Summarises a PDF into a one-page brief. Use when the user shares a PDF and asks what it says."
)
BODY = "\n# PDF summary\n\nRead the PDF, then write the brief.\n"
FLAGS = ("--team", "qa", "--version", "1.0.0")
"""Team and version on the command line, so that a case fails for its own reason only."""


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes:
        id: The pytest id.
        build: Makes the input under the given folder and returns the path to pass.
        expect: Fragments both commands must print (after whitespace is collapsed).
        flags: Extra ``submit`` arguments.
        validate_blocks: Whether ``validate`` exits 1; False only where the problem is
            registry metadata that ``validate`` lists under "submit will need".
        root_only: Needs root (device nodes).
        problems: How many blocking problems the output may list.
        at_eval: The manifest is valid, so ``submit`` sends the version and the eval
            refuses it: the version is recorded as EvalFailed, to be revised.
        bug: A known defect outside ``assets/`` that lets ``submit`` through; the
            submit test is an expected failure while it is there.
    """

    id: str
    build: Callable[[Path], Path]
    expect: tuple[str, ...]
    flags: tuple[str, ...] = FLAGS
    validate_blocks: bool = True
    root_only: bool = False
    bug: str | None = None
    problems: int = 1
    at_eval: bool = False


SIDECAR_PROBLEMS_LOST = (
    "submit only refuses when the manifest is invalid (cli/submit.py _checked); problems "
    "found in the sidecar are dropped, and the sidecar is not part of the stored bundle, "
    "so the worker never sees them"
)


# --- builders -------------------------------------------------------------------------


def skill(
    root: Path,
    name: str = "pdf-brief",
    *,
    folder: str | None = None,
    manifest: str | bytes | None = None,
    files: dict[str, str | bytes] | None = None,
    sidecar: str | bytes | None = None,
) -> Path:
    """A skill folder; ``manifest`` replaces the whole SKILL.md when given."""
    path = root / (folder or name)
    path.mkdir(parents=True)
    text = (
        manifest
        if manifest is not None
        else (f"---\nname: {name}\ndescription: {GOOD_DESCRIPTION}\n---\n{BODY}")
    )
    _write(path / "SKILL.md", text)
    for relative, content in (files or {}).items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        _write(path / relative, content)
    if sidecar is not None:
        _write(path / "agentreg.yaml", sidecar)
    return path


def eval_flags(case_id: str) -> tuple[str, ...]:
    """Team and a version of the case's own: such a case does start a lifecycle."""
    return ("--team", "qa", "--version", f"1.0.0-{case_id}")


def frontmatter(fields: str, body: str = BODY) -> str:
    return f"---\n{fields}---\n{body}"


def subagent(root: Path, text: str, *, file: str = "doc-checker.md") -> Path:
    path = root / file
    path.write_text(text)
    return path


def subagent_md(name: str = "doc-checker", extra: str = "") -> str:
    return (
        f"---\nname: {name}\ndescription: Checks documentation for broken links. "
        f"Use after editing docs.\ntools: Read, Grep\n{extra}---\n\nYou check docs.\n"
    )


PACKAGE: dict[str, object] = {
    "registryType": "pypi",
    "identifier": "mcp-server-time",
    "version": "2026.10.19",
    "transport": {"type": "stdio"},
}
SERVER: dict[str, object] = {
    "name": "io.github.acme/clock",
    "description": "Current time in any IANA time zone.",
    "version": "1.0.0",
    "packages": [PACKAGE],
}
SCOPE = "tools:\n  - name: get_current_time\n    effects: [read]\n"


def mcp(
    root: Path,
    *,
    server: str | dict[str, object] | None = None,
    scope: str | None = SCOPE,
    extra: dict[str, str] | None = None,
) -> Path:
    path = root / "clock"
    path.mkdir()
    if server is None:
        server = SERVER
    text = server if isinstance(server, str) else json.dumps(server, indent=2)
    (path / "server.json").write_text(text)
    if scope is not None:
        (path / "scope.yaml").write_text(scope)
    for name, content in (extra or {}).items():
        (path / name).write_text(content)
    return path


def server_with(**changes: object) -> dict[str, object]:
    return {**SERVER, **changes}


def package_version(version: str) -> dict[str, object]:
    return server_with(packages=[{**PACKAGE, "version": version}])


def sidecar_version(version: str) -> Callable[[Path], Path]:
    return lambda root: skill(root, sidecar=f"owner-team: qa\nversion: '{version}'\n")


def mcp_package_version(version: str) -> Callable[[Path], Path]:
    return lambda root: mcp(root, server=package_version(version))


def _write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def with_files(count: int) -> Callable[[Path], Path]:
    return lambda root: skill(root, files={f"data/f{i:03}.txt": "x\n" for i in range(count)})


def deep(root: Path) -> Path:
    path = skill(root)
    nested = path.joinpath(*[f"d{i}" for i in range(10)])
    nested.mkdir(parents=True)
    (nested / "leaf.md").write_text("deep\n")
    return path


def big_file(root: Path) -> Path:
    return skill(root, files={"data/big.txt": "a" * (8 * 1024 * 1024 + 1)})


def big_bundle(root: Path) -> Path:
    return skill(root, files={f"data/part{i}.txt": "b" * (6 * 1024 * 1024) for i in range(3)})


def sparse_bomb(root: Path) -> Path:
    """A file that claims 4 GiB and takes no disk: it must be refused without reading it."""
    path = skill(root)
    with (path / "bomb.bin").open("wb") as stream:
        stream.truncate(4 * 1024**3)
    return path


def tar_bomb(root: Path) -> Path:
    """A tar.gz of 64 MiB of zeros: archives are not a submission format."""
    archive = root / "pdf-brief.tar.gz"
    source = skill(root / "src")
    filler = source / "zeros.bin"
    with filler.open("wb") as stream:
        stream.truncate(64 * 1024**2)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="pdf-brief")
    return archive


def symlink_outside(root: Path) -> Path:
    secret = root / "secret.txt"
    secret.write_text("outside\n")
    path = skill(root)
    (path / "notes.md").symlink_to(secret)
    return path


def symlink_loop(root: Path) -> Path:
    path = skill(root)
    (path / "a.md").symlink_to("b.md")
    (path / "b.md").symlink_to("a.md")
    return path


def symlink_dangling(root: Path) -> Path:
    path = skill(root)
    (path / "gone.md").symlink_to("nowhere.md")
    return path


def symlink_folder(root: Path) -> Path:
    path = skill(root, files={"docs/a.md": "a\n"})
    (path / "more").symlink_to("docs")
    return path


def fifo_inside(root: Path) -> Path:
    path = skill(root)
    os.mkfifo(path / "pipe.md")
    return path


def fifo_as_subagent(root: Path) -> Path:
    path = root / "doc-checker.md"
    os.mkfifo(path)
    return path


def fifo_as_sidecar(root: Path) -> Path:
    path = skill(root)
    os.mkfifo(path / "agentreg.yaml")
    return path


def device_node(root: Path) -> Path:
    path = skill(root)
    os.mknod(path / "null.md", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    return path


def bad_name(raw: bytes) -> Callable[[Path], Path]:
    def build(root: Path) -> Path:
        path = skill(root)
        with open(os.fsencode(path) + b"/" + raw, "wb") as stream:
            stream.write(b"x\n")
        return path

    return build


def empty_folder(root: Path) -> Path:
    path = root / "pdf-brief"
    path.mkdir()
    return path


def plain_file(root: Path) -> Path:
    path = root / "notes.txt"
    path.write_text("just notes\n")
    return path


def both_kinds(root: Path) -> Path:
    path = skill(root)
    (path / "server.json").write_text(json.dumps(SERVER))
    return path


def billion_laughs() -> str:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 8):
        refs = ",".join([f"*{chr(96 + i)}"] * 10)
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [{refs}]")
    return "\n".join(lines) + "\n"


# --- the table ------------------------------------------------------------------------

NAME = "name: pdf-brief\n"
DESC = f"description: {GOOD_DESCRIPTION}\n"

CASES: list[Case] = [
    # Malformed YAML and frontmatter.
    Case(
        "yaml-colon-in-value",
        lambda r: skill(r, manifest=frontmatter(NAME + "description: Briefs: for PDFs\n")),
        ("SKILL.md:3", "put the value in quotes"),
    ),
    Case(
        "yaml-tab-indent",
        lambda r: skill(r, manifest=frontmatter(NAME + DESC + "metadata:\n\tversion: '1'\n")),
        ("SKILL.md:5", "a tab is used for indentation"),
    ),
    Case(
        "yaml-unclosed-quote",
        lambda r: skill(r, manifest=frontmatter(NAME + 'description: "never closed\n')),
        ("SKILL.md", "YAML"),
    ),
    Case(
        "yaml-billion-laughs",
        lambda r: skill(r, manifest=frontmatter(NAME + DESC + billion_laughs())),
        ("SKILL.md", "expands to more than 20,000 values"),
    ),
    Case(
        "frontmatter-missing",
        lambda r: skill(r, manifest="# PDF brief\n\nname: pdf-brief\n"),
        ("SKILL.md:1", "does not start with YAML frontmatter"),
    ),
    Case(
        "frontmatter-unclosed",
        lambda r: skill(r, manifest="---\n" + NAME + DESC + BODY),
        ("SKILL.md:1", "never closed"),
    ),
    Case(
        "frontmatter-duplicated-block",
        lambda r: skill(
            r, manifest=frontmatter(NAME + DESC, body=f"---\nname: other\n{DESC}---\n{BODY}")
        ),
        ("SKILL.md:5", "a second frontmatter block starts on line 5"),
    ),
    Case(
        "frontmatter-duplicate-key",
        lambda r: skill(r, manifest=frontmatter(NAME + DESC + "name: pdf-brief\n")),
        ("SKILL.md:4", "name", "twice"),
        flags=eval_flags("dupkey"),
        at_eval=True,
    ),
    Case(
        "frontmatter-not-a-mapping",
        lambda r: skill(r, manifest=frontmatter("- name\n- description\n")),
        ("SKILL.md:2", "must be 'key: value' fields, not a list"),
    ),
    # Wrong types.
    Case(
        "name-is-a-list",
        lambda r: skill(r, manifest=frontmatter("name: [pdf, brief]\n" + DESC)),
        ("SKILL.md:2", "name: must be text, not a list"),
    ),
    Case(
        "description-is-a-number",
        lambda r: skill(r, manifest=frontmatter(NAME + "description: 42\n")),
        ("SKILL.md:3", "description: must be text, but it reads as 42"),
    ),
    Case(
        "subagent-max-turns-text",
        lambda r: subagent(r, subagent_md(extra="maxTurns: many\n")),
        ("doc-checker.md:5", "maxTurns: must be a valid integer"),
    ),
    # Invalid names.
    Case(
        "name-uppercase",
        lambda r: skill(r, "PDF-Brief"),
        ("SKILL.md:2", "name", "lowercase letters"),
    ),
    Case(
        "name-with-spaces",
        lambda r: skill(r, folder="pdf brief", manifest=frontmatter("name: pdf brief\n" + DESC)),
        ("SKILL.md:2", "name", "lowercase letters"),
    ),
    Case(
        "name-too-long",
        lambda r: skill(r, "a" * 65),
        ("SKILL.md:2", "at most 64 characters (it has 65)"),
    ),
    Case(
        "name-reserved-word",
        lambda r: skill(r, "claude-helper"),
        ("SKILL.md:2", "name: must not contain the reserved word 'claude'"),
    ),
    Case(
        "name-with-path-characters",
        lambda r: skill(
            r, folder="pdf-brief", manifest=frontmatter("name: ../../etc/passwd\n" + DESC)
        ),
        ("SKILL.md:2", "name", "lowercase letters"),
    ),
    Case(
        "name-not-the-folder",
        lambda r: skill(r, folder="pdf-summary", manifest=frontmatter(NAME + DESC)),
        ("SKILL.md:2", "name is 'pdf-brief' but the folder is 'pdf-summary'"),
        flags=eval_flags("mismatch"),
        at_eval=True,
    ),
    Case(
        "subagent-name-uppercase",
        lambda r: subagent(r, subagent_md("Doc_Checker")),
        ("doc-checker.md:2", "name", "lowercase letters"),
    ),
    # Version ranges: in the sidecar (registry version) and in server.json.
    *[
        Case(
            f"sidecar-version-{label}",
            sidecar_version(version),
            (f"version '{version}' is not an exact semantic version", "agentreg.yaml"),
            flags=(),
            validate_blocks=False,
        )
        for label, version in (
            ("caret", "^1.2"),
            ("gte", ">=1"),
            ("latest", "latest"),
            ("x-range", "1.x"),
        )
    ],
    Case(
        "server-json-version-range",
        lambda r: mcp(r, server=server_with(version="^1.2")),
        ("server.json:4", "version: '^1.2' is not an exact version"),
        flags=("--team", "qa"),
    ),
    *[
        Case(
            f"package-version-{label}",
            mcp_package_version(version),
            ("server.json:9", f"packages.0.version: '{version}' is not an exact version"),
        )
        for label, version in (("gte", ">=1"), ("latest", "latest"), ("x-range", "1.x"))
    ],
    # Size and shape caps.
    Case("file-too-large", big_file, ("data/big.txt", "the limit for one file is 8,388,608 bytes")),
    Case("bundle-too-large", big_bundle, ("the files add up to", "the limit is 16,777,216 bytes")),
    Case("too-many-files", with_files(501), ("more than 500 files",)),
    Case("nested-too-deep", deep, ("nested 9 levels deep; the limit is 8",)),
    Case("sparse-4gib-file", sparse_bomb, ("bomb.bin", "4,294,967,296 bytes")),
    Case("tar-gz-bomb-submitted", tar_bomb, ("pdf-brief.tar.gz is not an asset",)),
    # Paths that leave the bundle.
    Case(
        "mark-file-climbs-out",
        lambda r: skill(
            r,
            sidecar="false-positives:\n  - check: secrets.high-entropy\n"
            "    file: ../../etc/passwd\n    reason: test data\n",
        ),
        ("agentreg.yaml:2", "false-positives[0].file: must be the bundle path"),
        bug=SIDECAR_PROBLEMS_LOST,
    ),
    Case(
        "mark-file-absolute",
        lambda r: skill(
            r,
            sidecar="false-positives:\n  - check: secrets.high-entropy\n"
            "    file: /etc/passwd\n    reason: test data\n",
        ),
        ("agentreg.yaml:2", "false-positives[0].file: must be the bundle path"),
        bug=SIDECAR_PROBLEMS_LOST,
    ),
    Case("symlink-outside", symlink_outside, ("notes.md", "outside the bundle folder")),
    Case(
        "symlink-loop",
        symlink_loop,
        ("a.md: is a symlink to b.md, which leads back to itself",),
        problems=2,
    ),
    Case("symlink-dangling", symlink_dangling, ("gone.md", "nowhere.md, which does not exist")),
    Case("symlink-to-folder", symlink_folder, ("more", "links to folders are not followed")),
    # Files that are not regular files.
    Case("fifo-in-folder", fifo_inside, ("pipe.md", "a named pipe (FIFO)")),
    Case(
        "fifo-as-the-subagent",
        fifo_as_subagent,
        ("doc-checker.md is a named pipe (FIFO); submit a folder or a file",),
    ),
    Case(
        "fifo-as-the-sidecar",
        fifo_as_sidecar,
        ("agentreg.yaml", "not a regular file"),
        bug=SIDECAR_PROBLEMS_LOST,
    ),
    Case("device-node", device_node, ("null.md", "a character device"), root_only=True),
    # Encodings and bytes.
    Case(
        "skill-md-invalid-utf8",
        lambda r: skill(r, manifest=frontmatter(NAME + DESC).encode() + b"caf\xe9 cr\xe8me\n"),
        ("SKILL.md:9", "is not UTF-8 text (byte 186 cannot be read)"),
    ),
    Case(
        "skill-md-utf16-bom",
        lambda r: skill(r, manifest=frontmatter(NAME + DESC).encode("utf-16")),
        ("SKILL.md:1", "is not UTF-8 text"),
    ),
    Case(
        "sidecar-invalid-utf8",
        lambda r: skill(r, sidecar=b"owner-team: \xff\xfe platform\n"),
        ("agentreg.yaml:1", "is not UTF-8 text"),
        bug=SIDECAR_PROBLEMS_LOST,
    ),
    Case(
        "skill-md-nul-byte",
        lambda r: skill(r, manifest=frontmatter(NAME + "description: brief\x00er\n")),
        ("SKILL.md:3", "the text holds U+0000 (NUL), which YAML does not allow"),
    ),
    Case(
        "scope-yaml-nul-byte",
        lambda r: mcp(r, scope="tools:\n  - name: get\x00time\n    effects: [read]\n"),
        ("scope.yaml:2", "the text holds U+0000 (NUL), which YAML does not allow"),
        flags=eval_flags("scopenul"),
        problems=2,  # scope.mcp-no-tools repeats that scope.yaml is unusable
        at_eval=True,
    ),
    Case("file-name-not-utf8", bad_name(b"caf\xe9.md"), ("caf\\xe9.md", "not valid UTF-8")),
    Case("file-name-backslash", bad_name(b"a\\b.md"), ("a\\b.md", "backslash")),
    # Not an asset at all.
    Case("empty-folder", empty_folder, ("holds neither SKILL.md nor server.json",)),
    Case("plain-file", plain_file, ("notes.txt is not an asset",)),
    Case(
        "skill-md-instead-of-folder",
        lambda r: skill(r) / "SKILL.md",
        ("is the SKILL.md of a skill; submit the skill's folder",),
    ),
    Case("does-not-exist", lambda r: r / "nope", ("nope does not exist",)),
    Case("skill-and-server", both_kinds, ("holds both SKILL.md and server.json",)),
    # MCP servers.
    Case(
        "scope-yaml-missing",
        lambda r: mcp(r, scope=None),
        ("scope.yaml", "an MCP server needs scope.yaml"),
        flags=eval_flags("noscope"),
        problems=2,  # scope.mcp-no-tools repeats that scope.yaml is unusable
        at_eval=True,
    ),
    Case(
        "scope-yaml-unknown-key",
        lambda r: mcp(r, scope=SCOPE + "owner: me\n"),
        ("scope.yaml:4", "owner", "is not a known field"),
        flags=eval_flags("scopekey"),
        problems=2,  # scope.mcp-no-tools repeats that scope.yaml is unusable
        at_eval=True,
    ),
    Case(
        "scope-yaml-tool-unknown-key",
        lambda r: mcp(r, scope=SCOPE + "    danger: none\n"),
        ("scope.yaml:4", "danger", "is not a known field"),
        flags=eval_flags("toolkey"),
        problems=2,  # scope.mcp-no-tools repeats that scope.yaml is unusable
        at_eval=True,
    ),
    Case(
        "server-json-not-json",
        lambda r: mcp(r, server='{\n  "name": "io.github.acme/clock",\n  oops\n}\n'),
        ("server.json:3", "JSON syntax error"),
    ),
    Case(
        "server-json-array",
        lambda r: mcp(r, server="[1, 2]\n"),
        ("server.json:1", "must be a JSON object"),
    ),
    Case(
        "server-json-duplicate-key",
        lambda r: mcp(
            r,
            server=json.dumps(SERVER, indent=2)[:-2] + ',\n  "name": "io.github.acme/other"\n}',
        ),
        ("server.json", "name", "twice"),
        flags=eval_flags("jsondup"),
        at_eval=True,
    ),
    # Sidecars.
    Case(
        "sidecar-unknown-key",
        lambda r: skill(r, sidecar="owner-team: qa\ncolour: blue\n"),
        ("agentreg.yaml:2", "colour is not a sidecar key"),
        bug=SIDECAR_PROBLEMS_LOST,
    ),
    Case(
        "sidecar-not-yaml",
        lambda r: skill(r, sidecar="owner-team: [qa\n"),
        ("agentreg.yaml", "YAML"),
        bug=SIDECAR_PROBLEMS_LOST,
    ),
]
