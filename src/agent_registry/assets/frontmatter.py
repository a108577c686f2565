"""Frontmatter, YAML and JSON parsing that keeps line numbers and refuses ambiguity.

Submitters fix what they can find, so every problem here carries the line in the file
as the submitter sees it. Field lines are recorded under *key paths*:

* a top-level key as written: ``name``, ``allowed-tools``;
* a key of a nested mapping after a dot: ``metadata.version``;
* an item of a list by its 0-based index in brackets: ``tools[2]``, ``tools[2].name``.

Two YAML behaviours that silently lose data are turned into problems: duplicate keys
(PyYAML keeps the last one) and non-string top-level keys (``1: x`` or ``true: x``).
Aliases are allowed, but a document whose aliases expand to more than
:data:`MAX_YAML_NODES` values is refused, so a "billion laughs" document cannot blow up
whoever walks or serializes the data later.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agent_registry.vocabulary.findings import Finding, Severity

MAX_YAML_NODES = 20_000
"""Values a YAML document may expand to, counting every use of an alias."""

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_FENCE = "---"

# Checks after which there is no mapping to validate. Duplicate and non-string keys
# still leave one (PyYAML's reading of it), so validation goes on and reports more.
_UNREADABLE_CHECKS = frozenset(
    {
        "spec.frontmatter-missing",
        "spec.frontmatter-unclosed",
        "spec.yaml-syntax",
        "spec.yaml-too-complex",
        "spec.frontmatter-not-mapping",
        "spec.not-mapping",
        "spec.json-syntax",
        "spec.frontmatter-duplicated",
    }
)

_PLAIN_YAML_PROBLEMS = (
    ("mapping values are not allowed", "a value contains ': '; put the value in quotes"),
    ("found character '\\t'", "a tab is used for indentation; YAML needs spaces"),
    ("could not find expected ':'", "a line is missing the ':' between key and value"),
    ("found undefined alias", "an alias (*name) has no matching anchor (&name)"),
    ("expected <block end>", "the indentation is inconsistent"),
    ("did not find expected key", "the indentation is inconsistent"),
    ("found unexpected end of stream", "a quote or bracket is never closed"),
    ("expected ',' or ']'", "a [list] is never closed"),
    ("expected ',' or '}'", "a {mapping} is never closed"),
    ("found unhashable key", "a key is a list or mapping; keys must be plain text"),
    ("expected a single document", "there is more than one YAML document ('---' inside)"),
)


class _SafeLineLoader(yaml.SafeLoader):
    """The safe loader, subclassed so nothing here can alter the shared ``SafeLoader``.

    It builds plain data only (no Python objects), which matters because the text comes
    from submitters.
    """


@dataclass
class YamlResult:
    """A YAML (or JSON) mapping and where its keys are.

    Attributes:
        data: The mapping; empty when the text could not be read as one.
        field_lines: Key path (see the module docstring) to its 1-based line.
        problems: Syntax and ambiguity problems (severity BLOCK).
    """

    data: dict[str, object] = field(default_factory=dict)
    field_lines: dict[str, int] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        """Whether ``data`` is the document's mapping (worth validating)."""
        return not any(p.check_id in _UNREADABLE_CHECKS for p in self.problems)


@dataclass
class FrontmatterResult:
    """A Markdown file split into its YAML frontmatter and its body.

    Attributes:
        data: The frontmatter mapping; empty when it could not be read.
        body: The Markdown after the closing ``---`` (line endings normalized to LF).
        body_line: 1-based line in the file where the body starts.
        field_lines: Key path (see the module docstring) to its 1-based line in the file.
        problems: Frontmatter problems (severity BLOCK).
    """

    data: dict[str, object] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    field_lines: dict[str, int] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        """Whether ``data`` is the frontmatter mapping (worth validating)."""
        return not any(p.check_id in _UNREADABLE_CHECKS for p in self.problems)


