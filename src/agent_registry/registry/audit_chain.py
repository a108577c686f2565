"""The audit log's hash chain: how an event is hashed, and how the chain is checked.

Each audit event stores ``prev_hash`` (the hash of the event before it) and
``event_hash``: a digest of a canonical JSON of everything the event says plus
``prev_hash``. Changing any stored field of a row, deleting a row, or slipping one in
then breaks a link that :func:`verify_chain` can point at.

An unkeyed chain (format 1, plain sha256) shows tampering only by someone who does not
also recompute every later hash, which anyone with write access to the database can do.
So the chain is keyed (format 2): each digest is an HMAC-SHA256 under the audit key
(``AGENT_REGISTRY_AUDIT_KEY``), a secret kept in a file the worker reads and the
database never holds. A database writer who rewrites a row and re-hashes every later
row without the key produces digests the key does not reproduce, and verification
names the first such row. An existing unkeyed chain is keyed once with
``agentreg audit rekey`` (which checks it first).

The canonical JSON is one object with sorted keys, no spaces, UTF-8::

    {"action":…,"actor":…,"at":"2026-11-24T09:30:00.123456Z","content_hash":…,
     "detail":{…},"event_key":…,"format":1|2,"policy_version":…,"prev_hash":…,
     "ref":{"kind":…,"name":…,"version":…},"seq":…}

The hashing and :func:`verify_chain` are pure, so migrations and tests can use them
without a database; :func:`load_chain` and :func:`verify_database` read the tables.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agent_registry.registry.tables import AuditChainHead, AuditEvent

CHAIN_FORMAT = 1
"""Version of the unkeyed canonical JSON; hashed in, so formats cannot be confused."""

KEYED_CHAIN_FORMAT = 2
"""The format of a keyed digest (HMAC-SHA256 under the audit key)."""

MIN_KEY_BYTES = 32
"""An audit key shorter than this is refused: it must not be guessable."""

AUDIT_KEY_OPTION = "agent_registry_audit_key"
"""The engine execution option carrying the audit key to :func:`session_audit_key`."""

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event: there is nothing before it."""

HEAD_ID = 1
"""Primary key of the single :class:`AuditChainHead` row."""


@dataclass(frozen=True)
class ChainedEvent:
    """An audit event as the chain sees it: every hashed field, plus its row id.

    A plain value, not a table row, so verification works the same on rows read from
    the database, rows read by a migration, and lines read back from an export.
    """

    id: int
    seq: int | None
    event_key: str
    kind: str
    name: str
    version: str
    actor: str
    at: datetime
    action: str
    content_hash: str | None
    policy_version: str | None
    detail: Mapping[str, object] = field(default_factory=dict)
    prev_hash: str | None = None
    event_hash: str | None = None

    @classmethod
    def from_row(cls, row: AuditEvent) -> ChainedEvent:
        """The chain's view of a stored event."""
        if row.id is None:
            raise ValueError(f"audit event {row.event_key!r} has no id yet; flush it first")
        return cls(
            id=row.id,
            seq=row.seq,
            event_key=row.event_key,
            kind=row.kind,
            name=row.name,
            version=row.version,
            actor=row.actor,
            at=row.at,
            action=row.action,
            content_hash=row.content_hash,
            policy_version=row.policy_version,
            detail=dict(row.detail),
            prev_hash=row.prev_hash,
            event_hash=row.event_hash,
        )

    def record(self) -> dict[str, object]:
        """The event as one JSON object for a SIEM: every chained field and both hashes."""
        return {
            "id": self.id,
            "seq": self.seq,
            "event_key": self.event_key,
            "kind": self.kind,
            "name": self.name,
            "version": self.version,
            "actor": self.actor,
            "at": format_at(self.at),
            "action": self.action,
            "content_hash": self.content_hash,
            "policy_version": self.policy_version,
            "detail": dict(self.detail),
            "prev_hash": self.prev_hash,
            "event_hash": self.event_hash,
            "chain_format": CHAIN_FORMAT,
        }


