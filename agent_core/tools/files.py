"""The read-only tools: ``read_file``, ``list_files``, ``search_text``.

They need no approval. ``read_file`` asks the host first, so the text of an open editor buffer
with unsaved changes wins over the disk (that is what the user sees). Walking tools honour
``.gitignore`` and never enter ``.git`` or the sessions folder, and run in a worker thread so a
large workspace never stalls the event loop (and a cancel returns at once).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TypeVar

from pydantic import Field

from agent_core.host import Host
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolOutcome
from agent_core.tools.workspace import IgnoreRules

#: Files larger than this are not read whole (use a command such as ``head`` or search_text).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Lines returned by one read_file call when no end_line is given.
DEFAULT_READ_LINES = 2000
#: Entries returned by one list_files call.
MAX_LIST_ENTRIES = 1000
#: Files larger than this are skipped by search_text (minified bundles, data dumps).
MAX_SEARCH_FILE_BYTES = 2 * 1024 * 1024
#: search_text shows at most this much of a matching line.
MAX_MATCH_LINE = 300
#: The first bytes checked for NUL to tell a binary file.
BINARY_SNIFF = 8192

T = TypeVar("T")


def decode(data: bytes) -> str | None:
    """Text of a file's bytes, or None for a binary file (a NUL early on, as git decides)."""
    if b"\0" in data[:BINARY_SNIFF]:
        return None
    return data.decode("utf-8", errors="replace")


def split_lines(text: str) -> list[str]:
    """Lines as editors and grep count them: split on LF only (``str.splitlines`` also splits on
    form feeds and Unicode separators, which would shift every later line number), CR dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


async def current_text(path: Path, host: Host, shown: str) -> str | None:
    """The text of ``path`` as the user sees it: the host's (editor's) text if it has one, else
    the disk's; None if the file does not exist. ``shown`` is the path as the model wrote it."""
    text = await host.read_file(path)
    if text is not None:
        return text
    if path.is_dir():
        raise ToolError(f"{shown} is a folder, not a file; use list_files to see what it holds.")
    if not path.exists():
        return None
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ToolError(
            f"{shown} is {size // (1024 * 1024)} MB, too large to read whole; "
            "use search_text, or run_command with head/sed/grep."
        )
    data = await asyncio.to_thread(path.read_bytes)
    text = decode(data)
    if text is None:
        raise ToolError(f"{shown} is a binary file ({size} bytes); its content is not shown.")
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
        if workspace.is_private(folder):
            raise ToolError(f"{shown} is private to git or the session store and is not listed.")

        def work(stop: threading.Event) -> tuple[list[str], bool]:
            rules = IgnoreRules(workspace)
            entries: list[str] = []
            walk = rules.walk(folder, stop) if args.recursive else _direct_entries(folder, rules)
            for path, is_dir in walk:
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


def _direct_entries(folder: Path, rules: IgnoreRules) -> list[tuple[Path, bool]]:
    entries = []
    for path in sorted(folder.iterdir()):
        is_dir = path.is_dir() and not path.is_symlink()
        if not rules.ignored(path, is_dir):
            entries.append((path, is_dir))
    return entries


class SearchTextArgs(ToolArgs):
    pattern: str = Field(description="Python regular expression, searched line by line.")
    path: str = Field(".", description="Folder or file to search, relative to the workspace root. Default: the root.")
    include: str | None = Field(None, description="Only files whose path matches this glob, e.g. '*.py' or 'src/*.ts'.")
    ignore_case: bool = Field(False, description="Match case-insensitively.")
    max_results: int = Field(100, ge=1, le=1000, description="Stop after this many matching lines.")


class SearchText(Tool):
    name = "search_text"
    description = (
        "Search the workspace's text files for a regular expression; answers 'path:line:text' per "
        "matching line. Honours .gitignore; skips binary and very large files."
    )
    brief = "Search the files for a regular expression; answers path:line:text."
    args = SearchTextArgs

    async def run(self, args: SearchTextArgs, ctx: ToolContext) -> ToolOutcome:
        try:
            regex = re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
        except re.error as error:
            raise ToolError(f"Invalid regular expression {args.pattern!r}: {error}.") from None
        workspace = ctx.workspace
        start = workspace.resolve(args.path)
        shown = workspace.relative(start)
        ctx.started()
        if not start.exists():
            raise ToolError(f"Not found: {shown}.")
        cap = ctx.config.output_cap

        def work(stop: threading.Event) -> tuple[list[str], bool]:
            rules = IgnoreRules(workspace)
            files = [start] if start.is_file() else (p for p, is_dir in rules.walk(start, stop) if not is_dir)
            matches: list[str] = []
            used = 0
            for file in files:
                rel = workspace.relative(file)
                if args.include and not PurePosixPath(rel).match(args.include):
                    continue
                for number, line in _lines(file):
                    if stop.is_set():
                        return matches, True
                    if regex.search(line):
                        text = line if len(line) <= MAX_MATCH_LINE else line[:MAX_MATCH_LINE] + " [...]"
                        match = f"{rel}:{number}:{text}"
                        if len(matches) >= args.max_results or used + len(match) > cap:
                            return matches, True
                        matches.append(match)
                        used += len(match) + 1
            return matches, False

        matches, cut = await in_thread(work)
        if not matches:
            return ToolOutcome(f"No matches for {args.pattern!r} in {shown}.")
        output = "\n".join(matches)
        if cut:
            output += f"\n[stopped after {len(matches)} matches; narrow the pattern, path or include]"
        return ToolOutcome(output)


def _lines(file: Path) -> list[tuple[int, str]]:
    """The numbered lines of a searchable file; empty for unreadable, binary or huge files."""
    try:
        if file.is_symlink() or file.stat().st_size > MAX_SEARCH_FILE_BYTES:
            return []
        text = decode(file.read_bytes())
    except OSError:
        return []
    if text is None:
        return []
    return list(enumerate(split_lines(text), start=1))