def parse_frontmatter(text: str, *, file: str) -> FrontmatterResult:
    """Split a Markdown file into frontmatter and body, and read the frontmatter.

    The file must start with a ``---`` line, the YAML, and another ``---`` line. A
    leading byte-order mark and Windows line endings are tolerated, since editors add
    both. An empty frontmatter reads as an empty mapping, so validation can name each
    missing field.

    Args:
        text: The file's text.
        file: The file's path in the bundle, for the problems.

    Returns:
        The frontmatter, the body and problems; never raises for content problems.
    """
    lines = _normalize(text).split("\n")
    if lines[0].rstrip() != _FENCE:
        problem = _finding(
            "spec.frontmatter-missing",
            "the file does not start with YAML frontmatter (a line with ---)",
            file=file,
            line=1,
            fix="start the file with a line '---', the fields (name: …, description: …), "
            "then a closing '---'",
        )
        return FrontmatterResult(body="\n".join(lines), problems=[problem])
    closing = next((i for i in range(1, len(lines)) if lines[i].rstrip() == _FENCE), None)
    if closing is None:
        problem = _finding(
            "spec.frontmatter-unclosed",
            "the frontmatter opened on line 1 is never closed",
            file=file,
            line=1,
            fix="add a line with --- after the last frontmatter field",
        )
        return FrontmatterResult(body="\n".join(lines), problems=[problem])
    duplicated = _second_block(lines, closing, file=file)
    if duplicated is not None:
        return FrontmatterResult(body="\n".join(lines[closing + 1 :]), problems=[duplicated])
    yaml_text = "\n".join(lines[1:closing]) + "\n"
    # The YAML's first line is line 2 of the file.
    loaded = _load_mapping(
        yaml_text,
        file=file,
        first_line=2,
        field_prefix="frontmatter",
        not_mapping_check="spec.frontmatter-not-mapping",
    )
    return FrontmatterResult(
        data=loaded.data,
        body="\n".join(lines[closing + 1 :]),
        body_line=closing + 2,
        field_lines=loaded.field_lines,
        problems=loaded.problems,
    )


_KEY_LINE = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def _second_block(lines: list[str], closing: int, *, file: str) -> Finding | None:
    """A second ``---`` block of fields right after the first: which one counts is unclear."""
    start = next((i for i in range(closing + 1, len(lines)) if lines[i].strip()), None)
    if start is None or lines[start].rstrip() != _FENCE or start + 1 >= len(lines):
        return None
    if not _KEY_LINE.match(lines[start + 1]):
        return None
    if not any(line.rstrip() == _FENCE for line in lines[start + 2 :]):
        return None
    return _finding(
        "spec.frontmatter-duplicated",
        f"a second frontmatter block starts on line {start + 1}; only one block "
        f"(lines 1-{closing + 1}) is allowed, and tools would read the first one only",
        file=file,
        line=start + 1,
        fix="merge the fields into the first block and delete the second one",
    )


def parse_yaml_mapping(text: str, *, file: str, field_prefix: str | None = None) -> YamlResult:
    """Read a YAML file whose top level must be a mapping (``agentreg.yaml``, ``scope.yaml``).

    Args:
        text: The file's text.
        file: The file's name, for the problems.
        field_prefix: Put before key paths in the problems' ``field`` (e.g. ``scope``).

    Returns:
        The mapping, key lines and problems. An empty file is an empty mapping.
    """
    return _load_mapping(
        _normalize(text),
        file=file,
        first_line=1,
        field_prefix=field_prefix,
        not_mapping_check="spec.not-mapping",
    )


