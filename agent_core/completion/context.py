"""What the model sees around the cursor: prefix and suffix windows sized in lines.

Only the windows are cut out of the document, by searching line breaks outward from the cursor,
so the work per request does not grow with the document (a 100,000-line file costs what a
100-line one does). The split follows llama.vim's: ``prefix`` holds whole lines before the
cursor's line, ``middle`` the cursor's line up to the cursor, ``suffix`` the rest of that line and
the lines after it. Typing on one line changes only ``middle``, so a server's prompt cache keeps
everything before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_core.completion.ring import Chunk


@dataclass(frozen=True)
class FimContext:
    #: The file as the model is told about it (relative to the workspace when inside it).
    path: str
    prefix: str
    middle: str
    suffix: str
    #: Leading whitespace of the cursor's line, in characters (llama.cpp ``n_indent``).
    indent: int
    language: str | None = None
    #: Chunks of other files (llama.cpp ``input_extra``).
    extra: tuple[Chunk, ...] = field(default_factory=tuple)

    @property
    def before(self) -> str:
        """Everything in the prefix window up to the cursor."""
        return self.prefix + self.middle

    @property
    def line_rest(self) -> str:
        """The text after the cursor on its line."""
        return self.suffix.split("\n", 1)[0].rstrip("\r")

    @property
    def mid_line(self) -> bool:
        """True when code follows the cursor on its line: the suggestion must then be one line."""
        return bool(self.line_rest.strip())

    def window_lines(self) -> list[str]:
        """The lines of both windows (for comparing extra chunks with the current context)."""
        return (self.before + self.suffix).split("\n")


def build_context(
    text: str, offset: int, *, prefix_lines: int, suffix_lines: int, path: str, language: str | None = None
) -> FimContext:
    """The windows around string index ``offset`` of ``text`` (clamped into the text)."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    start = line_start
    for _ in range(prefix_lines):
        if start == 0:
            break
        start = text.rfind("\n", 0, start - 1) + 1
    end = text.find("\n", offset)
    end = len(text) if end == -1 else end
    for _ in range(suffix_lines):
        if end >= len(text):
            break
        following = text.find("\n", end + 1)
        end = len(text) if following == -1 else following
    line = text[line_start:offset]
    # On a line with only whitespace before the cursor, that whitespace is the indentation.
    indent = len(line) - len(line.lstrip(" \t"))
    return FimContext(
        path=path, prefix=text[start:line_start], middle=line, suffix=text[offset:end], indent=indent, language=language
    )