def format_at(at: datetime) -> str:
    """The event time as hashed: UTC, always with microseconds, ``Z``-suffixed.

    A fixed width means the text does not depend on whether the microseconds happen to
    be zero, and both databases keep microseconds, so a stored time hashes as written.
    """
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: audit times must be aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(
    *,
    seq: int,
    event_key: str,
    kind: str,
    name: str,
    version: str,
    actor: str,
    at: datetime,
    action: str,
    content_hash: str | None,
    policy_version: str | None,
    detail: Mapping[str, object],
    prev_hash: str,
    keyed: bool = False,
) -> bytes:
    """The bytes an event's hash is taken over (format 1, or 2 when ``keyed``).

    Sorted keys and fixed separators make the text depend only on the values, so the
    writer, the migration's backfill and the verifier all produce the same bytes.
    """
    payload = {
        "format": KEYED_CHAIN_FORMAT if keyed else CHAIN_FORMAT,
        "seq": seq,
        "event_key": event_key,
        "ref": {"kind": kind, "name": name, "version": version},
        "actor": actor,
        "at": format_at(at),
        "action": action,
        "content_hash": content_hash,
        "policy_version": policy_version,
        "detail": dict(detail),
        "prev_hash": prev_hash,
    }
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def event_digest(
    event: ChainedEvent | AuditEvent, *, seq: int, prev_hash: str, key: bytes | None = None
) -> str:
    """The hex digest of ``event`` placed at ``seq`` after ``prev_hash``.

    ``seq`` and ``prev_hash`` are given separately so the same function hashes a new
    row (whose place is being decided, before it has an id) and re-checks a stored one.
    With ``key`` it is an HMAC-SHA256 over the format-2 JSON, else a sha256 over format 1.
    """
    data = canonical_json(
        seq=seq,
        event_key=event.event_key,
        kind=event.kind,
        name=event.name,
        version=event.version,
        actor=event.actor,
        at=event.at,
        action=event.action,
        content_hash=event.content_hash,
        policy_version=event.policy_version,
        detail=event.detail,
        prev_hash=prev_hash,
        keyed=key is not None,
    )
    if key is not None:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def load_audit_key(path: Path) -> bytes:
    """The audit key in the file at ``path`` (its bytes, without a trailing newline).

    Raises:
        ValueError: Unreadable, or shorter than :data:`MIN_KEY_BYTES`; names the file.
    """
    try:
        key = path.read_bytes().rstrip(b"\r\n")
    except OSError as error:
        raise ValueError(f"cannot read the audit key {path}: {error.strerror}") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"the audit key {path} holds {len(key)} bytes; it needs at least {MIN_KEY_BYTES} "
            "(e.g. `head -c 32 /dev/urandom | base64 > FILE`)"
        )
    return key


def keyed_engine(engine: Engine, key: bytes | None) -> Engine:
    """``engine`` carrying the audit key, so every append through it is keyed.

    The key rides as an execution option (the same pool, no global state), and
    :func:`session_audit_key` reads it back inside the store's transaction.
    """
    return engine if key is None else engine.execution_options(**{AUDIT_KEY_OPTION: key})


def session_audit_key(session: Session) -> bytes | None:
    """The audit key the session's engine carries, if any."""
    key = session.connection().get_execution_options().get(AUDIT_KEY_OPTION)
    return key if isinstance(key, bytes) else None


class Problem(StrEnum):
    """What kind of break verification found, for callers that act on it."""

    ALTERED = "altered"
    UNKEYED = "unkeyed"
    REMOVED = "removed"
    INSERTED = "inserted"
    BROKEN_LINK = "broken-link"
    TRUNCATED = "truncated"


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain does not hold, and what it looks like happened."""

    problem: Problem
    message: str
    event_id: int | None = None
    event_key: str | None = None


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a chain: how far it held, and where it broke if it did."""

    count: int
    head_hash: str
    broken: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        """Whether every link held, up to and including the recorded head."""
        return self.broken is None


@dataclass(frozen=True)
class ChainHead:
    """The recorded end of the chain: the last event's seq and hash."""

    seq: int
    event_hash: str


