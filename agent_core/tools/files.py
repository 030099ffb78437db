"""The read-only tools ``read_file`` and ``list_files`` (``search_text`` is in ``search.py``).

They need no approval. ``read_file`` asks the host first, so the text of an open editor buffer
with unsaved changes wins over the disk (that is what the user sees). Walking tools honour
``.gitignore`` and never enter ``.git`` or the sessions folder, and run in a worker thread so a
large workspace never stalls the event loop (and a cancel returns at once).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pydantic import Field

from agent_core.host import Host
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolOutcome
from agent_core.tools.errors import ToolError
from agent_core.tools.textfiles import NotRegularFile, TooLarge, decode, read_regular, split_lines
from agent_core.tools.workspace import IgnoreRules

#: Files larger than this are not read whole (use a command such as ``head`` or search_text).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Lines returned by one read_file call when no end_line is given.
DEFAULT_READ_LINES = 2000
#: Entries returned by one list_files call.
MAX_LIST_ENTRIES = 1000

T = TypeVar("T")


async def current_text(path: Path, host: Host, shown: str) -> str | None:
    """The text of ``path`` as the user sees it: the host's (editor's) text if it has one, else
    the disk's; None if the file does not exist. ``shown`` is the path as the model wrote it."""
    text = await host.read_file(path)
    if text is not None:
        return text
    if path.is_dir():
        raise ToolError(f"{shown} is a folder, not a file; use list_files to see what it holds.")
    try:
        data = await asyncio.to_thread(read_regular, path, MAX_FILE_BYTES)
    except FileNotFoundError:
        return None
    except NotRegularFile as error:
        raise ToolError(f"{shown} is not a regular file ({error.kind}); it is not read.") from None
    except TooLarge as error:
        raise ToolError(
            f"{shown} is {error.size // (1024 * 1024)} MB, too large to read whole; "
            "use search_text, or run_command with head/sed/grep."
        ) from None
    text = decode(data)
    if text is None:
        raise ToolError(f"{shown} is a binary file ({len(data)} bytes); its content is not shown.")
    return text


async def in_thread(work: Callable[[threading.Event], T]) -> T:
    """Run blocking ``work(stop)`` in a worker thread; ``stop`` is set if the call is cancelled
    (or finishes), so a long walk ends soon after instead of running on unseen."""
    stop = threading.Event()
    try:
        return await asyncio.to_thread(work, stop)
    finally:
        stop.set()


class ReadFileArgs(ToolArgs):
    path: str = Field(description="File path relative to the workspace root.")
    start_line: int | None = Field(None, ge=1, description="First line to show (1-based). Default 1.")
    end_line: int | None = Field(None, ge=1, description="Last line to show (inclusive). Default: up to 2000 lines.")


class ReadFile(Tool):
    name = "read_file"
    description = (
        "Read a text file in the workspace (the editor's unsaved text if the file is open). "
        "Each line is prefixed with its number and a tab; the prefix is not part of the file. "
        "Long files are cut: the note at the end says how to read on."
    )
    brief = "Read a text file; each line starts with its number and a tab."
    args = ReadFileArgs

    async def run(self, args: ReadFileArgs, ctx: ToolContext) -> ToolOutcome:
        path = ctx.workspace.resolve(args.path)
        shown = ctx.workspace.relative(path)
        ctx.started()
        text = await current_text(path, ctx.host, shown)
        if text is None:
            raise ToolError(f"File not found: {shown}. Use list_files or search_text to find the right path.")
        if text == "":
            return ToolOutcome(f"{shown} is empty.")
        lines = split_lines(text)
        total = len(lines)
        start = args.start_line or 1
        if start > total:
            raise ToolError(f"start_line {start} is past the end of {shown}, which has {total} lines.")
        if args.end_line is not None and args.end_line < start:
            raise ToolError(f"end_line {args.end_line} is before start_line {start}.")
        end = min(total, args.end_line or start + DEFAULT_READ_LINES - 1)
        shown_lines: list[str] = []
        used = 0
        for number in range(start, end + 1):
            line = f"{number:6}\t{lines[number - 1]}"
            if used + len(line) + 1 > ctx.config.output_cap and shown_lines:
                break
            shown_lines.append(line)
            used += len(line) + 1
        last = start + len(shown_lines) - 1
        output = "\n".join(shown_lines)
        if last < total and (args.end_line is None or last < args.end_line):
            output += f"\n[{shown}: showing lines {start}-{last} of {total}; read on with start_line={last + 1}]"
        return ToolOutcome(output)


class ListFilesArgs(ToolArgs):
    path: str = Field(".", description="Folder relative to the workspace root. Default: the root.")
    recursive: bool = Field(False, description="List everything below the folder, not just its direct entries.")


class ListFiles(Tool):
    name = "list_files"
    description = (
        "List a folder of the workspace (folders end with '/'). Files ignored by .gitignore, "
        ".git and the session folder are left out."
    )
    brief = "List a folder ('.' is the project root); folders end with '/'."
    args = ListFilesArgs

    async def run(self, args: ListFilesArgs, ctx: ToolContext) -> ToolOutcome:
        workspace = ctx.workspace
        folder = workspace.resolve(args.path)
        shown = workspace.relative(folder)
        ctx.started()
        if not folder.exists():
            raise ToolError(f"Folder not found: {shown}.")
        if not folder.is_dir():
            raise ToolError(f"{shown} is a file, not a folder; use read_file to read it.")

        def work(stop: threading.Event) -> tuple[list[str], bool]:
            rules = IgnoreRules(workspace)
            entries: list[str] = []
            for path, is_dir in rules.walk(folder, stop, recursive=args.recursive):
                if len(entries) >= MAX_LIST_ENTRIES:
                    return entries, True
                entries.append(workspace.relative(path) + ("/" if is_dir else ""))
            return entries, False

        entries, cut = await in_thread(work)
        if not entries:
            return ToolOutcome(f"{shown} is empty (or holds only ignored files).")
        output = "\n".join(sorted(entries))
        if cut:
            output += f"\n[stopped after {MAX_LIST_ENTRIES} entries; list a subfolder to see more]"
        return ToolOutcome(output)
