"""The session file format: versioned JSONL, parsed defensively, older versions migrated.

A session file is one JSON object per line. The first line is the header::

    {"type": "session", "version": 1, "id": ..., "created": ..., "workspace": ..., "title": ...}

and every later line is one record::

    {"type": "message", "message": {...Message.model_dump(mode="json")...}}
    {"type": "title", "title": "...", "time": 1732435200.0}      # last one wins
    {"type": "rewind", "id": ..., "before": <message id>, "time": ...}     # version 2
    {"type": "unrewind", "rewind": <rewind id>, "time": ...}                # version 2

A rewind (a checkpoint's conversation restore) makes the active history the messages before
the named message; an unrewind makes it what it was just before the named rewind. Nothing is
ever removed from the file, so a rewind can itself be undone (see :mod:`.history`).

Records are only ever appended, so a crash can damage at most the last line. Parsing therefore
separates three kinds of damage, because users reported each one losing them their history
elsewhere (resume stopping at the first bad line, a corrupt file read as empty and overwritten):

* a torn or NUL-padded *last* line (a crash mid-append): cut, everything before it kept, and the
  writer truncates the file back to the last good line before appending again;
* a bad line in the *middle*: skipped and reported, the good lines around it kept;
* a header that cannot be read, or a version newer than this code knows: :class:`FormatError`;
  the caller reports it and leaves the file alone.

Version 1 is version 2 without rewind records: it is read as it is and appended to as it is,
until a rewind needs version 2; then the session rewrites it whole as version 2 (atomically,
the original kept as ``<id>.jsonl.v1.bak``). New files are written as version 2.
Version 0 is the earlier shape this module still reads: a header with ``"version": 0`` (or no
version) and no ``workspace``, and each message stored as a bare message object (a line with a
``role`` and no ``type``). It is migrated on read; :func:`encode_file` writes the current version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent_core.messages import Message
from agent_core.sessions.history import History
from agent_core.surrogates import valid_text

#: The version this code writes. Bump it when a record changes shape, and add a migration.
FORMAT_VERSION = 2
#: The oldest version appended to as it is (older ones are migrated on open).
APPENDABLE_VERSION = 1

#: Record ``type`` values of the current version.
HEADER_TYPE = "session"
MESSAGE_TYPE = "message"
TITLE_TYPE = "title"
REWIND_TYPE = "rewind"
UNREWIND_TYPE = "unrewind"

#: Every record line starts with this prefix (``type`` is always the first key), which lets the
#: listing count messages and find titles with byte searches instead of parsing every line.
MESSAGE_PREFIX = b'{"type":"message"'
TITLE_PREFIX = b'{"type":"title"'
#: A file holding one of these needs the full parse to know its active history.
REWIND_PREFIX = b'{"type":"rewind"'


class FormatError(Exception):
    """The file as a whole cannot be used: no readable header, or a version too new."""


@dataclass
class Header:
    """The first line of a session file."""

    id: str
    created: float
    workspace: str
    title: str
    version: int = FORMAT_VERSION

    def to_record(self) -> dict[str, Any]:
        return {
            "type": HEADER_TYPE,
            "version": FORMAT_VERSION,
            "id": self.id,
            "created": self.created,
            "workspace": self.workspace,
            "title": self.title,
        }


@dataclass
class ParsedSession:
    """What :func:`parse` recovered from a file, and what it had to leave out."""

    header: Header
    #: The active history (see :class:`~agent_core.sessions.history.History`).
    history: History
    #: The title in effect: the last title record, else the header's.
    title: str
    #: Byte length of the intact prefix: the header and every complete line after it. A writer
    #: truncates the file to this length before appending so a torn line is never continued.
    good_length: int
    #: Bytes cut from the end (a torn or NUL-padded last line); 0 when the file ended cleanly.
    cut_bytes: int = 0
    #: Human-readable notes about skipped middle lines (1-based line numbers).
    bad_lines: list[str] = field(default_factory=list)
    #: The version the file was written in, when it must be migrated before appending (v0).
    migrated_from: int | None = None

    @property
    def messages(self) -> list[Message]:
        """The active history."""
        return self.history.active


def is_prompt(message: Message) -> bool:
    """Whether a message is something the user typed (what a listing previews)."""
    return message.role == "user" and message.kind == "chat"


def encode_record(record: dict[str, Any]) -> bytes:
    """One record as one complete line. JSON escapes newlines, so a line never spans two; a lone
    surrogate (half an emoji from an editor or a model) is saved as U+FFFD."""
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
    return valid_text(line).encode("utf-8")


def message_record(message: Message) -> dict[str, Any]:
    return {"type": MESSAGE_TYPE, "message": message.model_dump(mode="json")}


def title_record(title: str, time: float) -> dict[str, Any]:
    return {"type": TITLE_TYPE, "title": title, "time": time}


def rewind_record(rewind_id: str, before: str, time: float) -> dict[str, Any]:
    return {"type": REWIND_TYPE, "id": rewind_id, "before": before, "time": time}


def unrewind_record(rewind_id: str, time: float) -> dict[str, Any]:
    return {"type": UNREWIND_TYPE, "rewind": rewind_id, "time": time}


def encode_file(
    header: Header, messages: list[Message], title: str | None = None, records: list[dict[str, Any]] | None = None
) -> bytes:
    """A whole file in the current version (new sessions, forks, migrations); ``records``, when
    given, are written instead of ``messages`` (every record of a history, rewinds included)."""
    parts = [encode_record(header.to_record())]
    if records is None:
        records = [message_record(m) for m in messages]
    parts.extend(encode_record(record) for record in records)
    if title is not None and title != header.title:
        parts.append(encode_record(title_record(title, header.created)))
    return b"".join(parts)


def split_lines(data: bytes) -> tuple[list[bytes], int, int]:
    """Split into complete lines; return ``(lines, good_length, cut_bytes)``.

    Trailing NUL bytes (what some filesystems leave after a crash extended the file) are dropped
    first; then whatever follows the last newline is an unfinished append and is cut.
    """
    stripped = data.rstrip(b"\0")
    end = stripped.rfind(b"\n") + 1
    lines = stripped[:end].split(b"\n")[:-1] if end else []
    return lines, end, len(data) - end


def _decode(line: bytes) -> Any:
    return json.loads(line.decode("utf-8"))


def parse_header(line: bytes) -> tuple[Header, int]:
    """Read the header line; raise :class:`FormatError` if it is not a usable header."""
    try:
        obj = _decode(line)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"the first line is not a JSON session header ({exc})") from None
    if not isinstance(obj, dict) or obj.get("type") != HEADER_TYPE:
        raise FormatError('the first line is not a session header (no "type": "session")')
    version = obj.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise FormatError(f"the header has an invalid version {version!r}")
    if version > FORMAT_VERSION:
        raise FormatError(
            f"it was written by a newer agent-lsp (format version {version}; this one reads up to "
            f"{FORMAT_VERSION}). Upgrade agent-lsp to open it"
        )
    session_id, created = obj.get("id"), obj.get("created")
    if not isinstance(session_id, str) or not isinstance(created, (int, float)):
        raise FormatError('the header lacks a string "id" or a numeric "created"')
    title = obj.get("title") or ""
    workspace = obj.get("workspace") or ""
    if not isinstance(title, str) or not isinstance(workspace, str):
        raise FormatError('the header\'s "title" or "workspace" is not a string')
    return Header(session_id, float(created), workspace, title, version), version


def _record_v1(obj: Any) -> tuple[str, Any]:
    """Interpret one current-version record: ``("message", Message)``, ``("title", str)``,
    ``("rewind", (id, before))`` or ``("unrewind", id)``."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    kind = obj.get("type")
    if kind == MESSAGE_TYPE:
        return MESSAGE_TYPE, Message.model_validate(obj.get("message"))
    if kind == TITLE_TYPE and isinstance(obj.get("title"), str):
        return TITLE_TYPE, obj["title"]
    if kind == REWIND_TYPE and isinstance(obj.get("id"), str) and isinstance(obj.get("before"), str):
        return REWIND_TYPE, (obj["id"], obj["before"])
    if kind == UNREWIND_TYPE and isinstance(obj.get("rewind"), str):
        return UNREWIND_TYPE, obj["rewind"]
    raise ValueError(f"unknown record type {kind!r}")


