"""Text from the model or a file, made fit to show a person who has to judge it.

A terminal obeys the control characters it is sent: a carriage return and an escape sequence
inside a command can erase the line that showed it, so the user approves ``pytest -q`` and runs
``curl ... | sh``. Bidi overrides and isolates reorder what is shown ("Trojan Source"), and
zero-width and other format characters make two different texts look the same. :func:`visible`
writes every such character as a visible escape (``\\x1b``, ``\\r``, ``\\u202e``), so what is
shown is what will run. The core applies it to every approval's title and detail (so every front
end and every client shows the same honest text), and the terminal front end to all it prints.

Escaped: C0 and C1 control characters and DEL, except a tab, and a line feed in multi-line text
(where a CR right before a line feed, a CRLF file's line ending, becomes a plain line break); every
Unicode format character (category Cf: bidi embeddings, overrides, isolates and marks, zero-width
spaces and joiners, word joiner, BOM, invisible operators, tag characters, soft hyphen); line and
paragraph separators; lone surrogates; the blank Hangul fillers. The backslash itself is not
escaped, so a command's own ``\\x1b`` text reads like an escaped ESC; either way nothing is hidden.

:func:`excerpt` is for displays that cannot show a long text whole: its head and tail, and how
much lies between them, so the end of a command is never the part that is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Every character of the Unicode categories Cc (controls), Cf (format: bidi, zero-width, tags...),
#: Zl and Zp (line and paragraph separators) and Cs (surrogates), as of Unicode 15 (a test checks
#: that the running Python knows no other), plus the Hangul fillers, letters that render blank.
#: A fixed class keeps :func:`visible` as fast as one regex pass over text of any script.
HIDDEN_RANGES: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0x3164, 0x3164),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)


def _char_class(keep: str) -> str:
    """A regex character class of :data:`HIDDEN_RANGES` without the characters in ``keep``."""
    codes = [c for first, last in HIDDEN_RANGES for c in range(first, min(last, 0x7F) + 1) if chr(c) not in keep]
    wide = [(first, last) for first, last in HIDDEN_RANGES if last > 0x7F]
    parts = [f"\\x{c:02x}" for c in codes] + [f"\\U{max(first, 0x80):08x}-\\U{last:08x}" for first, last in wide]
    return "[" + "".join(parts) + "]"


#: A CRLF (a line break in multi-line text) or one hidden character; a tab, and a line feed in
#: multi-line text, are kept.
_MULTILINE = re.compile("\\r\\n|" + _char_class("\t\n"))
_ONE_LINE = re.compile(_char_class("\t"))
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
    return "\n" if char == "\r\n" else escape(char)


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
    rest = text[len(head) :]
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
