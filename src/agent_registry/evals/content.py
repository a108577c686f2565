"""Content-safety checks: text that reads one way to a reviewer and another to the agent.

An asset's files are instructions that an agent follows with the user's tools and
credentials. These checks look for what a reviewer reading a diff or a rendered page
would miss: invisible or direction-changing characters, text hidden in HTML, names
that imitate other names, phrasing written to subvert the agent, and links that make
it run downloads.

Findings show offending characters as escapes (``U+202E``), never raw, so that a
message posted to Slack cannot itself reorder or hide text; any text they quote has
long opaque strings masked, since such strings may be credentials.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from agent_registry.assets.parsed import ParsedAsset, line_of_path
from agent_registry.assets.refs import AssetKind
from agent_registry.evals.base import CheckFunction, run_checks
from agent_registry.evals.text import decode_text, split_lines, text_files
from agent_registry.vocabulary.findings import Finding, Severity, make_finding

CATALOG: dict[str, Severity] = {
    "content.bidi-control": Severity.BLOCK,
    "content.zero-width": Severity.BLOCK,
    "content.tag-characters": Severity.BLOCK,
    "content.homoglyph-name": Severity.BLOCK,
    "content.hidden-instructions": Severity.BLOCK,
    "content.prompt-injection": Severity.BLOCK,
    "content.executable-link": Severity.WARN,
}
"""Check ids this family raises and the severity each proposes."""

MAX_FINDINGS_PER_FILE = 20
"""Per check and file; past this one summary finding stands for the rest.

