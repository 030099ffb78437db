"""The chat prompt for models that only chat: "write the insertion at <CURSOR>, nothing else".

Chat models (Anthropic's, OpenAI's, any instruct model behind ``/v1/chat/completions``) have no
fill-in-the-middle tokens, so the file is shown with a cursor marker and the reply must be the
insertion alone. They still add fences, repeat the line they were given or explain themselves;
:mod:`agent_core.completion.quality` and :func:`strip_echo` take those out.
"""

from __future__ import annotations

from agent_core.completion.context import FimContext
from agent_core.messages import Message

CURSOR = "<CURSOR>"

SYSTEM = (
    "You are a code completion engine inside a code editor. You are shown a file with the cursor "
    f"marked {CURSOR}. Reply with exactly the text to insert at the cursor and nothing else: no "
    "explanation, no Markdown code fences, and none of the text that is already before or after "
    "the cursor. If nothing useful fits, reply with nothing."
)


def chat_messages(ctx: FimContext) -> list[Message]:
    parts: list[str] = []
    if ctx.extra:
        parts.append("Other files of the project, for reference:")
        parts.extend(f"--- {chunk.filename} ---\n{chunk.text}" for chunk in ctx.extra)
        parts.append("")
    language = f" ({ctx.language})" if ctx.language else ""
    parts.append(f"File: {ctx.path}{language}")
    if ctx.mid_line:
        parts.append("Complete only the rest of the cursor's line.")
    parts.append(f"{ctx.before}{CURSOR}{ctx.suffix}")
    return [Message(role="system", content=SYSTEM), Message(role="user", content="\n".join(parts))]


def strip_echo(text: str, ctx: FimContext) -> str:
    """A chat reply that starts by repeating the cursor's line up to the cursor loses that part."""
    typed = ctx.middle.lstrip()
    stripped = text.lstrip()
    if typed and stripped.startswith(typed):
        return stripped[len(typed) :]
    return text
