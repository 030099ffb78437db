"""A FIFO, socket or other special file in the workspace never blocks a tool or the exit.

Opening a FIFO for reading waits for a writer, forever; a worker thread stuck there also keeps the
process alive at exit (the default executor's threads are joined). Only regular files are read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.helpers import Tools, allow_all

#: Generous: a tool answering about a special file does no I/O that can wait.
BOUND = 10.0


def release(fifo: Path) -> None:
    """Open ``fifo`` for writing once, which frees a reader blocked in ``open`` (a test of the old
    behaviour must not leave a stuck thread that hangs the test run)."""
    with contextlib.suppress(OSError):
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "notes.txt").write_text("needle in a text file\n")
    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    yield path
    release(path)


async def run(tools: Tools, fifo: Path, name: str, **arguments: object):  # type: ignore[no-untyped-def]
    try:
        return await asyncio.wait_for(tools.run(name, **arguments), BOUND)
    finally:
        release(fifo)


async def test_read_file_refuses_a_fifo_at_once(tmp_path: Path, fifo: Path) -> None:
    outcome = await run(Tools(tmp_path), fifo, "read_file", path="pipe.txt")
    assert outcome.is_error and outcome.output == "pipe.txt is not a regular file (a FIFO); it is not read."


async def test_search_skips_a_fifo_and_names_it_when_asked_for_it(tmp_path: Path, fifo: Path) -> None:
    tools = Tools(tmp_path)
    everywhere = await run(tools, fifo, "search_text", pattern="needle")
    assert not everywhere.is_error and everywhere.output == "notes.txt:1:needle in a text file"
    direct = await run(tools, fifo, "search_text", pattern="needle", path="pipe.txt")
    assert direct.is_error and "pipe.txt is not a regular file (a FIFO)" in direct.output


async def test_list_files_leaves_special_files_out(tmp_path: Path, fifo: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "daemon.sock"))
        tools = Tools(tmp_path)
        assert (await run(tools, fifo, "list_files")).output == "notes.txt"
        assert (await run(tools, fifo, "list_files", recursive=True)).output == "notes.txt"
        sock = await run(tools, fifo, "read_file", path="daemon.sock")
        assert sock.is_error and sock.output == "daemon.sock is not a regular file (a socket); it is not read."


async def test_a_fifo_gitignore_does_not_block_a_walk(tmp_path: Path, fifo: Path) -> None:
    os.mkfifo(tmp_path / ".gitignore")
    tools = Tools(tmp_path)
    try:
        assert "notes.txt" in (await run(tools, fifo, "list_files", recursive=True)).output
        assert "notes.txt:1:" in (await run(tools, fifo, "search_text", pattern="needle")).output
    finally:
        release(tmp_path / ".gitignore")


async def test_edit_file_refuses_a_fifo(tmp_path: Path, fifo: Path) -> None:
    outcome = await run(Tools(tmp_path, allow_all()), fifo, "edit_file", path="pipe.txt", new_text="x")
    assert outcome.is_error and "not a regular file (a FIFO)" in outcome.output


def test_a_tool_on_a_fifo_never_keeps_the_process_alive(tmp_path: Path, fifo: Path) -> None:
    """The process ends at once after the tool call, though no one ever writes to the FIFO."""
    script = textwrap.dedent(f"""
        import asyncio
        from pathlib import Path
        from tests.tools.helpers import Tools

        async def main():
            tools = Tools(Path({str(tmp_path)!r}))
            try:
                outcome = await asyncio.wait_for(tools.run("read_file", path="pipe.txt"), 2)
                print(outcome.output)
            except TimeoutError:
                print("timed out")

        asyncio.run(main())
    """)
    root = Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the process did not exit: a thread is still blocked on the FIFO")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pipe.txt is not a regular file (a FIFO); it is not read."