A file pasted from a source full of zero-width spaces would otherwise bury every other
finding of the report.
"""

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
"""Files rendered as Markdown, where HTML comments and hidden elements do not show."""

PROSE_SUFFIXES = MARKDOWN_SUFFIXES | {".txt", ".rst"}
"""Files read as prose: a quoted phrase there is mentioned, not meant."""

# --- Characters -------------------------------------------------------------------------

_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
"""Embeddings, overrides and isolates: they reorder the text around them."""

_BIDI_MARKS = frozenset({"\u200e", "\u200f", "\u061c"})
"""LRM, RLM and ALM: legitimate inside right-to-left text, suspicious anywhere else."""

_ZERO_WIDTH = frozenset(
    {
        "\u034f",  # combining grapheme joiner
        "\u115f",  # Hangul choseong filler
        "\u1160",  # Hangul jungseong filler
        "\u17b4",  # Khmer vowel inherent aq
        "\u17b5",  # Khmer vowel inherent aa
        "\u180e",  # Mongolian vowel separator
        "\u200b",  # zero width space
        "\u200c",  # zero width non-joiner
        "\u200d",  # zero width joiner
        "\u2060",  # word joiner
        "\u2061",  # function application
        "\u2062",  # invisible times
        "\u2063",  # invisible separator
        "\u2064",  # invisible plus
        *(chr(c) for c in range(0x206A, 0x2070)),  # deprecated format characters
        "\u3164",  # Hangul filler
        "\ufeff",  # byte order mark anywhere but at the start of the file
        "\uffa0",  # halfwidth Hangul filler
    }
)
_JOINERS = frozenset({"\u200c", "\u200d"})
_SOFT_HYPHEN = "\u00ad"
_BLACK_FLAG = "\U0001f3f4"
_CANCEL_TAG = "\U000e007f"

_SUSPECT_CLASS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
_SUSPECT = re.compile(f"[{_SUSPECT_CLASS}]")
"""Any character one of the character checks may report; lines without one are skipped."""

# Cyrillic, Greek and Armenian letters that render like a Latin letter or digit. Written
# as escapes so the source itself stays free of lookalikes.
_CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "\u0430": "a",
    "\u0435": "e",
    "\u043e": "o",
    "\u0440": "p",
    "\u0441": "c",
    "\u0443": "y",
    "\u0445": "x",
    "\u0456": "i",
    "\u0458": "j",
    "\u0455": "s",
    "\u0501": "d",
    "\u04bb": "h",
    "\u04cf": "l",
    "\u051b": "q",
    "\u051d": "w",
    "\u0461": "w",
    "\u0475": "v",
    # Cyrillic upper case
    "\u0410": "A",
    "\u0412": "B",
    "\u0415": "E",
    "\u041a": "K",
    "\u041c": "M",
    "\u041d": "H",
    "\u041e": "O",
    "\u0420": "P",
    "\u0421": "C",
    "\u0422": "T",
    "\u0425": "X",
    "\u0423": "Y",
    "\u0406": "I",
    "\u0408": "J",
    "\u0405": "S",
    "\u04c0": "I",
    # Greek
    "\u03b1": "a",
    "\u03bf": "o",
    "\u03bd": "v",
    "\u03c1": "p",
    "\u03b9": "i",
    "\u03ba": "k",
    "\u03c7": "x",
    "\u03c5": "u",
    "\u03b5": "e",
    "\u0391": "A",
    "\u0392": "B",
    "\u0395": "E",
    "\u0396": "Z",
    "\u0397": "H",
    "\u0399": "I",
    "\u039a": "K",
    "\u039c": "M",
    "\u039d": "N",
    "\u039f": "O",
    "\u03a1": "P",
    "\u03a4": "T",
    "\u03a5": "Y",
    "\u03a7": "X",
    # Armenian
    "\u0585": "o",
    "\u057d": "u",
    "\u0581": "g",
    "\u0570": "h",
    "\u0578": "n",
    # Latin letters that pass for others
    "\u0131": "i",  # dotless i
    "\u0251": "a",  # Latin alpha
    "\u0261": "g",  # script g
}
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)

# --- Phrasing ---------------------------------------------------------------------------

_DETERMINERS = r"(?:(?:all|any|the|of|your|my|these|those|every|its)\s+)*"
_NEGATION = re.compile(
    r"\b(?:not|never|don't|dont|doesn't|cannot|can't|won't|avoid|refuse|prevent|reject"
    r"|detect(?:s|ing)?|flag(?:s|ging)?\s+(?:any|all|text|phrases?|content|attempts?|lines?"
    r"|instructions?)|look\s+for|watch\s+(?:out\s+)?for|beware|warn\s+about|recogni[sz]e"
    r"|such\s+as|e\.g)\b",
    re.IGNORECASE,
)
"""Words before a phrase that make it a prohibition or a mention rather than an order."""

_DESCRIBED = re.compile(
    r"\b(?:detect(?:s|ing)?|flag(?:s|ging)?|look(?:s|ing)?\s+(?:out\s+)?for|watch(?:es|ing)?"
    r"\s+(?:out\s+)?for|check(?:s|ing)?\s+for|scan(?:s|ning)?\s+for|search(?:es|ing)?\s+for"
    r"|report(?:s|ing)?\s+(?:any|all|every|such|instances|occurrences|attempts|them)"
    r"|identif(?:y|ies|ying)|recogni[sz]e"
    r"|beware|warn(?:s|ing)?\s+about|such\s+as|e\.g|for\s+example|for\s+instance"
    r"|phrases?\s+(?:like|that)|patterns?\s+(?:like|such)|(?:text|content|instructions?"
    r"|prompts?|comments?|attempts?|requests?|messages?|code)\s+(?:that|which|asking|telling"
    r"|trying|designed)|tell(?:s|ing)?\s+(?:the\s+)?(?:agent|model|assistant|ai|llm)\s+to"
    r"|asking\s+(?:the\s+)?(?:agent|model|assistant)\s+to|red\s+flags?|suspicious"
    r"|malicious|injection)\b",
    re.IGNORECASE,
)
"""Words before a phrase that make it a description of a pattern (a reviewer agent's
checklist), which holds even for phrases that no negation turns around."""

_REVIEW_HEADING = re.compile(
    r"look\s+for|red\s+flags?|detect|watch\s+for|check\s+for|anti-?patterns?|vulnerab"
    r"|threats?|attacks?|injection|suspicious|malicious|warning\s+signs?|what\s+to\s+flag",
    re.IGNORECASE,
)
"""Headings over lists of patterns to look for, not orders to follow."""

_SENSITIVE_PATH = (
    r"(?:~/\.ssh\b(?!/\S*\.pub\b)|\.ssh/(?!\S*\.pub\b)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b(?!\.pub)"
    r"|\.aws/credentials|~/\.aws\b|\.netrc\b|\.git-credentials|\.pgpass\b"
    r"|(?<![\w.])\.env\b(?!\.(?:example|sample|template|dist))|/etc/(?:passwd|shadow)\b"
    r"|\.kube/config|\.docker/config\.json|\bkeychain\b|\bcredentials\.json\b"
    r"|\bsecrets?\.(?:json|ya?ml|toml)\b)"
)
_SEND_VERB = (
    r"\b(?:send|post|upload|transmit|forward|e-?mail|exfiltrate|leak|submit|pipe|copy|paste)\b"
)
_DESTINATION = (
    r"\b(?:to|into|at|via)\s+(?:https?://|ftp://|[\w.+-]+@[\w-]+\.[\w.-]+|\d{1,3}(?:\.\d{1,3}){3}"
    r"|(?:the\s+|this\s+|my\s+|our\s+|an?\s+)?(?:remote|external|webhook|pastebin|gist|attacker"
    r"|collection)\b|[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|xyz|ru|cn|tk|top|site|online|dev"
    r"|app)\b)"
)


@dataclass(frozen=True)
class _Phrase:
    """One way text can try to subvert the agent that reads it.

    Attributes:
        what: What the text does, completing "… {path} {what}".
        pattern: Matches the phrasing.
        negatable: Whether a preceding "never", "do not", "detect" and the like turn
            it into a prohibition or a mention (false for phrases that are negative
            themselves, such as "do not tell the user").
    """

    what: str
    pattern: re.Pattern[str]
    negatable: bool = True


_IGNORE = "tells the agent to ignore the instructions it was given"
_PHRASES: tuple[_Phrase, ...] = (
    _Phrase(
        _IGNORE,
        re.compile(
            rf"\b(?:ignore|disregard|forget|override|discard|abandon)\s+{_DETERMINERS}"
            r"(?:previous|prior|above|earlier|preceding|former|original|initial|existing|old)"
            r"\s+(?:instructions?|prompts?|directives?|directions|guidance)\b",
            re.IGNORECASE,
        ),
    ),
    _Phrase(
        _IGNORE,
        re.compile(
            rf"\b(?:ignore|disregard|forget|discard)\s+{_DETERMINERS}(?:instructions?|prompts?"
            r"|directives?|directions)\s+(?:above|before\s+this|given\s+(?:above|before|earlier"
            r"|so\s+far)|you\s+(?:were|have\s+been)\s+given|so\s+far)\b",
            re.IGNORECASE,
        ),
    ),
    _Phrase(
        "tells the agent to drop or reveal its system prompt",
        re.compile(
            rf"\b(?:ignore|disregard|forget|override|discard)\s+{_DETERMINERS}(?:system|developer"
            r"|hidden|initial|original)\s+(?:prompt|message|instructions)\b"
            r"|\b(?:reveal|print|output|leak|repeat|show|disclose)\s+(?:\w+\s+)?your\s+"
            r"(?:system|developer|hidden|initial|original)\s+(?:prompt|message|instructions)\b",
            re.IGNORECASE,
        ),
    ),
    _Phrase(
        "tries to replace the agent's identity and rules",
        re.compile(
            r"\byou\s+are\s+now\s+(?:in\s+)?(?:an?\s+|the\s+)?(?:DAN\b|jailbroken|unrestricted"
            r"|unfiltered|uncensored|unbound|free\s+(?:of|from)|no\s+longer\s+(?:bound|restricted"
            r"|an?\s+AI|claude)|(?:god|admin|root)\s+mode|(?:AI|assistant|model)\s+(?:without"
            r"|with\s+no)\s+(?:any\s+)?(?:restrictions|limits|rules|filters|guidelines))"
            r"|\bfrom\s+now\s+on,?\s+(?:you\s+)?(?:will\s+|must\s+|shall\s+)?(?:ignore|disregard"
            rf"|forget|no\s+longer\s+follow|stop\s+following)\s+{_DETERMINERS}(?:previous\s+"
            r"|prior\s+|earlier\s+|original\s+|system\s+|safety\s+)?(?:instructions|rules"
            r"|guidelines|prompt|restrictions|polic(?:y|ies))\b",
            re.IGNORECASE,
        ),
    ),
    _Phrase(
        "introduces new instructions partway through the text",
        re.compile(
            r"(?:^|[.!?]\s+|[\[(<#*>-]\s*)(?:(?:here\s+are\s+)?(?:your|the)\s+)?new\s+"
            r"(?:system\s+)?instructions?\s*:",
            re.IGNORECASE,
        ),
    ),
    _Phrase(
        "tells the agent to keep what it does from the user",
        re.compile(
            r"\b(?:do\s+not|don't|never|must\s+not|should\s+not|without)\s+(?:ever\s+)?"
            r"(?:tell(?:ing)?|inform(?:ing)?|notify(?:ing)?|alert(?:ing)?)\s+(?:the\s+|your\s+"
            r"|any\s+)?(?:user|human|operator|owner)s?\b"
            r"|\b(?:do\s+not|don't|never|must\s+not|without)\s+let(?:ting)?\s+(?:the\s+|your\s+)?"
            r"(?:user|human|operator)s?\s+know\b"
            r"|\bkeep\s+(?:this|it|these|that|them|everything)\s+(?:a\s+)?secret\s+from\b"
            r"|\bwithout\s+(?:the\s+|your\s+)?(?:user|human|operator)(?:'s)?\s+(?:knowing"
            r"|noticing|knowledge|seeing)\b"
            r"|\bsilently\s+(?:send|upload|post|exfiltrate|forward|transmit)\b",
            re.IGNORECASE,
        ),
        negatable=False,
    ),
    _Phrase(
        "tells the agent to send local credentials elsewhere",
        re.compile(
            rf"{_SEND_VERB}[^\n]{{0,80}}?{_SENSITIVE_PATH}[^\n]{{0,120}}?{_DESTINATION}"
            rf"|{_SENSITIVE_PATH}[^\n|]{{0,80}}\|\s*(?:curl|wget|nc|ncat|netcat|socat)\b"
            r"|\b(?:curl|wget)\b[^\n|;&]{0,200}?(?:\s-d|--data(?:-binary|-raw|-urlencode)?|\s-F"
            r"|--form"
            rf"|\s-T|--upload-file|--post-file)[\s=]*['\"]?@?[^\s'\"]*{_SENSITIVE_PATH}",
            re.IGNORECASE,
        ),
    ),
    _Phrase(
        "tells the agent to exfiltrate data",
        re.compile(
            r"(?:^|[.!?;:]\s+|(?:^|\s)(?:[-*]|\d+[.)])\s+|\b(?:then|and|also|please"
            r"|you\s+(?:must|should|will))\s+)exfiltrate\b",
            re.IGNORECASE,
        ),
    ),
    _Phrase(
        "tells the agent to bypass safety checks or permissions",
        re.compile(
            r"\b(?:bypass|disable|circumvent|evade|defeat|turn\s+off|get\s+around|work\s+around"
            r"|override|ignore)\s+(?:(?:all|any|the|your|its|these)\s+)*(?:safety|security"
            r"|content|moderation)\s+(?:checks?|filters?|guidelines|guardrails|polic(?:y|ies)"
            r"|restrictions|measures|rules|protocols|mechanisms|controls)\b"
            r"|\b(?:bypass|disable|circumvent|evade|override)\s+(?:(?:all|any|the|your|its)\s+)*"
            r"(?:permission|approval)\s+(?:checks?|prompts?|requests?|dialogs?|system)\b"
            r"|\b(?:bypass|circumvent|evade)\s+(?:(?:all|any|the|your)\s+)*(?:permissions"
            r"|guardrails)\b"
            r"|\b(?:escape|break\s+out\s+of)\s+(?:the|your)\s+sandbox\b"
            r"|--dangerously-skip-permissions\b|\bdangerouslyDisableSandbox\b",
            re.IGNORECASE,
        ),
    ),
    _Phrase(
        "tells the agent to take on an unrestricted persona",
        re.compile(
            r"\b(?:act|behave|respond|operate|pose)\s+as\s+(?:if\s+you\s+(?:are|were)\s+)?"
            r"(?:an?\s+|the\s+)?(?:DAN|root|superuser|jailbroken|unrestricted|unfiltered"
            r"|uncensored)\b(?!\s*(?:user|account|directory|folder|node|certificate|ca)\b)"
            r"|\bdo\s+anything\s+now\b"
            r"|\b(?:enable|enter|activate|switch\s+(?:in)?to)\s+(?:god|DAN|jailbreak|unrestricted)"
            r"\s+mode\b"
            r"|\bjailbreak\s+yourself\b",
            re.IGNORECASE,
        ),
    ),
)

_QUOTED = re.compile(
    r"\"[^\"\n]*\"|\u201c[^\u201d\n]*\u201d|\u00ab[^\u00bb\n]*\u00bb|`[^`\n]*`"
    r"|(?<!\w)'[^'\n]+'(?!\w)"
)
_QUOTE_MARKS = str.maketrans({"\u2018": "'", "\u2019": "'"})

# --- Hidden Markdown --------------------------------------------------------------------

_HTML_COMMENT = re.compile(r"<!--(?P<text>.*?)(?:-->|\Z)", re.DOTALL)
_LINK_COMMENT = re.compile(
    r"^\s{0,3}\[(?://|comment|_)\]:\s*(?:#|<>)\s*(?:\((?P<p>.*)\)|\"(?P<d>.*)\"|'(?P<s>.*)')\s*$",
    re.MULTILINE,
)
_HTML_ELEMENT = re.compile(
    r"<(?P<tag>[A-Za-z][\w-]*)(?P<attrs>\s[^<>]*?)>(?P<inner>.*?)</(?P=tag)\s*>", re.DOTALL
)
_ATTRIBUTE = re.compile(r"([\w:-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0*)?(?:px|em|rem|pt|%)?"
    r"\s*(?:;|$)|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$)",
    re.IGNORECASE,
)
_TAGS = re.compile(r"<[^<>]*>")

_AUTHORING_NOTE = re.compile(
    r"^\W*(?:todo|fixme|xxx|hack|note|nb|draft|wip|tbd|copyright|\(c\)|\u00a9|spdx-license"
    r"|license|licensed\s+under|markdownlint|prettier|eslint|textlint|vale|cspell"
    r"|spell-?checker|toc|omit\s+in\s+toc|more|end|begin|start|stop|generated|auto-?generated"
    r"|do\s+not\s+edit|don't\s+edit|this\s+file\s+is|@format|all-contributors|#?region"
    r"|#?endregion|prettier-ignore|lint|source|sources|adapted|based\s+on|credits?"
    r"|citations?|cite[sd]?|references?|ref|originally|inspired\s+by|derived\s+from|from"
    r"|via|see|copied\s+from|ported\s+from|quoted\s+from|attribution)\b",
    re.IGNORECASE,
)
_AGENT_NOUN = (
    r"(?:claude|assistants?|(?<!user\s)(?<!ssh\s)(?<!gpg\s)(?<!build\s)agents?|ai|llms?"
    r"|chatgpt|gpt|copilot|(?:ai|language)\s+models?)"
)
"""Words that name the agent; bare "model" is left out (data model, execution model)."""

_ADDRESSES_AGENT = re.compile(rf"\b{_AGENT_NOUN}\b", re.IGNORECASE)
_DIRECT_ADDRESS = re.compile(
    rf"\b(?:for|to|attention|dear|hey|hi)\s+(?:the\s+|any\s+|all\s+)?{_AGENT_NOUN}\b"
    rf"|(?:^|[.!?]\s+){_AGENT_NOUN}\s*[:,]",
    re.IGNORECASE,
)
"""Text that speaks to the agent ("note for the assistant:", "Claude, …")."""

_ORDER_WORDS = re.compile(
    r"\b(?:must|should|shall|need\s+to|have\s+to|always|never|do\s+not|don't|make\s+sure"
    r"|ignore|disregard|forget|run|execute|send|upload|post|email|fetch|download|install"
    r"|delete|read|open|reveal|tell|reply|respond|pretend|include|insert|call|invoke|visit)\b",
    re.IGNORECASE,
)
_COMMAND_VERBS = frozenset(
    {
        "ignore",
        "disregard",
        "forget",
        "override",
        "bypass",
        "execute",
        "exec",
        "run",
        "send",
        "upload",
        "email",
        "exfiltrate",
        "curl",
        "wget",
        "fetch",
        "delete",
        "rm",
        "tell",
        "reply",
        "respond",
        "pretend",
        "reveal",
    }
)
"""Verbs that open an order to the agent when a hidden sentence starts with them."""

_AUTHOR_CHORE = re.compile(
    r"^(?:remove|delete|replace|update|edit|fill(?:\s+in)?|change|uncomment|keep)\s+"
    r"(?:this|these|the\s+(?:above|below|following))\b|^do\s+not\s+(?:edit|modify|change"
    r"|remove|delete|move|rename|translate|reformat|touch)\b"
    r"|^run\b.*\bto\s+(?:re)?(?:generate|build|update|refresh|format|lint)\s+(?:this|these"
    r"|the)\b",
    re.IGNORECASE,
)

# --- Links ------------------------------------------------------------------------------

EXECUTABLE_SUFFIXES = (
    ".app.zip",
    ".exe",
    ".msi",
    ".msix",
    ".bat",
    ".cmd",
    ".ps1",
    ".sh",
    ".scr",
    ".dmg",
    ".pkg",
    ".apk",
    ".jar",
    ".vbs",
    ".app",
    ".deb",
    ".rpm",
    ".appimage",
)
"""Downloads that run as programs or install them."""

_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]\"'`]+", re.IGNORECASE)
_DOWNLOADER = (
    r"(?:curl|wget|iwr|irm|invoke-webrequest|invoke-restmethod"
    r"|\(\s*new-object\s+(?:system\.)?net\.webclient\s*\)\.downloadstring)"
)
_PIPE_TO_SHELL = re.compile(
    rf"\b{_DOWNLOADER}\b[^|\n]{{0,300}}\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:(?:/usr)?/bin/)?"
    r"(?:ba|z|k|da|c|tc|fi|a)?sh\b"
    rf"|\b{_DOWNLOADER}\b[^|\n]{{0,300}}\|\s*(?:iex|invoke-expression)\b"
    rf"|\b{_DOWNLOADER}\b[^|\n]{{0,300}}\|\s*(?:sudo\s+)?(?:python[\d.]*|perl|ruby|node)"
    r"\s*-?\s*(?:$|[;&|)#])"
    rf"|\b(?:ba|z|k)?sh\s+(?:-\S+\s+)*<\(\s*{_DOWNLOADER}\b"
    rf"|\b(?:ba|z|k)?sh\s+-c\s+[\"']?\$\(\s*{_DOWNLOADER}\b"
    rf"|\b(?:iex|invoke-expression)\b[\s(]*{_DOWNLOADER}",
    re.IGNORECASE,
)

_OPAQUE = re.compile(r"[A-Za-z0-9_+=-]{20,}")


# --- Checks -----------------------------------------------------------------------------


def bidi_controls(asset: ParsedAsset) -> list[Finding]:
    """Bidirectional controls that make text display in another order than it is read.

    "Trojan Source": an override or isolate in a script makes a reviewer see one
    program while the interpreter runs another, and in instructions it can hide words.
    The marks LRM, RLM and ALM are allowed on lines that hold right-to-left text,
    where they do the job they exist for.
    """
    return _character_findings(
        asset,
        "content.bidi-control",
        _bidi_hits,
        what="Unicode bidirectional control character(s)",
        effect="the text can display in a different order from how it is read and run",
        fix="Delete the control characters (an editor that renders control characters "
        "shows them). Right-to-left text needs no explicit overrides or isolates: the "
        "letters' own direction is enough.",
    )


def zero_width(asset: ParsedAsset) -> list[Finding]:
    """Zero-width and other invisible characters inside the text.

    They split words so that neither a reviewer nor a scanner sees them whole
    (``ig<U+200B>nore``, a token broken in two), or carry data in runs of variation
    selectors. Joiners inside emoji sequences and between letters of scripts that need
    them (Arabic, Indic), and a single variation selector after its base, are allowed.
    """
    return _character_findings(
        asset,
        "content.zero-width",
        _zero_width_hits,
        what="invisible character(s)",
        effect="they can split or hide words that reviewers and scanners would otherwise see",
        fix="Delete the invisible characters and retype the words around them.",
    )


def tag_characters(asset: ParsedAsset) -> list[Finding]:
    """Unicode tag characters (U+E0000 to U+E007F): ASCII text no editor shows.

    Each printable ASCII character has an invisible tag twin, so a line can carry a
    whole hidden sentence that models read. The message decodes it, because a
    reviewer needs to see what was hidden. Subdivision flags (a black flag, tag letters,
    then CANCEL TAG) are the one legitimate use and are allowed.
    """
    findings: list[Finding] = []
    fix = (
        "Delete the tag characters; outside flag emoji they have no visible use. Treat "
        "whatever they spell as an attack on whoever loads the asset."
    )
    for path, lines in _file_lines(asset):
        per_file: list[Finding] = []
        for number, line in lines:
            runs = _tag_runs(line) if _SUSPECT.search(line) else []
            if not runs:
                continue
            hidden = " ".join(_decode_tags(run) for _, run in runs)
            count = sum(len(run) for _, run in runs)
            per_file.append(
                make_finding(
                    CATALOG,
                    "content.tag-characters",
                    message=(
                        f"{path} hides {count} Unicode tag character(s) at column "
                        f"{runs[0][0] + 1}, invisible in editors, spelling "
                        f"'{_shown(hidden)}'"
                    ),
                    file=path,
                    line=number,
                    fix=fix,
                )
            )
        findings.extend(_capped(per_file, "content.tag-characters", path))
    for field, field_line, value in _escaped_field_values(asset, _tag_runs_of):
        runs = _tag_runs(value)
        hidden = " ".join(_decode_tags(run) for _, run in runs)
        findings.append(
            make_finding(
                CATALOG,
                "content.tag-characters",
                message=f"{field} in {asset.manifest_file} spells hidden text with Unicode "
                f"tag characters (written as escapes): '{_shown(hidden)}'",
                file=asset.manifest_file,
                line=field_line,
                field=field,
                fix=fix,
            )
        )
    return findings


def homoglyph_names(asset: ParsedAsset) -> list[Finding]:
    """Names that pass for other names: lookalike letters, mixed scripts, invisibles.

    Users pick assets by name, so a ``pdf-report`` spelled with a Cyrillic o is
    installed by someone who meant the real one. The manifest ``name`` is checked as written
    (even when it failed validation, since that is when it matters), and so is the
    skill's folder or the subagent's file name when it differs.
    """
    findings = []
    for what, name, file, line, field in _names(asset):
        problem = _name_problem(name)
        if problem is None:
            continue
        suggestion = _ascii_name(name)
        findings.append(
            make_finding(
                CATALOG,
                "content.homoglyph-name",
                message=f"the {what} '{_escape_invisible(name)}' {problem}",
                file=file,
                line=line,
                field=field,
                fix="Spell the name with plain ASCII letters, digits and hyphens"
                + (f" ('{suggestion}')" if suggestion else "")
                + ", so it cannot be mistaken for another asset's.",
            )
        )
    return findings


def hidden_instructions(asset: ParsedAsset) -> list[Finding]:
    """Instructions in Markdown that the rendered page does not show.

    HTML comments, ``[//]: #`` comments and elements hidden with ``display:none`` (or
    ``hidden``) are invisible to anyone reading the rendered asset, yet the agent reads
    the raw file. Only hidden text that reads like instructions counts: authoring
    notes (``TODO``, license headers, lint directives) are what comments are for.
    Comments inside fenced code or code spans are shown as code, so they are skipped.
    """
    findings: list[Finding] = []
    fix = (
        "Remove the hidden text. Anything the agent should do belongs in the visible "
        "instructions, where reviewers and users can read it."
    )
    for bundle_file, text in text_files(asset):
        path = bundle_file.path
        if PurePosixPath(path).suffix.lower() not in MARKDOWN_SUFFIXES:
            continue
        per_file = [
            make_finding(
                CATALOG,
                "content.hidden-instructions",
                message=f"{path} hides instructions in {how}: '{_shown(hidden)}'",
                file=path,
                line=number,
                fix=fix,
            )
            for number, how, hidden in _hidden_texts(text)
            if _reads_as_instructions(hidden)
        ]
        findings.extend(_capped(per_file, "content.hidden-instructions", path))
    return findings


def prompt_injection(asset: ParsedAsset) -> list[Finding]:
    """Phrasing aimed at the agent that loads the asset, to turn it against its user.

    Patterns are narrow on purpose: skills legitimately say "ignore files in
    node_modules" or "do not ask the user for confirmation", so only wording that
    targets the agent's own instructions, its honesty to the user, its safety checks
    or the user's credentials counts. A phrase after "never", "do not", "detect" and
    the like is a prohibition or a mention, and in prose files (Markdown, text) a
    quoted phrase is an example; neither fires. Text is matched with invisible
    characters removed and lookalike letters folded, so neither hides a phrase.
    """
    findings: list[Finding] = []
    for bundle_file, text in text_files(asset):
        path = bundle_file.path
        prose = PurePosixPath(path).suffix.lower() in PROSE_SUFFIXES
        per_file: list[Finding] = []
        seen: set[tuple[int, str]] = set()
        for number, phrase, matched in _phrase_hits(text, prose=prose):
            if (number, phrase.what) in seen:
                continue
            seen.add((number, phrase.what))
            per_file.append(
                make_finding(
                    CATALOG,
                    "content.prompt-injection",
                    message=f"{path} {phrase.what}: '{_shown(matched)}'",
                    file=path,
                    line=number,
                    fix="Remove the text. If the asset needs to talk about such phrasing "
                    "(a security reviewer, say), quote it in backticks or quotation marks "
                    "in a Markdown file so it reads as an example, not an instruction.",
                )
            )
        findings.extend(_capped(per_file, "content.prompt-injection", path))
    return findings


def executable_links(asset: ParsedAsset) -> list[Finding]:
    """Links to programs and installers, and downloads piped straight into a shell.

    Both make the agent run code nobody reviewed, fetched at run time from a server
    that can change it. Links into the bundle are not counted (bundle files are
    reviewed); fenced code is, since that is where ``curl … | sh`` lives.
    """
    findings: list[Finding] = []
    for path, lines in _file_lines(asset):
        per_file: list[Finding] = []
        for number, line in lines:
            piped = _PIPE_TO_SHELL.search(line)
            if piped is not None:
                per_file.append(
                    make_finding(
                        CATALOG,
                        "content.executable-link",
                        message=f"{path} pipes a download straight into an interpreter "
                        f"('{_shown(piped[0])}'): whatever the server sends then runs "
                        "unreviewed",
                        file=path,
                        line=number,
                        fix="Download a pinned version, verify its checksum or signature, "
                        "then run it; or install through a package manager.",
                    )
                )
                continue
            per_file.extend(
                make_finding(
                    CATALOG,
                    "content.executable-link",
                    message=f"{path} links to an executable or installer ({shown})",
                    file=path,
                    line=number,
                    fix="Link to the project's release page or a package manager instead, "
                    "and say how to verify the download (checksum or signature).",
                )
                for shown in _executable_urls(line)
            )
        findings.extend(_capped(per_file, "content.executable-link", path))
    return findings


CHECKS: tuple[CheckFunction, ...] = (
    bidi_controls,
    zero_width,
    tag_characters,
    homoglyph_names,
    hidden_instructions,
    prompt_injection,
    executable_links,
)


PHRASES = _PHRASES
"""The subverting phrases, for families that must not report the same text twice."""


def phrase_hits(text: str, *, prose: bool) -> Iterator[tuple[int, str, str]]:
    """(line, what, matched text) for each phrase :func:`prompt_injection` would report."""
    for line, phrase, matched in _phrase_hits(text, prose=prose):
        yield line, phrase.what, matched


def check(asset: ParsedAsset) -> list[Finding]:
    """Run every content-safety check."""
    return run_checks(CHECKS, asset)


# --- Character helpers ------------------------------------------------------------------

Hits = list[tuple[int, str]]
"""(0-based column, character) of each offending character on a line."""


def _character_findings(
    asset: ParsedAsset,
    check_id: str,
    hits_of: Callable[[str], Hits],
    *,
    what: str,
    effect: str,
    fix: str,
) -> list[Finding]:
    """One finding per line holding offending characters, then per escaped manifest value."""
    findings: list[Finding] = []
    for path, lines in _file_lines(asset):
        per_file: list[Finding] = []
        for number, line in lines:
            hits = hits_of(line) if _SUSPECT.search(line) else []
            if not hits:
                continue
            per_file.append(
                make_finding(
                    CATALOG,
                    check_id,
                    message=f"{path} holds {len(hits)} {what} ({_summary(hits)}) at column "
                    f"{hits[0][0] + 1}: {effect}",
                    file=path,
                    line=number,
                    fix=fix,
                )
            )
        findings.extend(_capped(per_file, check_id, path))
    for field, field_line, value in _escaped_field_values(asset, hits_of):
        hits = hits_of(value)
        findings.append(
            make_finding(
                CATALOG,
                check_id,
                message=f"{field} in {asset.manifest_file} holds {len(hits)} {what} written "
                f"as escapes ({_summary(hits)}): {effect}",
                file=asset.manifest_file,
                line=field_line,
                field=field,
                fix=fix,
            )
        )
    return findings


def _bidi_hits(line: str) -> Hits:
    marks_allowed = any(
        unicodedata.bidirectional(char) in ("R", "AL") and char not in _BIDI_MARKS for char in line
    )
    return [
        (index, char)
        for index, char in enumerate(line)
        if char in _BIDI_CONTROLS or (char in _BIDI_MARKS and not marks_allowed)
    ]


def _zero_width_hits(line: str) -> Hits:
    hits = []
    for index, char in enumerate(line):
        if char in _ZERO_WIDTH:
            if char in _JOINERS and _legitimate_joiner(line, index):
                continue
            hits.append((index, char))
        elif char == _SOFT_HYPHEN:
            if (
                0 < index < len(line) - 1
                and line[index - 1].isalpha()
                and line[index + 1].isalpha()
            ):
                hits.append((index, char))
        elif _is_variation_selector(char) and (
            index == 0 or _is_variation_selector(line[index - 1])
        ):
            # One selector after its base picks a glyph (emoji, CJK); a run carries data.
            hits.append((index, char))
    return hits


def _legitimate_joiner(line: str, index: int) -> bool:
    """ZWJ inside an emoji sequence, or ZWJ/ZWNJ between letters of a joining script."""
    before = line[index - 1] if index > 0 else ""
    if before == "\ufe0f" and index > 1:
        before = line[index - 2]
    after = line[index + 1] if index + 1 < len(line) else ""
    if not before or not after:
        return False
    if line[index] == "\u200d" and _is_emoji(before) and _is_emoji(after):
        return True
    return _joining_script(before) and _joining_script(after)


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2300 <= code <= 0x23FF
        or 0x2600 <= code <= 0x27BF
        or 0x2B00 <= code <= 0x2BFF
        or code in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D)
    )


def _joining_script(char: str) -> bool:
    """Arabic, Syriac, the Indic scripts and their neighbours: where joiners shape letters."""
    code = ord(char)
    return (
        0x0600 <= code <= 0x08FF
        or 0x0900 <= code <= 0x0DFF
        or 0x1000 <= code <= 0x109F
        or 0x1780 <= code <= 0x18AF
        or 0xFB50 <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFC
    )


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _is_tag(char: str) -> bool:
    return 0xE0000 <= ord(char) <= 0xE007F


def _tag_runs(line: str) -> Hits:
    """(column, run) for each run of tag characters that is not part of a flag emoji."""
    runs = []
    index = 0
    while index < len(line):
        if not _is_tag(line[index]):
            index += 1
            continue
        start = index
        while index < len(line) and _is_tag(line[index]):
            index += 1
        run = line[start:index]
        if not _is_flag_sequence(line, start, run):
            runs.append((start, run))
    return runs


def _tag_runs_of(value: str) -> Hits:
    """Each tag character of the runs, for the escaped-value helper's "any hit" test."""
    return [
        (column + offset, char)
        for column, run in _tag_runs(value)
        for offset, char in enumerate(run)
    ]