def parse_json_object(text: str, *, file: str, field_prefix: str | None = None) -> YamlResult:
    """Read a JSON file whose top level must be an object (``server.json``).

    ``json`` keeps the last of two equal keys without a word, so duplicates are found by
    a scan of the (already validated) text, which also records the key lines.

    Args:
        text: The file's text.
        file: The file's name, for the problems.
        field_prefix: Put before key paths in the problems' ``field``.

    Returns:
        The object, key lines and problems (``spec.json-syntax``, ``spec.not-mapping``,
        ``spec.duplicate-key``).
    """
    text = text.removeprefix("\ufeff")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        message = f"JSON syntax error: {error.msg} (column {error.colno})"
        return YamlResult(
            problems=[_finding("spec.json-syntax", message, file=file, line=error.lineno)]
        )
    except RecursionError:
        message = "JSON syntax error: the values are nested too deeply to read"
        return YamlResult(problems=[_finding("spec.json-syntax", message, file=file, line=1)])
    if not isinstance(value, dict):
        message = f"must be a JSON object ({{ … }}), not {_kind_of(value)}"
        return YamlResult(problems=[_finding("spec.not-mapping", message, file=file, line=1)])
    lines, duplicates = _json_key_lines(text)
    problems = [
        _duplicate_problem(path, first, second, file=file, field_prefix=field_prefix)
        for path, first, second in duplicates
    ]
    return YamlResult(data=value, field_lines=lines, problems=problems)


