"""``search_text``: a regular expression over the workspace's text files, bounded in time.

Python's ``re`` cannot be interrupted, and a pattern such as ``(a+)+$`` backtracks for seconds to
hours on one short line while holding the GIL, which in a thread would freeze the whole server
(cancel included). So the matching runs in a worker process (:func:`textfiles.search_main`, only
the standard library, started in tens of milliseconds) that is killed at ``searchTimeout`` or on
cancel; what it found by then is kept. The walk (``.gitignore``, private folders) stays here, in a
thread that feeds the worker the files to search as it finds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import Field

from agent_core.tools import textfiles
from agent_core.tools.base import Tool, ToolArgs, ToolContext, ToolOutcome
from agent_core.tools.errors import ToolError
from agent_core.tools.textfiles import kind_of
from agent_core.tools.workspace import IgnoreRules, Workspace

#: Files larger than this are skipped (minified bundles, data dumps).
MAX_SEARCH_FILE_BYTES = 2 * 1024 * 1024
#: At most this much of a matching line is shown.
MAX_MATCH_LINE = 300
#: The worker kills itself this long after the limit, should the tool (or the server) be gone.
ORPHAN_GRACE = 5


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
            re.compile(args.pattern, re.IGNORECASE if args.ignore_case else 0)
        except re.error as error:
            raise ToolError(f"Invalid regular expression {args.pattern!r}: {error}.") from None
        workspace = ctx.workspace
        start = workspace.resolve(args.path)
        shown = workspace.relative(start)
        ctx.started()
        if not start.exists():
            raise ToolError(f"Not found: {shown}.")
        kind = kind_of(start.stat().st_mode)
        if kind not in (None, "a folder"):
            raise ToolError(f"{shown} is not a regular file ({kind}); it is not searched.")
        limit = ctx.config.search_timeout
        options = {
            "pattern": args.pattern,
            "ignore_case": args.ignore_case,
            "max_results": args.max_results,
            "cap": ctx.config.output_cap,
            "max_line": MAX_MATCH_LINE,
            "max_bytes": MAX_SEARCH_FILE_BYTES,
            "alarm": math.ceil(limit) + ORPHAN_GRACE,
        }
        matches, end = await _search(options, partial(_files, workspace, start, args.include), limit)
        output = "\n".join(matches)
        if end is None:
            note = (
                f"[search_text stopped after {limit:g} s (searchTimeout): the pattern is too slow (nested "
                "repetition like (a+)+ can take exponential time on one line) or the search too wide; "
                "simplify the pattern, or narrow path or include]"
            )
            return ToolOutcome(f"{output}\n{note}" if output else note, True)
        if not matches:
            where = "the workspace" if shown == "." else shown
            return ToolOutcome(f"No matches for {args.pattern!r} in {where}.")
        if end.get("cut"):
            output += f"\n[stopped after {len(matches)} matches; narrow the pattern, path or include]"
        return ToolOutcome(output)


def _files(workspace: Workspace, start: Path, include: str | None, stop: threading.Event) -> Iterator[tuple[Path, str]]:
    """The ``(path, shown)`` pairs to search, found as the walk goes (in the feeding thread)."""
    found = [start] if start.is_file() else (p for p, is_dir in IgnoreRules(workspace).walk(start, stop) if not is_dir)
    for file in found:
        shown = workspace.relative(file)
        if include is None or PurePosixPath(shown).match(include):
            yield file, shown


Files = Callable[[threading.Event], Iterator[tuple[Path, str]]]


async def _search(options: dict[str, Any], files: Files, limit: float) -> tuple[list[str], dict[str, Any] | None]:
    """The matches the worker found, and its final word (None: stopped at the time limit); a
    worker that died otherwise is a :class:`ToolError`."""
    read_fd, write_fd = os.pipe()
    try:
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            textfiles.__file__,
            stdin=read_fd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except BaseException:
        os.close(write_fd)  # a worker started meanwhile reads EOF and ends
        raise
    finally:
        os.close(read_fd)
    stop = threading.Event()
    feeder = asyncio.ensure_future(asyncio.to_thread(_feed, write_fd, options, files, stop))
    matches: list[str] = []
    end: dict[str, Any] | None = None

    async def collect() -> None:
        nonlocal end
        assert worker.stdout is not None
        while line := await worker.stdout.readline():
            item = json.loads(line)
            if isinstance(item, str):
                matches.append(item)
            else:
                end = item

    timed_out = False
    try:
        await asyncio.wait_for(collect(), limit)
    except TimeoutError:
        timed_out = True
    finally:
        stop.set()
        if end is None and worker.returncode is None:  # at the limit or on cancel
            # os.kill, not worker.kill(): that polls first, reaping a worker that just ended behind
            # the back of asyncio's child watcher.
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
    assert worker.stderr is not None
    problem = (await worker.stderr.read()).decode("utf-8", "replace").strip()
    code = await worker.wait()
    await feeder
    if end is None and not timed_out:
        last = problem.splitlines()[-1] if problem else f"exit code {code}"
        raise ToolError(f"search_text failed: the search process ended early ({last}).")
    return matches, end


def _feed(fd: int, options: dict[str, Any], files: Files, stop: threading.Event) -> None:
    """Send the options, then every file to search, to the worker (in a thread: the walk blocks).
    A worker that ended (done, killed) closes the pipe, which ends the feeding."""
    try:
        with open(fd, "wb") as pipe:
            pipe.write(json.dumps(options).encode() + b"\n")
            for path, shown in files(stop):
                pipe.write(json.dumps([str(path), shown]).encode() + b"\n")
    except BrokenPipeError:
        pass