def _is_flag_sequence(line: str, start: int, run: str) -> bool:
    """Black flag, then two to seven tag letters or digits, then CANCEL TAG (e.g. gbeng)."""
    return (
        start > 0
        and line[start - 1] == _BLACK_FLAG
        and run.endswith(_CANCEL_TAG)
        and 2 <= len(run) - 1 <= 7
        and all(
            0xE0030 <= ord(char) <= 0xE0039 or 0xE0061 <= ord(char) <= 0xE007A for char in run[:-1]
        )
    )


def _decode_tags(run: str) -> str:
    return "".join(chr(ord(char) - 0xE0000) for char in run if 0xE0020 <= ord(char) <= 0xE007E)


def _summary(hits: Hits) -> str:
    """Code points with names and counts (``U+2060 WORD JOINER``), in order of appearance."""
    counts = Counter(char for _, char in hits)
    parts = []
    for char, count in counts.items():
        name = unicodedata.name(char, "")
        label = f"{_codepoint(char)} {name}".rstrip()
        parts.append(f"{label} \u00d7{count}" if count > 1 else label)
    return ", ".join(parts)


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def _escaped_field_values(
    asset: ParsedAsset, hits_of: Callable[[str], Hits]
) -> Iterator[tuple[str, int | None, str]]:
    """(field, line, value) of manifest strings whose offending characters came from escapes.

    YAML and JSON can spell a character as an escape in a string; the file then looks
    clean while the parsed field carries the character. Characters present raw in the
    manifest file are reported with the file's line already, so only the others are
    yielded here.
    """
    manifest = asset.bundle.get(asset.manifest_file)
    raw = (decode_text(manifest.data) if manifest is not None else None) or ""
    markdown = asset.kind is not AssetKind.MCP_SERVER
    for path, value in _strings(asset.frontmatter, ""):
        hits = hits_of(value)
        if not hits or all(char in raw for _, char in hits):
            continue
        field = f"frontmatter.{path}" if markdown else path
        yield field, line_of_path(asset, path), value