def _normalize(text: str) -> str:
    """Drop a byte-order mark and turn CRLF and lone CR into LF (YAML counts all three)."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _load_mapping(
    text: str,
    *,
    file: str,
    first_line: int,
    field_prefix: str | None,
    not_mapping_check: str,
) -> YamlResult:
    """Compose the node tree (for lines and duplicates), then construct the data."""
    try:
        # The reader refuses control characters (NUL…) as soon as it is built.
        loader = _SafeLineLoader(text)
    except yaml.reader.ReaderError as error:
        return YamlResult(problems=[_reader_problem(error, text, file=file, first_line=first_line)])
    try:
        return _compose_and_construct(
            loader,
            file=file,
            first_line=first_line,
            field_prefix=field_prefix,
            not_mapping_check=not_mapping_check,
        )
    except yaml.MarkedYAMLError as error:
        return YamlResult(problems=[_syntax_problem(error, file=file, first_line=first_line)])
    except yaml.YAMLError as error:
        message = f"YAML syntax error: {error}"
        return YamlResult(
            problems=[_finding("spec.yaml-syntax", message, file=file, line=first_line)]
        )
    except RecursionError:
        message = "YAML syntax error: the values are nested too deeply to read"
        return YamlResult(
            problems=[_finding("spec.yaml-syntax", message, file=file, line=first_line)]
        )
    except (ValueError, OverflowError) as error:
        # The constructors raise these for values that scan but cannot be built, such as
        # a timestamp with month 13 or an integer with too many digits.
        message = f"a value cannot be read: {error}"
        return YamlResult(
            problems=[_finding("spec.yaml-syntax", message, file=file, line=first_line)]
        )
    finally:
        loader.dispose()


def _compose_and_construct(
    loader: _SafeLineLoader,
    *,
    file: str,
    first_line: int,
    field_prefix: str | None,
    not_mapping_check: str,
) -> YamlResult:
    root = loader.get_single_node()
    if root is None:
        return YamlResult()
    if not isinstance(root, MappingNode):
        message = f"must be 'key: value' fields, not {_node_kind(root)}"
        line = root.start_mark.line + first_line
        return YamlResult(problems=[_finding(not_mapping_check, message, file=file, line=line)])
    walk = _NodeWalk(file=file, first_line=first_line, field_prefix=field_prefix)
    if not walk.run(root):
        return YamlResult(problems=walk.problems)
    # Keys that are not text are reported by the walk and left out, so that ``data`` is
    # a ``dict[str, object]`` and unhashable keys cannot stop the construction.
    root.value = [(key, value) for key, value in root.value if _is_text_or_merge(key)]
    data = loader.construct_document(root)
    problems = sorted(walk.problems, key=lambda problem: problem.line or 0)
    return YamlResult(data=dict(data), field_lines=walk.lines, problems=problems)


@dataclass
class _NodeWalk:
    """One pass over a composed node tree: key lines, duplicate keys, non-text keys."""

    file: str
    first_line: int
    field_prefix: str | None
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)

    def run(self, root: Node) -> bool:
        """Walk the tree; False when aliases make it expand past the budget."""
        pending: list[tuple[Node, str]] = [(root, "")]
        visits = 0
        while pending:
            node, path = pending.pop()
            visits += 1
            if visits > MAX_YAML_NODES:
                self.problems = [self._too_complex()]
                return False
            if isinstance(node, MappingNode):
                pending.extend(self._mapping_children(node, path))
            elif isinstance(node, SequenceNode):
                pending.extend(self._sequence_children(node, path))
        return True

    def _mapping_children(self, node: MappingNode, path: str) -> list[tuple[Node, str]]:
        children: list[tuple[Node, str]] = []
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                children.append((value_node, path))  # Merged keys belong to this mapping.
                continue
            line = self._line(key_node)
            if not _is_text_key(key_node):
                if not path:
                    self.problems.append(self._non_text_key(key_node, line))
                continue
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            if key in first_lines:
                self.problems.append(
                    _duplicate_problem(
                        child,
                        first_lines[key],
                        line,
                        file=self.file,
                        field_prefix=self.field_prefix,
                    )
                )
            else:
                first_lines[key] = line
            self.lines.setdefault(child, line)
            children.append((value_node, child))
        return children

    def _sequence_children(self, node: SequenceNode, path: str) -> list[tuple[Node, str]]:
        children: list[tuple[Node, str]] = []
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            self.lines.setdefault(child, self._line(item))
            children.append((item, child))
        return children

    def _line(self, node: Node) -> int:
        return int(node.start_mark.line) + self.first_line

    def _non_text_key(self, key_node: Node, line: int) -> Finding:
        shown = key_node.value if isinstance(key_node, ScalarNode) else _node_kind(key_node)
        return _finding(
            "spec.non-string-key",
            f"the key {shown} is read as {_node_kind(key_node)}, not text",
            file=self.file,
            line=line,
            fix=f"put the key in quotes: '{shown}':",
        )

    def _too_complex(self) -> Finding:
        return _finding(
            "spec.yaml-too-complex",
            f"the YAML expands to more than {MAX_YAML_NODES:,} values (aliases used many "
            "times over, or an alias inside itself)",
            file=self.file,
            line=self.first_line,
            fix="write the values out instead of repeating aliases",
        )


def _is_text_key(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _STR_TAG


def _is_text_or_merge(node: Node) -> bool:
    return _is_text_key(node) or node.tag == _MERGE_TAG


def _node_kind(node: Node) -> str:
    """What a node is, in the words a submitter uses."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kinds = {
        "tag:yaml.org,2002:int": "a number",
        "tag:yaml.org,2002:float": "a number",
        "tag:yaml.org,2002:bool": "true/false",
        "tag:yaml.org,2002:null": "empty (null)",
        "tag:yaml.org,2002:timestamp": "a date",
    }
    return kinds.get(str(node.tag), "text")