def verify_chain(
    events: Iterable[ChainedEvent],
    head: ChainHead | None,
    *,
    key: bytes | None = None,
    unkeyed_prefix: bool = False,
) -> Verification:
    """Recompute the chain in row order and report the first link that does not hold.

    Rows are expected in id order: appends take ids while holding the chain lock, so id
    order is chain order. Each row is checked for being chained at all, then for its
    own hash (an altered row fails here, naming itself), then for its place: a ``seq``
    that jumps ahead means rows were removed, one that repeats or goes back means a row
    was inserted or moved, and a ``prev_hash`` that is not the previous row's hash means
    the row before it was replaced. Finally the recorded head must be the last row, or
    rows were cut off the end (or added after it without going through the store).

    With ``key``, every digest must be the keyed one: a row whose digest only a plain
    sha256 reproduces was re-hashed by someone without the key (or predates the key and
    was never re-keyed), and is reported as the first row that disagrees.

    Args:
        events: The stored events, in id order.
        head: The recorded head, or None if there is none.
        key: The audit key; None checks an unkeyed chain.
        unkeyed_prefix: Accept unkeyed rows before the first keyed one (what
            :func:`rekey_chain` checks before keying them).

    Returns:
        How many events were checked and the last good hash, with the first break if any.
    """
    previous: ChainedEvent | None = None
    prev_seq = 0
    prev_hash = GENESIS_HASH
    count = 0
    keyed_seen = False
    for event in events:
        row_key = key
        if key is not None and unkeyed_prefix and not keyed_seen and _digest_is(event, None):
            row_key = None
        keyed_seen = keyed_seen or row_key is not None
        found = _check_link(
            event, previous=previous, prev_seq=prev_seq, prev_hash=prev_hash, key=row_key
        )
        if found is not None or event.seq is None or event.event_hash is None:
            return Verification(count=count, head_hash=prev_hash, broken=found)
        previous, prev_seq, prev_hash = event, event.seq, event.event_hash
        count += 1
    broken = _check_head(head, previous=previous, prev_seq=prev_seq, prev_hash=prev_hash)
    return Verification(count=count, head_hash=prev_hash, broken=broken)


def _describe(event: ChainedEvent) -> str:
    return f"event id {event.id} (key {event.event_key!r}, seq {event.seq})"


def _digest_is(event: ChainedEvent, key: bytes | None) -> bool:
    if event.seq is None or event.prev_hash is None or event.event_hash is None:
        return False
    digest = event_digest(event, seq=event.seq, prev_hash=event.prev_hash, key=key)
    return hmac.compare_digest(digest, event.event_hash)


def _check_link(
    event: ChainedEvent,
    *,
    previous: ChainedEvent | None,
    prev_seq: int,
    prev_hash: str,
    key: bytes | None = None,
) -> ChainBreak | None:
    after = "the start of the chain" if previous is None else _describe(previous)
    if event.seq is None or event.prev_hash is None or event.event_hash is None:
        return ChainBreak(
            Problem.INSERTED,
            f"{_describe(event)} is not chained: it was inserted without going through "
            f"the registry, after {after}",
            event.id,
            event.event_key,
        )
    if not _digest_is(event, key):
        if key is not None and _digest_is(event, None):
            return ChainBreak(
                Problem.UNKEYED,
                f"{_describe(event)} disagrees with the audit key: its event_hash is a plain "
                "sha256, so it was re-hashed by someone without the key (or written before "
                "the key was configured and never re-keyed with `agentreg audit rekey`)",
                event.id,
                event.event_key,
            )
        return ChainBreak(
            Problem.ALTERED,
            f"{_describe(event)} was altered: its stored fields no longer hash to its "
            f"event_hash {event.event_hash[:12]}…",
            event.id,
            event.event_key,
        )
    if event.seq > prev_seq + 1:
        missing = (
            f"seq {prev_seq + 1}"
            if event.seq == prev_seq + 2
            else f"seq {prev_seq + 1}..{event.seq - 1}"
        )
        return ChainBreak(
            Problem.REMOVED,
            f"{missing} removed: {_describe(event)} follows {after}",
            event.id,
            event.event_key,
        )
    if event.seq <= prev_seq:
        return ChainBreak(
            Problem.INSERTED,
            f"{_describe(event)} is out of place: it follows {after}, so a row was "
            "inserted or moved",
            event.id,
            event.event_key,
        )
    if event.prev_hash != prev_hash:
        return ChainBreak(
            Problem.BROKEN_LINK,
            f"link broken between {after} and {_describe(event)}: its prev_hash "
            f"{event.prev_hash[:12]}… is not {prev_hash[:12]}…, so the row before it was "
            "replaced",
            event.id,
            event.event_key,
        )
    return None


