"""Shaping text for people: one line for a title or a log line, a Markdown fence that holds.

Shared by the core (prompts, session previews, Markdown export) and the front ends (progress
titles, terminal lines), so each rule is written once.
"""

from __future__ import annotations

import re


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` with every run of whitespace (line breaks included) made one space, and cut to
    ``limit`` characters, ending in an ellipsis, when it is longer."""
    flat = " ".join(text.split())
    if limit is None or len(flat) <= limit:
        return flat
    return flat[: limit - 1] + "…"


def fenced(text: str, language: str = "") -> str:
    """``text`` as a Markdown code block whose fence is longer than any backtick run inside it,
    so text that itself holds a fenced block (most code and transcripts do) cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{text}\n{ticks}"


#: Characters that change how text is shown rather than what it says: C0/C1 controls (ESC, CR,
#: backspace), bidirectional overrides and isolates, zero-width characters, line separators.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)


def visible(text: str) -> str:
    """``text`` with every character that could hide or disguise other text on a screen (see
    ``_HIDDEN``) written as a ``\\uXXXX`` escape, so what a user approves is what they read.
    Line breaks and tabs are kept."""
    return _HIDDEN.sub(lambda match: f"\\u{ord(match.group(0)):04x}", text)