def _kind_of(value: object) -> str:
    """What a JSON value is, in the words a submitter uses."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


def _reader_problem(
    error: yaml.reader.ReaderError, text: str, *, file: str, first_line: int
) -> Finding:
    """A character YAML does not allow (NUL and other control characters), on its line."""
    character = error.character
    code = character if isinstance(character, int) else ord(str(character)[:1] or "\0")
    shown = "NUL" if code == 0 else "a control character"
    line = text[: error.position].count("\n") + first_line
    return _finding(
        "spec.yaml-syntax",
        f"the text holds U+{code:04X} ({shown}), which YAML does not allow",
        file=file,
        line=line,
        fix="remove the character; it is invisible in most editors",
    )


def _syntax_problem(error: yaml.MarkedYAMLError, *, file: str, first_line: int) -> Finding:
    """Say what the parser said, in plain words first, on the line of the file."""
    said = error.problem or error.context or "unreadable YAML"
    plain = next((words for start, words in _PLAIN_YAML_PROBLEMS if said.startswith(start)), None)
    if plain is None:
        message = f"YAML syntax error: {said}"
    else:
        message = f"YAML syntax error: {plain} (the YAML parser said: {said})"
    mark = error.problem_mark or error.context_mark
    if error.context_mark is not None and ("end of stream" in said or "<stream end>" in said):
        # Something was never closed: where it was opened helps; the end of the file does not.
        mark = error.context_mark
    line = None if mark is None else int(mark.line) + first_line
    return _finding("spec.yaml-syntax", message, file=file, line=line)


def _duplicate_problem(
    path: str, first: int, second: int, *, file: str, field_prefix: str | None
) -> Finding:
    return Finding(
        check_id="spec.duplicate-key",
        severity=Severity.BLOCK,
        message=f"{path} appears twice (lines {first} and {second}); only the last one would count",
        file=file,
        line=second,
        field=f"{field_prefix}.{path}" if field_prefix else path,
        fix="keep one of the two",
    )


def _finding(
    check_id: str, message: str, *, file: str, line: int | None, fix: str | None = None
) -> Finding:
    return Finding(
        check_id=check_id, severity=Severity.BLOCK, message=message, file=file, line=line, fix=fix
    )


# Tokens of already-validated JSON: strings, punctuation, other scalars, and newlines
# (JSON strings cannot hold a raw newline, so every newline token is a line break).
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+|\n')


@dataclass
class _JsonFrame:
    """An open JSON object or array during the line scan."""

    is_object: bool
    path: str
    index: int = 0
    key: str = ""
    expect_key: bool = False
    first_lines: dict[str, int] = field(default_factory=dict)


def _json_key_lines(text: str) -> tuple[dict[str, int], list[tuple[str, int, int]]]:
    """Key path lines of valid JSON, and the duplicates (path, first line, second line)."""
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, int, int]] = []
    stack: list[_JsonFrame] = []
    line = 1
    for match in _JSON_TOKEN.finditer(text):
        piece = match.group()
        frame = stack[-1] if stack else None
        if piece == "\n":
            line += 1
        elif piece == ",":
            _json_next_item(frame)
        elif piece in ("}", "]"):
            stack.pop()
        elif piece == ":":
            continue
        elif frame is not None and frame.expect_key:
            _json_key(frame, json.loads(piece), line, lines, duplicates)
        else:
            path = _json_value_path(frame, line, lines)
            if piece in ("{", "["):
                stack.append(_JsonFrame(is_object=piece == "{", path=path, expect_key=piece == "{"))
    return lines, duplicates


def _json_next_item(frame: _JsonFrame | None) -> None:
    if frame is None:
        return
    if frame.is_object:
        frame.expect_key = True
    else:
        frame.index += 1


def _json_key(
    frame: _JsonFrame,
    key: str,
    line: int,
    lines: dict[str, int],
    duplicates: list[tuple[str, int, int]],
) -> None:
    path = f"{frame.path}.{key}" if frame.path else key
    if key in frame.first_lines:
        duplicates.append((path, frame.first_lines[key], line))
    else:
        frame.first_lines[key] = line
    lines.setdefault(path, line)
    frame.key = key
    frame.expect_key = False


def _json_value_path(frame: _JsonFrame | None, line: int, lines: dict[str, int]) -> str:
    """Path of a value starting here; records the line of list items."""
    if frame is None:
        return ""
    if frame.is_object:
        return f"{frame.path}.{frame.key}" if frame.path else frame.key
    path = f"{frame.path}[{frame.index}]"
    lines.setdefault(path, line)
    return path
