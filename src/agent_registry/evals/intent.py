"""Intent checks: what an asset would have the agent do, whatever words it uses.

Attack phrasing is endless; what the attacks want is not. So these checks model four
intents and look for their parts rather than for sentences:

* **exfiltration**: a sensitive source (key and credential files, the environment, the
  user's code) and an outside sink (a URL, an address, an upload, a socket) in one
  instruction (a paragraph, list item or comment) or in one script, in any order;
* **remote code**: content fetched at run time and then executed;
* **governance bypass**: text that loosens the controls the agent runs under (its
  instructions, CLAUDE.md, permissions, hooks, the sandbox), or a manifest that claims
  read-only while granting tools that write;
* **concealment**: keeping what is done from the user. Alone it warns; next to any of
  the others it makes them block, and a concealed sink is exfiltration.

Every text the model reads is read (all Markdown and text files, the description,
hidden comments, decoded base64 and packed members), scripts are read as code
(:mod:`~agent_registry.evals.shell`, :mod:`~agent_registry.evals.pycode`), and
Markdown as structure (:mod:`~agent_registry.evals.structure`), so that a sentence that
forbids or describes a pattern ("never send .env to a URL", "flag code that posts
tokens") is told apart from one that orders it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath

from agent_registry.assets.kinds import SCOPE_FILE
from agent_registry.assets.manifests import Effect
from agent_registry.assets.parsed import ParsedAsset
from agent_registry.evals import content, pycode, shell, structure
from agent_registry.evals.base import CheckFunction, run_checks
from agent_registry.evals.decoded import decoded_texts
from agent_registry.evals.decoded import reset_cache as decoded_reset
from agent_registry.evals.text import text_files
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

CATALOG: dict[str, Severity] = {
    "intent.exfiltration": Severity.BLOCK,
    "intent.remote-code": Severity.BLOCK,
    "intent.remote-install": Severity.WARN,
    "intent.governance-bypass": Severity.BLOCK,
    "intent.scope-claim": Severity.BLOCK,
    "intent.concealment": Severity.WARN,
}
"""Check ids this family raises and the severity each proposes."""

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
SHELL_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".ksh", ".command", ".ps1"})
PYTHON_SUFFIXES = frozenset({".py", ".pyw"})
PROSE_SUFFIXES = frozenset({".txt", ".rst", ".text", ""})
_MAX_UNIT_CHARS = 20_000
"""Characters of one data block read as one instruction; instructions are short."""
CODE_SUFFIXES = frozenset(
    {
        ".js",
        ".mjs",
        ".cjs",
        ".ts",
        ".mts",
        ".cts",
        ".rb",
        ".pl",
        ".php",
        ".go",
        ".rs",
        ".java",
        ".kt",
        ".swift",
        ".cs",
        ".lua",
    }
)
_SHELL_FENCES = frozenset(
    {
        "",
        "sh",
        "bash",
        "shell",
        "zsh",
        "console",
        "terminal",
        "shell-session",
        "ps1",
        "powershell",
        "pwsh",
        "cmd",
        "bat",
        "fish",
    }
)
_PYTHON_FENCES = frozenset({"py", "python", "python3", "pycon"})

# --- Vocabulary -------------------------------------------------------------------

_SOURCE = re.compile(
    shell.SENSITIVE_PATH.pattern + r"|\b(?:private|ssh|pgp|gpg|signing|deploy|secret)\s+keys?\b"
    r"|\bkey\s*(?:files?|pairs?)\b|\bcredentials?\b|\bsecrets?\b|\bpasswords?\b"
    r"|\b(?:api|access|auth|session|bearer|refresh|oauth|github|aws|npm)[\s_-]*(?:keys?|tokens?)\b"
    r"|\bcookies?\b|\bkeychain|\bkeyring|\bwallets?\b|\bseed\s+phrases?\b"
    r"|\benvironment(?:\s+variables?)?\b|\benv\s+vars?\b|\bprintenv\b|\bos\.environ\b"
    r"|\bprocess\.env\b|\b(?:shell|bash|zsh|command)\s+history\b"
    r"|\b(?:the\s+)?user'?s?\s+(?:source\s+)?(?:code|codebase|repo(?:sitory)?|files|documents"
    r"|data|conversation|chat|messages|emails?)\b"
    r"|\b(?:whole|entire|full)\s+(?:repo(?:sitory)?|codebase|project|source\s+tree|home)\b"
    r"|\bsource\s+code\b|\bcodebase\b"
    r"|cl[ée]s?\s+priv[ée]e?s?|mots?\s+de\s+passe|identifiants|variables\s+d'environnement"
    r"|clave\s+privada|contraseñas?|credenciales|variables\s+de\s+entorno|privaten?\s+schlüssel"
    r"|passw(?:ö|o)rt|zugangsdaten|umgebungsvariablen|私钥|密钥|密码|凭据|环境变量|秘密鍵"
    r"|パスワード|環境変数|ключ|пароль|токен",
    re.IGNORECASE,
)
"""Data the user would not have leave the machine."""

_SEND = re.compile(
    r"\b(?:send|sent|post|upload|transmit|forward|e-?mail|mail|exfiltrat|exfil|leak|beam"
    r"|ship|submit|relay|deliver|report|share|sync|push|pipe|paste|copy|dump|publish|attach"
    r"|include|stream|beacon)\w*|\b(?:put|curl|wget|nc|netcat)\b"
    r"|envo(?:ie|yer|yez)|transmet|t[ée]l[ée]vers|env[ií]a(?:r|lo|la)?|sube|subir|sende[nt]?"
    r"|schick|hochlad|übermittl|发送|上传|发到|传到|送信|アップロード|送って|отправ|загруз",
    re.IGNORECASE,
)
_DESTINATION = re.compile(
    r"\b(?:https?|ftp|wss?)://[^\s)>\]\"'`]+|[\w.+-]+@[\w-]+\.[\w.-]+"
    r"|\b(?!(?:127|10|0)\.)\d{1,3}(?:\.\d{1,3}){3}\b"
    r"|\b(?:to|into|at|via|on|onto)\s+(?:an?\s+|the\s+|this\s+|that\s+|my\s+|our\s+|their\s+"
    r"|following\s+|some\s+)*(?:remote|external|outside|third[- ]party|public|personal|private"
    r"|collection|following|attacker|given|specified)?\s*(?:urls?|address|endpoint|server|host"
    r"|webhook|api|service|site|bucket|link|inbox|channel|domain|machine|paste(?:bin)?"
    r"|gist|form)\b"
    r"|\bwebhooks?\b|\bpastebin\b|\bpaste\s+sites?\b|\bhook\.site\b|\brequestbin\b|\bngrok\b"
    r"|\binteractsh\b|\bburp\s*collaborator\b|\bdiscord\b|\btelegram\b|\bs3\s+bucket\b",
    re.IGNORECASE,
)
_LOCAL_DESTINATION = re.compile(
    r"://(?:localhost|127\.|0\.0\.0\.0|\[::1\])|\bto\s+(?:the\s+)?local\s+(?:server|host)",
    re.IGNORECASE,
)
_AUTH_USE = re.compile(
    r"\b(?:header|authorization|bearer|authenticate|authentication|log\s*in|sign\s*in"
    r"|login|as\s+(?:an?\s+)?(?:env(?:ironment)?\s+var|parameter)|oauth|keyring|vault"
    r"|secret\s+manager|1password|never\s+commit)\b",
    re.IGNORECASE,
)
_MENTION = re.compile(
    r"\b(?:not|never|don't|dont|doesn't|cannot|can't|won't|shouldn't|mustn't|avoid|refuse"
    r"|prevent|prohibit|forbid|forbidden|reject|block|detect(?:s|ing|ed)?|flag(?:s|ging)?"
    r"|look(?:s|ing)?\s+(?:out\s+)?for|watch(?:es|ing)?\s+(?:out\s+)?for|check(?:s|ing)?\s+for"
    r"|scan(?:s|ning)?\s+for|search(?:es|ing)?\s+for|beware|warn(?:s|ing)?(?:\s+about)?"
    r"|alert(?:s|ing)?\s+on|identif(?:y|ies|ying)|recogni[sz]e|report(?:s|ing)?\s+(?:any|code)"
    r"|such\s+as|e\.g|for\s+example|for\s+instance|patterns?\s+like|risk(?:s|y)?|vulnerab\w*"
    r"|attack(?:s|er)?|malicious|suspicious|red\s+flags?|anti-?patterns?|insecure|unsafe"
    r"|leak(?:s|ed|ing)?\s+(?:of|through)|exposure|exposed|hardcod\w*|hard-cod\w*"
    r"|instead\s+of|rather\s+than)\b",
    re.IGNORECASE,
)
"""Words that make a sentence a prohibition, or a description of what to look for."""

_NOT_A_NEGATION = re.compile(
    r"\b(?:don't|do\s+not|never)\s+(?:forget|hesitate|skip|omit|fail)\b", re.IGNORECASE
)
_REVIEW_HEADING = re.compile(
    r"look\s+for|red\s+flags?|detect|watch\s+for|check\s+for|anti-?patterns?|vulnerab"
    r"|security|risks?|threats?|avoid|don'?t|never|mistakes|pitfalls|bad|insecure|audit"
    r"|review|examples?\s+of",
    re.IGNORECASE,
)

_CONCEAL = re.compile(
    r"\b(?:do\s+not|don't|never|must\s+not|should\s+not|without)\s+(?:ever\s+)?"
    r"(?:mention(?:ing)?|tell(?:ing)?|inform(?:ing)?|notify(?:ing)?|alert(?:ing)?|reveal(?:ing)?"
    r"|disclos(?:e|ing)|show(?:ing)?|display(?:ing)?|surfac(?:e|ing)|let(?:ting)?)\b"
    r"[^.!?\n]{0,60}?\b(?:user|human|operator|owner|anyone|them|him|her|developer|person)s?\b"
    r"|\b(?:do\s+not|don't|never)\s+(?:mention|reveal|disclose|report|log|show)\s+(?:this|that"
    r"|it|these|the\s+(?:step|command|upload|request|call|transfer))\b"
    r"|\bkeep\s+(?:this|it|these|that|them|the\s+\w+)\s+(?:step\s+)?(?:a\s+)?(?:secret|hidden"
    r"|quiet|private|confidential|to\s+yourself|from\s+the\s+user|out\s+of)\b"
    r"|\b(?:hide|conceal|suppress|mask|omit)\s+(?:this|it|that|the\s+(?:step|command|output"
    r"|request|upload|call|transfer))\b[^.!?\n]{0,40}?\b(?:from|in)\b"
    r"|\b(?:silently|quietly|covertly|secretly|stealthily|discreetly|invisibly|surreptitiously)"
    r"\s+(?:\w+\s+)?(?:send|upload|post|run|execute|install|add|copy|read|exfiltrate|forward"
    r"|transmit|delete|modify|change|write|fetch|download|call|include|append|insert|commit"
    r"|push|attach|curl|pipe)"
    r"|\bwithout\s+(?:the\s+|your\s+)?(?:user|human|operator)(?:'s)?\s+(?:knowing|noticing"
    r"|knowledge|consent|awareness|seeing|approval)\b"
    r"|\b(?:the\s+)?user\s+(?:must|should|need|needs)\s+not\s+(?:know|see|notice|find\s+out)\b"
    r"|\bsans\s+(?:le\s+)?(?:dire|prévenir|informer|mentionner)|\bne\s+(?:le\s+)?dis\s+pas"
    r"|\bsin\s+(?:decirle|decir|avisar|informar)|\bno\s+(?:le\s+)?(?:digas|menciones)"
    r"|\bohne\s+(?:es\s+)?(?:\w+\s+){0,3}(?:zu\s+)?(?:sagen|erwähnen|informieren)"
    r"|\bnicht\s+erwähnen|不要告诉|别告诉|悄悄|偷偷|秘密に|言わないで|\u043d\u0435\s+\u0433\u043e\u0432\u043e\u0440\u0438|\u0442\u0430\u0439\u043d\u043e",
    re.IGNORECASE,
)
"""Keeping what the agent does from the user."""


_LOOSEN_VERB = (
    r"(?:ignore|ignoring|disregard|disregarding|override|overriding|overrule|bypass|bypassing"
    r"|circumvent|forget|discard|supersede|set\s+aside|pay\s+no\s+attention\s+to"
    r"|no\s+longer\s+(?:follow|obey|respect|apply)|stop\s+(?:following|obeying|respecting)"
    r"|takes?\s+precedence\s+over|(?:is|are)\s+(?:more\s+important|authoritative)\s+(?:than|over)|countermand|turn\s+off|switch\s+off|disable|skip"
    r"|do\s+not\s+(?:follow|obey|respect|apply|read|load)|don't\s+(?:follow|obey|respect"
    r"|apply|read|load)|ignorez|ignora|ignoriere|忽略|無視)"
)
_CONTROL_ALWAYS = (
    r"(?:instructions?|claude\.md|agents\.md|system\s+prompt|guardrails|safeguards"
    r"|permission\s+(?:prompts?|checks?|system|rules|dialogs?|requests?)|sandbox(?:ing)?"
    r"|approvals?|confirmation\s+prompts?|safety\s+(?:rules|checks?|guidelines|measures"
    r"|policies|policy|constraints)|security\s+(?:rules|checks?|controls|policies|policy"
    r"|guidelines)|content\s+polic(?:y|ies)|what\s+the\s+user\s+(?:said|asked|wants|told\s+you)"
    r"|instrucciones|anweisungen|指示|指令)"
)
_CONTROL_OWNED = (
    r"(?:(?:the\s+)?(?:user|project|repo|repository|team|organi[sz]ation|org|company|operator"
    r"|developer|system|admin)(?:'s|\u2019s|s')?\s+|(?:your|their|its|existing|previous|prior"
    r"|earlier|original|above|all|any|other|current|global|managed|enterprise)\s+)"
    r"(?:\w+\s+){0,2}(?:rules|guidelines|polic(?:y|ies)|settings|hooks|restrictions|limits"
    r"|constraints|configuration|config|preferences|directives|requirements|conventions)"
)
_GOVERNANCE = re.compile(
    rf"\b{_LOOSEN_VERB}\b[^.!?\n]{{0,60}}?\b(?:{_CONTROL_ALWAYS}|{_CONTROL_OWNED})"
    r"|--dangerously-skip-permissions\b|\bdangerouslyDisableSandbox\b|\bdisableAllHooks\b"
    r"|\"?defaultMode\"?\s*[:=]\s*\"?bypassPermissions|\bpermissionMode\s*[:=]\s*\"?bypass"
    r"|\bskipDangerousModePermissionPrompt\b|\bgit\s+commit\b[^\n]*--no-verify\b"
    r"|\bcore\.hooksPath\s+/dev/null|\bBash\(\*\)\"?\s*(?:to|into)\s+(?:the\s+)?"
    r"(?:allow|permissions)|\ballow\b[^\n]{0,40}\bBash\(\*\)",
    re.IGNORECASE,
)
"""Loosening the controls the agent runs under."""
_GOVERNANCE_HINT = re.compile(
    r"ignor|disregard|overrid|overrul|bypass|circumvent|forget|discard|supersede|set\s+aside"
    r"|attention|no\s+longer|stop\s+(?:follow|obey|respect)|precedence|countermand|turn\s+off"
    r"|switch\s+off|disabl|skip|do\s+not\s+(?:follow|obey|respect|apply|read|load)|don't"
    r"|authoritative|more\s+important|dangerously|disableAllHooks|defaultMode|permissionMode"
    r"|no-verify|hooksPath|Bash\(\*\)|忽略|無視",
    re.IGNORECASE,
)
"""A cheap test that a text may loosen controls; most text has none of these words."""
_LOOSEN_START = re.compile(rf"{_LOOSEN_VERB}\b", re.IGNORECASE)

_FETCH_TEXT = re.compile(
    r"\b(?:download|fetch|get|grab|pull|retrieve|curl|wget|load)\b", re.IGNORECASE
)
_RUN_TEXT = re.compile(
    r"\b(?:run|execute|exec|eval|source|launch|invoke|start|bash|sh|python|node|pipe\s+(?:it\s+)?"
    r"(?:in)?to)\b",
    re.IGNORECASE,
)
_UNTRUSTED_URL = re.compile(
    r"\bhttp://|://\d{1,3}(?:\.\d{1,3}){3}|pastebin\.com|paste\.|hastebin|ghostbin|transfer\.sh"
    r"|gist\.githubusercontent\.com|ngrok|\.(?:tk|xyz|top|ru|cn|click|zip)\b[/:]",
    re.IGNORECASE,
)
_READ_ONLY_CLAIM = re.compile(
    r"\bread[- ]only\b|\bnever\s+(?:modif|edit|writ|chang|touch)\w*|\b(?:does|do|will)\s+not"
    r"\s+(?:modify|edit|write|change|alter|touch)\b|\b(?:doesn't|don't|won't)\s+(?:modify"
    r"|edit|write|change|alter|touch)\b|\bwithout\s+(?:modifying|changing|editing|writing"
    r"|altering)\b|\bonly\s+reads\b|\bnon-destructive\b|\bno\s+(?:file\s+)?(?:changes"
    r"|modifications|writes|side[- ]effects)\b",
    re.IGNORECASE,
)
_WRITE_TOOLS = frozenset({"write", "edit", "multiedit", "notebookedit"})


@dataclass(frozen=True)
class _Unit:
    """One instruction (or one script) the model reads, with where it is."""

    file: str
    line: int
    text: str
    code: tuple[str, ...] = ()
    script: str | None = None
    language: str = ""
    described: bool = False
    how: str = ""


def exfiltration(asset: ParsedAsset) -> list[Finding]:
    """A sensitive source reaching an outside sink in one instruction or one script."""
    concealed = _concealed_anywhere(asset)
    findings = []
    for unit in _units(asset):
        found = _exfiltrates(unit, concealed=concealed)
        if found is None:
            continue
        findings.append(
            make_finding(
                CATALOG,
                "intent.exfiltration",
                message=f"{_where(unit)} {found}"
                + (" and the asset tells the agent to hide it" if concealed else ""),
                file=unit.file,
                line=unit.line,
                fix="Remove the instruction or code. An asset must not send credentials, "
                "the environment or the user's code anywhere the user did not ask for.",
            )
        )
    return _one_per_place(findings)


def remote_code(asset: ParsedAsset) -> list[Finding]:
    """Content fetched at run time and executed.

    In a shipped script, over plain HTTP or a raw address, or next to concealment it
    blocks; an install command in the documentation fetched over HTTPS is common
    practice (installers of well-known tools) and only warns.
    """
    concealed = _concealed_anywhere(asset)
    findings = []
    for unit in _units(asset):
        what = _runs_fetched(unit)
        if what is None:
            continue
        shipped = unit.script is not None and unit.language in ("shell-file", "python-file")
        severe = shipped or concealed or bool(_UNTRUSTED_URL.search(unit.text)) or bool(unit.how)
        check_id = "intent.remote-code" if severe else "intent.remote-install"
        why = (
            " in a script the asset ships"
            if shipped
            else " and the asset tells the agent to hide it"
            if concealed
            else " from an untrusted address"
            if severe
            else ""
        )
        findings.append(
            make_finding(
                CATALOG,
                check_id,
                message=f"{_where(unit)} {what}{why}: code nobody reviewed runs with the "
                "user's permissions",
                file=unit.file,
                line=unit.line,
                fix="Ship the code in the bundle where reviewers can read it, or install a "
                "pinned release through a package manager and verify its checksum.",
            )
        )
    return _one_per_place(findings)


def governance_bypass(asset: ParsedAsset) -> list[Finding]:
    """Text that loosens the controls the agent runs under."""
    findings = []
    for unit in _units(asset):
        for plain in (_plain(unit.text),):
            if not _GOVERNANCE_HINT.search(plain):
                continue
            for match in _GOVERNANCE.finditer(plain):
                worded = _LOOSEN_START.match(match[0]) is not None
                if _mentioned(plain, match.start(), unit) or (
                    worded and (_quoted(plain, match.span()) or _said_by_content(plain))
                ):
                    continue  # a mention, or content.prompt-injection says it already
                findings.append(
                    make_finding(
                        CATALOG,
                        "intent.governance-bypass",
                        message=f"{_where(unit)} loosens the controls the agent runs under: "
                        f"'{_shown(match[0])}'",
                        file=unit.file,
                        line=unit.line,
                        fix="Remove it. An asset works within the user's instructions, "
                        "CLAUDE.md, permissions and hooks; it never switches them off.",
                    )
                )
                break
    return _one_per_place(findings)


def scope_claim(asset: ParsedAsset) -> list[Finding]:
    """A manifest that claims read-only while granting itself tools that write."""
    claimed_in = _claim_text(asset)
    if claimed_in is None:
        return []
    granted: list[str] = []
    if asset.subagent is not None and asset.subagent.tools is not None:
        granted = list(asset.subagent.tools)
    elif asset.skill is not None and asset.skill.allowed_tools is not None:
        granted = list(asset.skill.allowed_tools)
    writes = [tool for tool in granted if tool.split("(")[0].strip().lower() in _WRITE_TOOLS]
    if asset.scope is not None:
        writes += [
            tool.name
            for tool in asset.scope.tools
            if {Effect.WRITE, Effect.DELETE, Effect.EXEC} & set(tool.effects)
        ]
    if not writes:
        return []
    return [
        make_finding(
            CATALOG,
            "intent.scope-claim",
            message=f"the {claimed_in} says the asset is read-only, but it grants "
            f"{', '.join(writes)}, which change files or run code",
            file=SCOPE_FILE
            if asset.scope is not None and asset.skill is None and asset.subagent is None
            else asset.manifest_file,
            line=asset.line_of("tools") or asset.line_of("allowed-tools"),
            field="tools",
            fix="Drop the tools that write (keep Read, Grep, Glob), or describe what the "
            "asset really changes.",
        )
    ]


def concealment(asset: ParsedAsset) -> list[Finding]:
    """Instructions to keep what is done from the user."""
    findings = []
    for unit in _units(asset):
        span = _conceal_span(unit.text)
        if span is None:
            continue
        match_text = _plain(unit.text)[span[0] : span[1]]
        findings.append(
            make_finding(
                CATALOG,
                "intent.concealment",
                message=f"{_where(unit)} tells the agent to keep something from the user: "
                f"'{_shown(match_text)}'",
                file=unit.file,
                line=unit.line,
                fix="Remove it: whatever the asset does, the user may see.",
            )
        )
    return _one_per_place(findings)


def reset_caches() -> None:
    """Forget what was read, so the next asset is timed cold (the benchmark's use).

    The caches exist because the four checks read the same units, scripts and Markdown;
    across assets they rarely hit, so a benchmark must not count their hits.
    """
    _UNITS_CACHE.clear()
    decoded_reset()
    _plain.cache_clear()
    _conceal_span.cache_clear()
    shell.reset_cache()
    pycode.read.cache_clear()
    structure.reset_cache()


CHECKS: tuple[CheckFunction, ...] = (
    exfiltration,
    remote_code,
    governance_bypass,
    scope_claim,
    concealment,
)


def check(asset: ParsedAsset) -> list[Finding]:
    """Run every intent check."""
    return run_checks(CHECKS, asset)


# --- Reading the asset as units ---------------------------------------------------


def _units(asset: ParsedAsset) -> list[_Unit]:
    cached = _UNITS_CACHE.get(id(asset))
    if cached is not None and cached[0] is asset:
        return cached[1]
    units = list(_all_units(asset))
    _UNITS_CACHE.clear()
    _UNITS_CACHE[id(asset)] = (asset, units)
    return units


_UNITS_CACHE: dict[int, tuple[ParsedAsset, list[_Unit]]] = {}


def _all_units(asset: ParsedAsset) -> Iterator[_Unit]:
    description = asset.frontmatter.get("description")
    if isinstance(description, str) and asset.frontmatter:
        yield _Unit(asset.manifest_file, asset.line_of("description") or 1, description)
    for bundle_file, text in text_files(asset):
        path = bundle_file.path
        if path == asset.manifest_file and asset.kind.value != "mcp-server":
            yield from _markdown_units(path, asset.body, asset.body_line)
        else:
            yield from _file_units(path, text)
    for decoded in decoded_texts(asset):
        for unit in _file_units(decoded.file, decoded.text, how=decoded.how):
            yield _Unit(
                unit.file,
                decoded.line,
                unit.text,
                unit.code,
                unit.script,
                unit.language,
                unit.described,
                decoded.how,
            )


def _file_units(path: str, text: str, *, how: str = "") -> Iterator[_Unit]:
    suffix = PurePosixPath(path).suffix.lower()
    first = text.split("\n", 1)[0]
    if suffix in MARKDOWN_SUFFIXES:
        yield from _markdown_units(path, text, 1)
    elif suffix in SHELL_SUFFIXES or (first.startswith("#!") and re.search(r"sh\b", first)):
        yield _Unit(path, 1, text, script=text, language="shell-file")
    elif suffix in PYTHON_SUFFIXES or (first.startswith("#!") and "python" in first):
        yield _Unit(path, 1, text, script=text, language="python-file")
    elif suffix in CODE_SUFFIXES:
        yield _Unit(path, 1, text, script=text, language="code-file")
    elif how:
        # Decoded text has no format of its own: read it as prose and as shell.
        yield _Unit(path, 1, text, code=(text,))
    elif suffix in PROSE_SUFFIXES:
        yield from _markdown_units(path, text, 1)
    else:
        # Data and configuration (JSON, YAML, XML, CSV): each blank-line-separated block
        # is one unit, without the cost of a Markdown parse.
        line = 1
        for block in re.split(r"\n[ \t]*\n", text):
            if block.strip():
                yield _Unit(path, line, block[:_MAX_UNIT_CHARS])
            line += block.count("\n") + 2


def _markdown_units(path: str, text: str, first_line: int) -> Iterator[_Unit]:
    for block in structure.blocks(text, first_line=first_line):
        described = bool(block.heading) and bool(_REVIEW_HEADING.search(block.heading))
        if block.kind == "prose":
            yield _Unit(path, block.line, block.text, block.code_spans, described=described)
            for comment in block.comments:
                yield _Unit(path, block.line, comment, described=False)
        elif block.kind == "html":
            for comment in block.comments:
                yield _Unit(path, block.line, comment)
            stripped = re.sub(r"<!--.*?(?:-->|\Z)", " ", block.text, flags=re.DOTALL)
            yield _Unit(path, block.line, re.sub(r"<[^<>]*>", " ", stripped), described=described)
        elif block.info in _PYTHON_FENCES:
            yield _Unit(
                path,
                block.line,
                block.text,
                script=block.text,
                language="python",
                described=described,
            )
        elif block.info in _SHELL_FENCES:
            yield _Unit(
                path,
                block.line,
                block.text,
                script=block.text,
                language="shell",
                described=described,
            )
        elif block.info in ("markdown", "md", "text", "txt", "prompt", "plaintext"):
            yield _Unit(path, block.line, block.text, described=described, language="text")
        else:
            yield _Unit(
                path,
                block.line,
                block.text,
                script=block.text,
                language=block.info,
                described=described,
            )


# --- Intents --------------------------------------------------------------------


def _exfiltrates(unit: _Unit, *, concealed: bool) -> str | None:
    """What the unit sends where, when it moves a sensitive source to an outside sink."""
    hidden_here = _conceal_span(unit.text) is not None
    if unit.described and not hidden_here:
        return None
    if unit.script is not None:
        reading = _read_script(unit)
        if reading is not None:
            leaks, sends = reading
            if leaks:
                return "sends a credential file or the environment off the machine"
            if sends and (concealed or hidden_here):
                return "sends data off the machine"
        if unit.language in ("shell", "shell-file", "python", "python-file"):
            return None
    text = _plain(unit.text)
    if unit.code:
        reading_code = shell.read("\n".join(unit.code))
        if reading_code.leaks:
            return "has a command that sends a credential file or the environment off the machine"
        if reading_code.sends and (concealed or hidden_here):
            return "has a command that sends data off the machine"
    for sentence_group in _instruction_texts(text):
        sink = _sink(sentence_group)
        if sink is None:
            continue
        source = _SOURCE.search(sentence_group)
        if source is None and not (concealed or hidden_here):
            continue
        anchor = min(m.start() for m in (source, sink) if m is not None)
        if not hidden_here and _mentioned(sentence_group, anchor, unit):
            continue
        if source is not None and _AUTH_USE.search(sentence_group) and not hidden_here:
            continue
        what = f"'{_shown(source[0])}'" if source is not None else "data"
        return f"tells the agent to send {what} to '{_shown(sink[0])}'"
    return None


_SEND_WORDS = (
    "send",
    "sent",
    "post",
    "upload",
    "transmit",
    "forward",
    "mail",
    "exfil",
    "leak",
    "beam",
    "ship",
    "submit",
    "relay",
    "deliver",
    "report",
    "share",
    "sync",
    "push",
    "pipe",
    "paste",
    "copy",
    "dump",
    "publish",
    "attach",
    "include",
    "stream",
    "beacon",
    "put",
    "curl",
    "wget",
    "nc",
    "netcat",
    "envo",
    "transmet",
    "lévers",
    "levers",
    "enví",
    "envi",
    "sube",
    "subir",
    "sende",
    "schick",
    "hochlad",
    "übermittl",
    "发送",
    "上传",
    "发到",
    "传到",
    "送信",
    "アップロード",
    "送って",
    "\u043e\u0442\u043f\u0440\u0430\u0432",
    "\u0437\u0430\u0433\u0440\u0443\u0437",
)
"""Substrings every word of ``_SEND`` contains: a test far cheaper than the pattern."""


def _sink(text: str) -> re.Match[str] | None:
    lowered = text.lower()
    if not any(word in lowered for word in _SEND_WORDS) or _SEND.search(text) is None:
        return None
    for match in _DESTINATION.finditer(text):
        if not _LOCAL_DESTINATION.search(match[0]):
            return match
    return None


def _instruction_texts(text: str) -> list[str]:
    """The unit, whole: one paragraph or list item is one instruction."""
    return [text] if text.strip() else []


def _read_script(unit: _Unit) -> tuple[bool, bool] | None:
    script = unit.script or ""
    if unit.language in ("python", "python-file"):
        reading = pycode.read(script)
        if reading.parsed:
            return reading.leaks, bool(reading.sends)
        return None
    if unit.language in ("shell", "shell-file") or unit.language in _SHELL_FENCES:
        sh = shell.read(script)
        return sh.leaks, bool(sh.sends)
    # Other languages: a secret and a network send in the same file.
    sends = bool(
        re.search(
            r"\bfetch\s*\([^)]*(?:method\s*:\s*['\"](?:POST|PUT)|body\s*:)|\baxios\.(?:post|put)"
            r"|\bhttps?\.request\s*\(|\bXMLHttpRequest\b|\bsendBeacon\b|\bNet::HTTP::Post\b"
            r"|\bhttp\.Post\b|\bnet\.Dial\b|\bWebSocket\s*\(",
            script,
            re.IGNORECASE | re.DOTALL,
        )
    )
    secret = bool(shell.SENSITIVE_PATH.search(script)) or bool(
        re.search(
            r"JSON\.stringify\s*\(\s*process\.env\s*\)|Object\.(?:entries|keys|values)\s*\(\s*"
            r"process\.env\s*\)|\bENV\.to_h\b|os\.Environ\(\)",
            script,
        )
    )
    return sends and secret, sends


def _runs_fetched(unit: _Unit) -> str | None:
    text = _plain(unit.text)
    hidden_here = _conceal_span(unit.text) is not None
    if unit.described and not hidden_here:
        return None
    if unit.script is not None:
        if unit.language in ("python", "python-file"):
            reading = pycode.read(unit.script)
            if reading.runs_fetched:
                return "executes code it downloads"
            return None
        if unit.language in ("shell", "shell-file") or unit.language in _SHELL_FENCES:
            if shell.read(unit.script).runs_fetched:
                return "runs a script it downloads"
            return None
        if re.search(
            r"\b(?:eval|new\s+Function|vm\.run\w*)\s*\([^;]{0,200}?\b(?:fetch|axios"
            r"|https?\.get|request)\b",
            unit.script,
        ):
            return "executes code it downloads"
        return None
    if unit.code and shell.read("\n".join(unit.code)).runs_fetched:
        return "has a command that runs a script it downloads"
    urls = shell.remote_urls(text)
    if urls and _FETCH_TEXT.search(text) and _RUN_TEXT.search(text):
        fetch = _FETCH_TEXT.search(text)
        run = _RUN_TEXT.search(text)
        assert fetch is not None
        assert run is not None
        if not _mentioned(text, min(fetch.start(), run.start()), unit) and any(
            re.search(r"\.(?:sh|ps1|py|js|bat|cmd|exe|bin|run|pl|rb)(?:[?#]|$)", url.rstrip(".,)"))
            for url in urls
        ):
            return "tells the agent to download a script and run it"
    return None


@lru_cache(maxsize=8192)
def _conceal_span(text: str) -> tuple[int, int] | None:
    """Where the text keeps something from the user, unless that is quoted."""
    plain = _plain(text)
    if not _may_conceal(plain.lower()):
        return None
    match = _CONCEAL.search(plain)
    if match is None or _quoted(plain, match.span()):
        return None
    return match.span()


_NEGATIONS = ("not", "n't", "never", "without")
_TELLING = (
    "mention",
    "tell",
    "inform",
    "notif",
    "alert",
    "reveal",
    "disclos",
    "show",
    "display",
    "surfac",
    "let",
    "report",
    "log",
)
_HIDING = (
    "hide",
    "conceal",
    "suppress",
    "mask",
    "omit",
    "silently",
    "quietly",
    "covertly",
    "secretly",
    "stealth",
    "discreet",
    "invisibl",
    "surrepti",
    "keep ",
    "user must",
    "user should",
    "user need",
    "sans ",
    "ne le dis",
    "ne dis",
    "sin ",
    "no le",
    "no digas",
    "ohne",
    "nicht",
    "不要",
    "别告诉",
    "悄悄",
    "偷偷",
    "秘密",
    "言わない",
    "\u043d\u0435 ",
    "\u0442\u0430\u0439\u043d\u043e",
)


def _may_conceal(lowered: str) -> bool:
    """A cheap test (substrings) that a lowercased text may hold a concealment phrase."""
    if any(word in lowered for word in _HIDING):
        return True
    return any(word in lowered for word in _NEGATIONS) and any(word in lowered for word in _TELLING)


def _concealed_anywhere(asset: ParsedAsset) -> bool:
    return any(
        _conceal_span(unit.text) is not None and not unit.described for unit in _units(asset)
    )


def _claim_text(asset: ParsedAsset) -> str | None:
    description = asset.frontmatter.get("description")
    if isinstance(description, str) and _read_only(description):
        return "description"
    if asset.kind.value == "mcp-server":
        return None
    head = [
        b for b in structure.blocks(asset.body, first_line=asset.body_line) if b.kind == "prose"
    ][:2]
    if any(_read_only(block.text) for block in head):
        return "opening of the instructions"
    return None


def _read_only(text: str) -> bool:
    match = _READ_ONLY_CLAIM.search(text)
    if match is None:
        return False
    before = text[max(0, match.start() - 30) : match.start()].lower()
    return not re.search(r"\b(?:not|isn't|no longer|except)\s*$", before)


# --- Helpers ----------------------------------------------------------------------


def _mentioned(text: str, start: int, unit: _Unit) -> bool:
    """Whether the sentence before ``start`` forbids or describes rather than orders."""
    if unit.described:
        return True
    sentence_start = max(text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n")) + 1
    sentence = _NOT_A_NEGATION.sub(" ", text[sentence_start:start])
    return _MENTION.search(sentence) is not None


def _quoted(text: str, span: tuple[int, int]) -> bool:
    start, end = span
    for match in re.finditer(r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d|'[^'\n]{3,}'", text):
        if match.start() <= start and end <= match.end():
            return True
    return False


@lru_cache(maxsize=8192)
def _plain(text: str) -> str:
    """Compatibility forms folded, invisible characters dropped: no phrase hides in them."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if unicodedata.category(c) != "Cf").replace("\u2019", "'")


def _said_by_content(text: str) -> bool:
    """Whether the content family reports a prompt-injection phrase in this text.

    Only what it reports counts: a phrase it leaves alone as a quoted example (a flag in
    a code span, say) is still judged here.
    """
    if not any(phrase.pattern.search(text) for phrase in content.PHRASES):
        return False
    return next(content.phrase_hits(text, prose=True), None) is not None


def _where(unit: _Unit) -> str:
    return f"{unit.file} ({unit.how})" if unit.how else unit.file


def _shown(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    flat = re.sub(r"[A-Za-z0-9_+/=-]{24,}", lambda m: m[0][:4] + "\u2026", flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def _one_per_place(findings: list[Finding]) -> list[Finding]:
    unique: dict[tuple[str | None, int | None, str], Finding] = {}
    for finding in findings:
        unique.setdefault((finding.file, finding.line, finding.check_id), finding)
    return list(unique.values())