def _record_v0(obj: Any) -> tuple[str, Any]:
    """Version 0 stored messages as bare objects and titles as ``{"type": "title"}``."""
    if isinstance(obj, dict) and "type" not in obj and "role" in obj:
        return MESSAGE_TYPE, Message.model_validate(obj)
    return _record_v1(obj)


def parse(data: bytes) -> ParsedSession:
    """Recover a session from a file's bytes (see the module docstring for the rules)."""
    lines, good_length, cut = split_lines(data)
    if not lines:
        raise FormatError("the file has no complete header line (empty or cut off)")
    header, version = parse_header(lines[0])
    read_record = _record_v1 if version >= APPENDABLE_VERSION else _record_v0
    history = History()
    title = header.title
    bad: list[str] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip(b" \t\r\0"):
            continue
        try:
            kind, value = read_record(_decode(line))
        except (UnicodeDecodeError, ValueError, ValidationError) as exc:
            reason = str(exc).splitlines()[0][:120]
            bad.append(f"line {number} skipped: {reason}")
            continue
        if kind == MESSAGE_TYPE:
            history.add(value)
        elif kind == TITLE_TYPE:
            title = value
        elif kind == REWIND_TYPE:
            if not history.rewind(*value):
                bad.append(f"line {number} skipped: a rewind to a message not in the active history")
        elif not history.unrewind(value):
            bad.append(f"line {number} skipped: an unrewind of an unknown rewind")
    return ParsedSession(
        header=header,
        history=history,
        title=title,
        good_length=good_length,
        cut_bytes=cut,
        bad_lines=bad,
        migrated_from=version if version < APPENDABLE_VERSION else None,
    )