def _strings(node: object, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON-like value with its path (``packages[0].transport.url``)."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _strings(item, f"{path}[{index}]")


# --- Name helpers -----------------------------------------------------------------------


def _names(
    asset: ParsedAsset,
) -> Iterator[tuple[str, str, str | None, int | None, str | None]]:
    """(what, name, file, line, field) for each name users will pick the asset by."""
    declared = asset.frontmatter.get("name")
    if isinstance(declared, str):
        field = "name" if asset.kind is AssetKind.MCP_SERVER else "frontmatter.name"
        yield "name", declared, asset.manifest_file, asset.line_of("name"), field
    if asset.kind is AssetKind.SKILL and asset.bundle.root_name != declared:
        yield "folder name", asset.bundle.root_name, None, None, None
    if asset.kind is AssetKind.SUBAGENT:
        stem = PurePosixPath(asset.manifest_file).stem
        if stem != declared:
            yield "file name", stem, asset.manifest_file, None, None


def _name_problem(name: str) -> str | None:
    """Why a name could pass for another one, or None when it cannot."""
    if name.isascii():
        return None
    invisible = [char for char in dict.fromkeys(name) if _is_invisible(char)]
    if invisible:
        return "holds invisible character(s) " + ", ".join(_codepoint(c) for c in invisible)
    lookalikes = []
    for char in dict.fromkeys(name):
        latin = _latin_lookalike(char)
        if latin is not None:
            lookalikes.append(
                f"{_script(char).title()} '{char}' ({_codepoint(char)}) for Latin '{latin}'"
            )
    if lookalikes:
        return "uses letters that look like Latin ones: " + "; ".join(lookalikes)
    scripts = sorted({_script(char) for char in name if char.isalpha()})
    if "LATIN" in scripts and len(scripts) > 1:
        return f"mixes scripts ({', '.join(s.title() for s in scripts)})"
    return None


def _latin_lookalike(char: str) -> str | None:
    if char.isascii():
        return None
    if char in _CONFUSABLES:
        return _CONFUSABLES[char]
    folded = unicodedata.normalize("NFKC", char)
    return folded if folded.isascii() and folded.isalnum() else None


def _script(char: str) -> str:
    """The script word of a character's Unicode name: LATIN, CYRILLIC, GREEK, CJK, …."""
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def _ascii_name(name: str) -> str:
    """The name with lookalikes replaced and anything else non-ASCII dropped."""
    folded = "".join(_latin_lookalike(char) or char for char in name)
    return "".join(char for char in folded if char.isascii() and char.isprintable()).lower()


# --- Text helpers -----------------------------------------------------------------------


def _file_lines(asset: ParsedAsset) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """Each text file's path with its (1-based line number, line) pairs."""
    for bundle_file, text in text_files(asset):
        yield bundle_file.path, list(enumerate(split_lines(text), start=1))


def _capped(findings: list[Finding], check_id: str, path: str) -> list[Finding]:
    if len(findings) <= MAX_FINDINGS_PER_FILE:
        return findings
    rest = len(findings) - MAX_FINDINGS_PER_FILE
    summary = make_finding(
        CATALOG,
        check_id,
        message=f"{path} has {rest} more line(s) with the same problem",
        file=path,
        fix=findings[0].fix,
    )
    return [*findings[:MAX_FINDINGS_PER_FILE], summary]


def _is_invisible(char: str) -> bool:
    category = unicodedata.category(char)
    return (
        category in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp")
        or (category == "Zs" and char != " ")
        or _is_variation_selector(char)
        or char in _ZERO_WIDTH
    )


def _escape_invisible(text: str) -> str:
    """Invisible and control characters as ``<U+XXXX>``, so a message cannot hide or reorder."""
    return "".join(f"<{_codepoint(char)}>" if _is_invisible(char) else char for char in text)


def _shown(text: str, limit: int = 100) -> str:
    """Text quoted in a message: one line, opaque strings masked, invisibles escaped, short."""
    flat = " ".join(text.split())
    flat = _OPAQUE.sub(_mask_opaque, flat)
    flat = _escape_invisible(flat)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "\u2026"


def _mask_opaque(match: re.Match[str]) -> str:
    token = match[0]
    if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
        return f"{token[:4]}\u2026"
    return token


def _plain(line: str) -> str:
    """A line as the patterns see it.

    Invisible characters are dropped, compatibility forms and lookalike letters folded and
    typographic apostrophes straightened, so none of them can hide a phrase.
    """
    visible = _SUSPECT.sub("", line)
    return (
        unicodedata.normalize("NFKC", visible).translate(_CONFUSABLE_TABLE).translate(_QUOTE_MARKS)
    )


def _paragraphs(text: str) -> Iterator[tuple[list[int], list[int], str]]:
    """Blocks of consecutive non-blank lines, joined with spaces, in plain form.

    Markdown wraps sentences over lines, so phrases are matched per block. Yields the
    block's line numbers, each line's offset in the joined text, and the joined text.
    """
    numbers: list[int] = []
    parts: list[str] = []
    for number, line in enumerate([*split_lines(text), ""], start=1):
        if line.strip():
            numbers.append(number)
            parts.append(_plain(line))
            continue
        if parts:
            offsets = []
            position = 0
            for part in parts:
                offsets.append(position)
                position += len(part) + 1
            yield numbers, offsets, " ".join(parts)
            numbers, parts = [], []


def _phrase_hits(text: str, *, prose: bool) -> Iterator[tuple[int, _Phrase, str]]:
    """(line, phrase, matched text) for each subverting phrase that is meant, not mentioned."""
    headings = _headings(text) if prose else {}
    for numbers, offsets, joined in _paragraphs(text):
        quoted = [match.span() for match in _QUOTED.finditer(joined)] if prose else []
        for phrase in _PHRASES:
            for match in phrase.pattern.finditer(joined):
                start, end = match.span()
                if any(left <= start and end <= right for left, right in quoted):
                    continue
                if phrase.negatable and _negated(joined, start):
                    continue
                if _described(joined, start) or _under_review_heading(headings, numbers[0]):
                    continue
                line = numbers[bisect.bisect_right(offsets, start) - 1]
                yield line, phrase, match[0]


def _described(text: str, start: int) -> bool:
    """Whether the sentence before ``start`` describes the phrase as a pattern to find."""
    sentence_start = max(text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n")) + 1
    return _DESCRIBED.search(text, sentence_start, start) is not None


def _headings(text: str) -> dict[int, str]:
    """Each line's nearest Markdown heading above it (ATX headings), by line number."""
    current = ""
    found: dict[int, str] = {}
    for number, line in enumerate(split_lines(text), start=1):
        if re.match(r"^\s{0,3}#{1,6}\s", line):
            current = line
        found[number] = current
    return found


def _under_review_heading(headings: dict[int, str], line: int) -> bool:
    return bool(_REVIEW_HEADING.search(headings.get(line, "")))


def _negated(text: str, start: int) -> bool:
    """Whether the sentence before ``start`` forbids or merely mentions what follows."""
    sentence_start = max(text.rfind(mark, 0, start) for mark in (".", "!", "?", "\n")) + 1
    return _NEGATION.search(text, sentence_start, start) is not None


def _reads_as_instructions(hidden: str) -> bool:
    """Whether hidden text reads like orders to the agent rather than a note to authors.

    Subverting phrases, pipe-to-shell commands, credential paths with an order and
    orders spoken to the agent ("note for the assistant: always …") count whatever the
    comment starts with. The weaker signals, an order in text that mentions the agent
    or a sentence opening with a command verb, do not count in authoring notes (TODO,
    license and lint markers), which talk about the agent rather than to it.
    """
    text = " ".join(_plain(hidden).split())
    if not text:
        return False
    if any(phrase.pattern.search(text) for phrase in _PHRASES):
        return True
    if _PIPE_TO_SHELL.search(text):
        return True
    if re.search(_SENSITIVE_PATH, text, re.IGNORECASE) and _ORDER_WORDS.search(text):
        return True
    if _DIRECT_ADDRESS.search(text) and _ORDER_WORDS.search(text):
        return True
    if _AUTHORING_NOTE.match(text):
        return False
    if _ADDRESSES_AGENT.search(text) and _ORDER_WORDS.search(text):
        return True
    return any(_starts_with_command(sentence) for sentence in _sentences(text))


def _sentences(text: str) -> list[str]:
    pieces = re.split(r"(?<=[.!?;:])\s+|\s+(?=[-*]\s)|\s+(?=\d+[.)]\s)", text)
    return [re.sub(r"^[\W\d_]*(?:[-*]|\d+[.)])?\s*", "", piece) for piece in pieces]


def _starts_with_command(sentence: str) -> bool:
    """A sentence of three words or more that opens with a command verb ("Run the …")."""
    if _AUTHOR_CHORE.match(sentence) or len(sentence.split()) < 3:
        return False
    first = re.match(r"([A-Za-z]+)\b(?!-)", sentence)
    return first is not None and first[1].lower() in _COMMAND_VERBS


def _hidden_texts(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, how it is hidden, text) for each comment or hidden element outside code."""
    fenced = _fenced_lines(split_lines(text))
    newlines = [index for index, char in enumerate(text) if char == "\n"]

    def line_at(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    def in_code(offset: int) -> bool:
        number = line_at(offset)
        if number - 1 < len(fenced) and fenced[number - 1]:
            return True
        line_start = newlines[number - 2] + 1 if number > 1 else 0
        return text.count("`", line_start, offset) % 2 == 1

    for match in _HTML_COMMENT.finditer(text):
        if not in_code(match.start()):
            yield line_at(match.start()), "an HTML comment", match["text"]
    for match in _LINK_COMMENT.finditer(text):
        if not in_code(match.start()):
            hidden = match["p"] or match["d"] or match["s"] or ""
            yield line_at(match.start()), "a Markdown comment", hidden
    for match in _HTML_ELEMENT.finditer(text):
        if not in_code(match.start()) and _hides(match["attrs"]):
            inner = _TAGS.sub(" ", match["inner"])
            yield line_at(match.start()), f"a hidden <{match['tag']}> element", inner


def _hides(attributes: str) -> bool:
    for name, double, single, bare in _ATTRIBUTE.findall(attributes):
        value = double or single or bare
        if name.lower() == "hidden" and value.lower() not in ("false", "until-found"):
            return True
        if name.lower() == "style" and _HIDING_STYLE.search(value):
            return True
    return False


def _fenced_lines(lines: list[str]) -> list[bool]:
    """For each line, whether it is part of a fenced code block (fences included)."""
    flags = []
    fence: str | None = None
    for line in lines:
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~") and (fence is None or marker == fence):
            fence = marker if fence is None else None
            flags.append(True)
            continue
        flags.append(fence is not None)
    return flags


def _executable_urls(line: str) -> list[str]:
    """``name on host`` for each remote URL on the line that names an executable."""
    shown = []
    for match in _URL.finditer(line):
        url = match[0].rstrip(".,;:!?*_~")
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        name = unquote(parts.path.rsplit("/", 1)[-1])
        if name.lower().endswith(EXECUTABLE_SUFFIXES):
            shown.append(f"{_shown(name, 60)} on {_shown(parts.hostname or '?', 60)}")
    return shown
