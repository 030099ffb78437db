"""The editor's open documents, addressed by file path, and LSP ranges over their text.

The agent core thinks in file paths; LSP thinks in URIs and ``(line, character)`` positions whose
character unit depends on the negotiated position encoding (UTF-16 unless the client chose
otherwise). These helpers convert between the two so the host and inline edits never index a
string with client units by mistake.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import Workspace
from pygls.workspace.position_codec import PositionCodec
from pygls.workspace.text_document import TextDocument

#: Characters whose line breaks are counted at once by :func:`line_start`.
_BLOCK = 1 << 16


def uri_to_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI, or None for other schemes (untitled:, vscode-notebook:)."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def path_to_uri(path: Path) -> str:
    uri: str | None = from_fs_path(str(path))
    if uri is None:
        raise ValueError(f"cannot make a URI of {path}")
    return uri


def find_open_document(workspace: Workspace, path: Path) -> TextDocument | None:
    """The synced document for ``path`` if the editor has it open (its text may be unsaved)."""
    documents: dict[str, TextDocument] = workspace.text_documents
    direct = documents.get(path_to_uri(path))
    if direct is not None:
        return direct
    # Clients spell URIs differently (percent-encoding, drive letter case); compare paths.
    wanted = _normalise(path)
    for uri, document in documents.items():
        candidate = uri_to_path(uri)
        if candidate is not None and _normalise(candidate) == wanted:
            return document
    return None


def _normalise(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def end_position(text: str, codec: PositionCodec) -> types.Position:
    """The position just after the last character of ``text``, in the client's units."""
    lines = text.split("\n")
    return types.Position(line=len(lines) - 1, character=codec.client_num_units(lines[-1]))


def full_range(text: str, codec: PositionCodec) -> types.Range:
    """The range covering all of ``text`` (for whole-document replacements)."""
    return types.Range(start=types.Position(line=0, character=0), end=end_position(text, codec))


def line_start(text: str, line: int) -> int | None:
    """The string index where ``line`` (0-based) starts, or None when ``text`` has fewer lines.

    Line breaks are counted a block at a time (``str.count`` runs at memory speed) and found one
    by one only in the last block, so a position near the end of a 100,000-line document costs
    a few milliseconds, not a split of the whole text."""
    if line <= 0:
        return 0
    start, seen = 0, 0
    while True:
        if start >= len(text):
            return None
        end = min(len(text), start + _BLOCK)
        found = text.count("\n", start, end)
        if seen + found >= line:
            break
        seen, start = seen + found, end
    for _ in range(line - seen):
        start = text.find("\n", start) + 1
    return start


def offset_at(text: str, position: types.Position, codec: PositionCodec) -> int:
    """The string index of ``position`` in ``text``; positions past a line's end or past the last
    line are clamped, as the LSP specification asks."""
    if position.line < 0:
        return 0
    offset = line_start(text, position.line)
    if offset is None:
        return len(text)
    end = text.find("\n", offset)
    line = text[offset:] if end == -1 else text[offset:end]
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return offset + index
        units += codec.client_num_units(char)
    return offset + len(line.rstrip("\r")) if line.endswith("\r") else offset + len(line)


def range_offsets(text: str, range_: types.Range, codec: PositionCodec) -> tuple[int, int]:
    """Start and end string indices of ``range_`` in ``text`` (end never before start)."""
    start = offset_at(text, range_.start, codec)
    end = offset_at(text, range_.end, codec)
    return start, max(start, end)


def position_at(text: str, offset: int, codec: PositionCodec) -> types.Position:
    """The position of string index ``offset`` in ``text``, in the client's units."""
    offset = max(0, min(offset, len(text)))
    column = text[text.rfind("\n", 0, offset) + 1 : offset]
    return types.Position(line=text.count("\n", 0, offset), character=codec.client_num_units(column))


def clamp_range(text: str, range_: types.Range, codec: PositionCodec) -> types.Range:
    """``range_`` with positions past a line's end or the document's end moved onto the text, so
    an edit built from it means the same thing to every client."""
    start, end = range_offsets(text, range_, codec)
    return types.Range(start=position_at(text, start, codec), end=position_at(text, end, codec))