@dataclass
class Summary:
    """What a listing needs from one file, found without validating every message."""

    header: Header
    title: str
    message_count: int
    first_user: str


def summarize(data: bytes) -> Summary:
    """Header, title, message count and first user message, by byte search where possible.

    Current-version records always start with their ``type``, so counting lines that start with
    the message prefix counts messages, the last title line is found with one reverse search, and
    only the first user message's line is parsed. Version 0 files and files holding a rewind are parsed fully.
    Raises :class:`FormatError` like :func:`parse`.
    """
    lines, good_length, _ = split_lines(data)
    if not lines:
        raise FormatError("the file has no complete header line (empty or cut off)")
    header, version = parse_header(lines[0])
    if version < APPENDABLE_VERSION or REWIND_PREFIX in data:
        parsed = parse(data)
        first = next((m.content for m in parsed.messages if is_prompt(m)), "")
        return Summary(header, parsed.title, len(parsed.messages), first)
    body = data[:good_length]
    count = body.count(b"\n" + MESSAGE_PREFIX)
    title = header.title
    at = body.rfind(b"\n" + TITLE_PREFIX)
    if at >= 0:
        try:
            kind, value = _record_v1(_decode(body[at + 1 : body.index(b"\n", at + 1)]))
            title = value if kind == TITLE_TYPE else title
        except (UnicodeDecodeError, ValueError, ValidationError):
            pass
    return Summary(header, title, count, _first_user(lines))


def _first_user(lines: list[bytes]) -> str:
    for line in lines[1:]:
        if not line.startswith(MESSAGE_PREFIX) or b'"role":"user"' not in line:
            continue
        try:
            kind, value = _record_v1(_decode(line))
        except (UnicodeDecodeError, ValueError, ValidationError):
            continue
        if kind == MESSAGE_TYPE and is_prompt(value):
            return str(value.content)
    return ""