def _check_head(
    head: ChainHead | None, *, previous: ChainedEvent | None, prev_seq: int, prev_hash: str
) -> ChainBreak | None:
    if head is None:
        if previous is None:
            return None
        return ChainBreak(
            Problem.TRUNCATED,
            f"the chain head row is missing, so the end of the chain after "
            f"{_describe(previous)} cannot be confirmed",
            previous.id,
            previous.event_key,
        )
    if head.seq == prev_seq and head.event_hash == prev_hash:
        return None
    last = "the start of the chain" if previous is None else _describe(previous)
    if head.seq > prev_seq:
        message = (
            f"seq {prev_seq + 1}..{head.seq} removed from the end: the head records seq "
            f"{head.seq} ({head.event_hash[:12]}…) but the last event is {last}"
        )
        problem = Problem.TRUNCATED
    else:
        message = (
            f"the head records seq {head.seq} ({head.event_hash[:12]}…) but the chain "
            f"ends at {last} ({prev_hash[:12]}…)"
        )
        problem = Problem.BROKEN_LINK
    return ChainBreak(
        problem,
        message,
        None if previous is None else previous.id,
        None if previous is None else previous.event_key,
    )


# --- reading the tables ----------------------------------------------------------------


def load_head(session: Session, *, lock: bool = False) -> ChainHead | None:
    """The recorded head, optionally locked so no append commits while it is held.

    Args:
        session: The registry session.
        lock: Take the row ``FOR SHARE`` (PostgreSQL): appends wait, so rows read later
            in this transaction end exactly at this head.
    """
    query = select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
    if lock:
        query = query.with_for_update(read=True)
    row = session.exec(query.execution_options(populate_existing=True)).first()
    return None if row is None else ChainHead(seq=row.seq, event_hash=row.event_hash)


def load_chain(session: Session, *, after_id: int | None = None) -> list[ChainedEvent]:
    """Every stored event in chain (id) order, or those after ``after_id``."""
    query = select(AuditEvent).order_by(col(AuditEvent.id))
    if after_id is not None:
        query = query.where(col(AuditEvent.id) > after_id)
    return [ChainedEvent.from_row(row) for row in session.exec(query)]


def verify_database(session: Session, *, key: bytes | None = None) -> Verification:
    """Verify the stored chain against its recorded head (keyed when ``key`` is given).

    The head is locked first, so an append in flight either finishes before the rows
    are read or waits until verification ends; the result never reports a half-written
    append as a break.
    """
    head = load_head(session, lock=True)
    return verify_chain(load_chain(session), head, key=key)


def rekey_chain(session: Session, *, key: bytes) -> Verification:
    """Key an unkeyed (or partly keyed) chain: check it, then recompute every digest.

    Nothing is rewritten unless the chain as stored is intact (unkeyed rows first, keyed
    ones after), so re-keying never launders a tampered log.

    Returns:
        The check of the stored chain; when it is broken, nothing was changed.
    """
    head_row = session.exec(
        select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
    ).first()
    head = None if head_row is None else ChainHead(seq=head_row.seq, event_hash=head_row.event_hash)
    rows = list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))))
    checked = verify_chain(
        [ChainedEvent.from_row(row) for row in rows], head, key=key, unkeyed_prefix=True
    )
    if not checked.intact:
        return checked
    prev_hash = GENESIS_HASH
    for row in rows:
        assert row.seq is not None  # an intact chain has every row chained
        row.prev_hash = prev_hash
        row.event_hash = event_digest(row, seq=row.seq, prev_hash=prev_hash, key=key)
        prev_hash = row.event_hash
        session.add(row)
    if head_row is not None:
        head_row.event_hash = prev_hash
        session.add(head_row)
    session.flush()
    return Verification(count=checked.count, head_hash=prev_hash)
