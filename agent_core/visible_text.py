"""Text from the model or a file, made fit to show a person who has to judge it.

A terminal obeys the control characters it is sent: a carriage return and an escape sequence
inside a command can erase the line that showed it, so the user approves ``pytest -q`` and runs
``curl ... | sh``. Bidi overrides and isolates reorder what is shown ("Trojan Source"), and
zero-width and other format characters make two different texts look the same. :func:`visible`
writes every such character as a visible escape (``\\x1b``, ``\\r``, ``\\u202e``), so what is
shown is what will run. The core applies it to every approval's title and detail (so every front
end and every client shows the same honest text), and the terminal front end to all it prints.

Escaped: C0 and C1 control characters and DEL, except a line feed and a tab in multi-line text
(a CR right before a line feed, a CRLF file's line ending, becomes a plain line break); every
Unicode format character (category Cf: bidi embeddings, overrides, isolates and marks, zero-width
spaces and joiners, word joiner, BOM, invisible operators, tag characters, soft hyphen); line and
paragraph separators; lone surrogates; the blank Hangul fillers. The backslash itself is not
escaped, so a command's own ``\\x1b`` text reads like an escaped ESC; either way nothing is hidden.

:func:`excerpt` is for displays that cannot show a long text whole: its head and tail, and how
much lies between them, so the end of a command is never the part that is left out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Unicode categories of characters that are invisible or control the display.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
#: Letters that render as blank space (Hangul fillers), used to make look-alike text.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
#: Candidates: anything but printable ASCII (a tab, and a line feed or CRLF in multi-line text,
#: are kept); the category decides. ASCII text, most of any diff, never calls back.
_MULTILINE = re.compile(r"\r\n|[^\x20-\x7e\t\n]")
_ONE_LINE = re.compile(r"[^\x20-\x7e\t]")
_NAMED = {"\r": "\\r", "\n": "\\n"}
#: A line with its line feed (line breaks are line feeds only, as an editor counts them).
_LINES = re.compile(r"[^\n]*\n|[^\n]+$")


def visible(text: str, *, multiline: bool = True) -> str:
    """``text`` with every invisible or display-controlling character written as an escape.

    With ``multiline`` (a diff, a command's full text) line feeds and tabs stay as they are;
    without it (a title shown on one line) a line feed is written ``\\n`` too.
    """
    return (_MULTILINE if multiline else _ONE_LINE).sub(_escape_match, text)


def _escape_match(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r\n":
        return "\n"
    if char in _NAMED or unicodedata.category(char) in _HIDDEN_CATEGORIES or char in _BLANK_LETTERS:
        return escape(char)
    return char


def escape(char: str) -> str:
    """One character as a visible escape: ``\\r``, ``\\x1b``, ``\\u202e``, ``\\U000e0041``."""
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


@dataclass(frozen=True)
class Excerpt:
    """A long text's head and tail; ``omitted_chars`` characters (``omitted_lines`` line breaks)
    lie between them. A text that fits is all head, nothing omitted."""

    head: str
    tail: str
    omitted_chars: int
    omitted_lines: int

    @property
    def whole(self) -> bool:
        return self.omitted_chars == 0


def excerpt(text: str, max_chars: int, max_lines: int) -> Excerpt:
    """``text`` whole when it has at most ``max_chars`` characters and ``max_lines`` lines, else
    its head and its tail, each within half of both limits: whole lines, and then the part of the
    next line that still fits (so the end of one long line is shown too)."""
    lines = _LINES.findall(text)
    if len(text) <= max_chars and len(lines) <= max_lines:
        return Excerpt(text, "", 0, 0)
    half_chars, half_lines = max(1, max_chars // 2), max(1, max_lines // 2)
    head = _leading(lines, half_chars, half_lines)
    rest = text[len(head):]
    # The tail is the leading part of the text read backwards (each line reversed, last first).
    tail = _leading([line[::-1] for line in reversed(_LINES.findall(rest))], half_chars, half_lines)[::-1]
    middle = rest[: len(rest) - len(tail)]
    return Excerpt(head, tail, len(middle), middle.count("\n"))


def _leading(lines: list[str], max_chars: int, max_lines: int) -> str:
    """The first of ``lines`` that fit both limits, then as much of the next one as still fits."""
    taken: list[str] = []
    room = max_chars
    for line in lines[:max_lines]:
        if len(line) > room:
            taken.append(line[:room])
            break
        taken.append(line)
        room -= len(line)
    return "".join(taken)
