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
