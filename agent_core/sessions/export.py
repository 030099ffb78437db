"""Markdown export: a session as a document a person can read, share or keep.

Code blocks use a fence longer than any backtick run inside them (:func:`agent_core.text.fenced`),
so a transcript that itself contains fenced code (most do) renders without breaking out of its block.
"""

from __future__ import annotations

import json
import time

from agent_core.messages import Message
from agent_core.sessions.format import Header
from agent_core.text import fenced

_ROLE_HEADINGS = {"user": "User", "assistant": "Assistant", "system": "System"}


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def _heading(message: Message) -> str:
    if message.kind == "summary":
        return "Summary of the earlier conversation"
    if message.kind == "omission":
        return "Note"
    if message.role == "tool":
        status = "error" if message.is_error else "result"
        return f"Tool {status}: {message.name or message.tool_call_id or 'tool'}"
    if message.kind == "edit_feedback":
        return "User (inline edit feedback)"
    return _ROLE_HEADINGS.get(message.role, message.role)


def _render_message(message: Message) -> str:
    parts = [f"## {_heading(message)}"]
    if message.interrupted:
        parts.append("_(interrupted)_")
    if message.content:
        parts.append(fenced(message.content) if message.role == "tool" else message.content)
    for call in message.tool_calls:
        arguments = json.dumps(call.arguments, indent=2, ensure_ascii=False)
        parts.append(f"**Tool call** `{call.name}` ({call.id})\n\n{fenced(arguments, 'json')}")
    return "\n\n".join(parts)


def render_markdown(header: Header, title: str, messages: list[Message]) -> str:
    """The whole session: a title, where and when it started, then every message in order."""
    lines = [
        f"# {title or 'Session ' + header.id}",
        "",
        f"- Session: `{header.id}`",
        f"- Started: {_when(header.created)}",
        f"- Messages: {len(messages)}",
    ]
    body = [_render_message(m) for m in messages]
    return "\n".join(lines) + "\n\n" + "\n\n".join(body) + ("\n" if body else "")
