"""The rules a suggestion passes before an editor shows it.

Each rule answers a complaint users of AI completion keep filing: a suggestion that repeats the
code below the cursor (the tail that duplicates the suffix is dropped), FIM tokens or Markdown
fences in the text (cut), a multi-line block pushed into the middle of a line (one line only),
a suggestion that runs on into the next function (stopped at the end of the block), and a ghost
of nothing but whitespace (empty instead). :func:`clean` applies them all, in that order; it is
pure, so every source's output goes through the same rules.
"""

from __future__ import annotations

from agent_core.completion.context import FimContext
from agent_core.completion.fim import SPECIAL_TOKENS

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())
#: A cursor line (or first suggested line) ending with one of these opens a block.
_BLOCK_OPENERS = (":", "{", "(", "[")


def clean(raw: str, ctx: FimContext) -> str:
    """The suggestion to show for ``raw`` model output at ``ctx``; "" when nothing is left."""
    text = cut_special_tokens(raw)
    text = strip_fences(text)
    if ctx.mid_line:
        text = text.split("\n", 1)[0]
    text = stop_at_block_end(text, ctx)
    text = drop_repeated_suffix_lines(text, ctx)
    text = text.rstrip()
    text = drop_line_rest_overlap(text, ctx)
    return text if text.strip() else ""


def cut_special_tokens(text: str) -> str:
    """Everything before the first special token (what follows one is not the middle)."""
    cut = min((i for i in (text.find(token) for token in SPECIAL_TOKENS) if i >= 0), default=len(text))
    return text[:cut]


def strip_fences(text: str) -> str:
    """Markdown fences never belong in code: an opening fence line is dropped, and the text
    ends at the next fence line."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("```"):
        lines = lines[first + 1 :]
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            lines = lines[:i]
            break
    return "\n".join(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def stop_at_block_end(text: str, ctx: FimContext) -> str:
    """Cut at the first line that leaves the cursor's block: less indented than the cursor's
    line, or, when the cursor's line (code already typed on it, completed by the first suggested
    line) opens a block, back at its level (a closing bracket at that level is kept: it ends the
    block the suggestion opened)."""
    lines = text.split("\n")
    opens = bool(ctx.middle.strip()) and (ctx.middle + lines[0]).rstrip().endswith(_BLOCK_OPENERS)
    for i in range(1, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        indent = _indent(line)
        if indent < ctx.indent or (opens and indent <= ctx.indent):
            keep = opens and indent == ctx.indent and line.lstrip()[0] in _CLOSERS
            return "\n".join(lines[: i + 1] if keep else lines[:i])
    return text


def drop_repeated_suffix_lines(text: str, ctx: FimContext) -> str:
    """Cut where the suggestion starts repeating the lines below the cursor."""
    below = [line.strip() for line in ctx.suffix.split("\n")[1:] if line.strip()]
    if not below:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped != below[0] or (i == 0 and ctx.middle.strip()):
            continue
        following = [rest.strip() for rest in lines[i:] if rest.strip()]
        if all(a == b for a, b in zip(following, below, strict=False)):
            return "\n".join(lines[:i])
    return text


def drop_line_rest_overlap(text: str, ctx: FimContext) -> str:
    """Drop the end of the suggestion that repeats the start of the text after the cursor on
    its line (``foo(|)`` + ``a, b)`` -> ``a, b``). A short overlap of brackets or quotes only
    counts when the suggestion leaves one unmatched, so ``f(x)`` before ``)`` stays whole."""
    rest = ctx.line_rest.rstrip()
    for k in range(len(rest), 0, -1):
        piece = rest[:k]
        if text.endswith(piece) and (len(piece.strip()) >= 3 or _unmatched(text, piece)):
            return text[:-k]
    return text


def _unmatched(text: str, piece: str) -> bool:
    """The suggestion closes more brackets than it opens, or has an odd count of the quote that
    starts ``piece``."""
    if piece[0] in "\"'`" and text.count(piece[0]) % 2 == 1:
        return True
    return _closes_more_than_opens(text)


def _closes_more_than_opens(text: str) -> bool:
    depth = 0
    for char in text:
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
    return depth < 0
