"""The agent's tool calls as ACP shows them: a kind, a title, the files they touch, their result.

ACP clients draw a tool call from a few fields: ``kind`` picks the icon (read, edit, execute,
search), ``title`` is the line the user reads, ``locations`` lets the editor follow along to the
file, and ``content`` is what the card shows (the output, a diff for an edit). This module is the
one place that knows how each of the core's tools maps onto those fields; the live stream
(:mod:`agent_acp.turn_host`) and the replay of a saved session (:mod:`agent_acp.replay`) both use it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from acp.schema import (
    ContentToolCallContent,
    FileEditToolCallContent,
    TerminalToolCallContent,
    TextContentBlock,
    ToolCallLocation,
    ToolCallProgress,
    ToolCallStart,
    ToolCallStatus,
    ToolKind,
)

from agent_core.host import ProposedEdit
from agent_core.messages import ToolCall
from agent_core.text import fenced
from agent_core.visible_text import visible

#: Tool call content as ACP carries it (this agent sends text blocks and diffs, never terminals).
Content = ContentToolCallContent | FileEditToolCallContent | TerminalToolCallContent

KINDS: dict[str, ToolKind] = {
    "read_file": "read",
    "list_files": "search",
    "search_text": "search",
    "edit_file": "edit",
    "run_command": "execute",
}

#: Tools whose output is plain text (file lines, command output, grep hits), not Markdown.
FENCED_OUTPUT = frozenset({"read_file", "search_text", "run_command", "list_files"})

#: Characters of a command line shown in a title; the whole line is in ``rawInput``.
TITLE_COMMAND_CHARS = 80


def kind_of(name: str) -> ToolKind:
    return KINDS.get(name, "other")


def title_of(call: ToolCall) -> str:
    """What the card says: "Read src/app.py (lines 3-9)", "Run: pytest -q", "Search for 'TODO'";
    one line, with nothing hidden (the arguments are the model's)."""
    return visible(_title(call), multiline=False)


def _title(call: ToolCall) -> str:
    args = call.arguments
    path = _text(args.get("path"))
    if call.name == "read_file" and path:
        start, end = args.get("start_line"), args.get("end_line")
        lines = f" (lines {start or 1}-{end})" if end else (f" (from line {start})" if start else "")
        return f"Read {path}{lines}"
    if call.name == "list_files":
        return f"List {path or '.'}"
    if call.name == "search_text":
        return f"Search for {_text(args.get('pattern'))!r} in {path or '.'}"
    if call.name == "edit_file" and path:
        return f"Edit {path}"
    if call.name == "run_command":
        command = " ".join(_text(args.get("command")).split())
        if len(command) > TITLE_COMMAND_CHARS:
            command = command[: TITLE_COMMAND_CHARS - 3] + "..."
        return f"Run: {command}"
    return call.name


def locations_of(call: ToolCall, workspace: Path) -> list[ToolCallLocation]:
    """The file a call reads or edits (absolute, as ACP requires), for the editor to follow."""
    path = _text(call.arguments.get("path"))
    if call.name not in ("read_file", "edit_file", "list_files", "search_text") or not path:
        return []
    line = call.arguments.get("start_line") if call.name == "read_file" else None
    return [ToolCallLocation(path=absolute(workspace, path), line=line if isinstance(line, int) else None)]


def absolute(workspace: Path, path: str) -> str:
    """``path`` (as the model wrote it) joined to the workspace, normalised without touching the
    disk; the core refuses anything outside the workspace, this is only a display hint."""
    return os.path.normpath(workspace / path)


def started(call_id: str, name: str) -> ToolCallStart:
    """The model began a call; its arguments are still streaming."""
    return ToolCallStart(
        session_update="tool_call", tool_call_id=call_id, title=name, kind=kind_of(name), status="pending"
    )


def described(call: ToolCall, workspace: Path, *, status: ToolCallStatus = "pending") -> ToolCallStart:
    """A call whose arguments are complete (the first sight of it in a replayed session)."""
    return ToolCallStart(
        session_update="tool_call",
        tool_call_id=call.id,
        title=title_of(call),
        kind=kind_of(call.name),
        status=status,
        locations=locations_of(call, workspace),
        raw_input=call.arguments,
    )


def detailed(call: ToolCall, workspace: Path) -> ToolCallProgress:
    """The arguments arrived: the real title, the files, the raw input."""
    return ToolCallProgress(
        session_update="tool_call_update",
        tool_call_id=call.id,
        title=title_of(call),
        kind=kind_of(call.name),
        locations=locations_of(call, workspace),
        raw_input=call.arguments,
    )


def status_update(
    call_id: str, status: ToolCallStatus, content: list[Content] | None = None, raw_output: Any = None
) -> ToolCallProgress:
    return ToolCallProgress(
        session_update="tool_call_update", tool_call_id=call_id, status=status, content=content, raw_output=raw_output
    )


def finished(call_id: str, name: str, output: str, is_error: bool, before: list[Content]) -> ToolCallProgress:
    """The call's result; ``before`` (an edit's diff) stays above the output text."""
    return status_update(
        call_id, "failed" if is_error else "completed", [*before, output_content(name, output)], raw_output=output
    )


def output_content(name: str, output: str) -> ContentToolCallContent:
    """A tool's output as the card shows it: plain-text output in a fence (it is not Markdown),
    control and invisible characters escaped (a file or a command may hold any)."""
    output = visible(output)
    if name in FENCED_OUTPUT:
        output = fenced(output.rstrip("\n"))
    return ContentToolCallContent(type="content", content=TextContentBlock(type="text", text=output))


def diff_content(edit: ProposedEdit) -> FileEditToolCallContent:
    """An edit as the client's diff view shows it: the whole old and new text of the file, with
    nothing hidden (escaping is idempotent: an approval's edit is already escaped by the core)."""
    old = None if edit.original is None else visible(edit.original)
    return FileEditToolCallContent(type="diff", path=str(edit.path), old_text=old, new_text=visible(edit.new_text))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
