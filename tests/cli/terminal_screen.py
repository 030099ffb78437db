"""``agent-lsp chat`` on a real pseudo-terminal, its output rendered by a terminal emulator.

What matters for an approval is what the user *sees*, not the bytes written: a carriage return or
an escape sequence in a command can overwrite the line that showed it. So the child gets a pty as
its stdin, stdout and stderr (as in a shell), and everything it writes is fed into ``pyte``, a
VT100/xterm emulator, whose screen (with the lines scrolled off it) is what tests read. Waiting is
on the rendered text, with a bound.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
import threading
import time

import pyte

from tests.cli.chat_process import REPO, chat_command

COLUMNS = 200
ROWS = 50


class TerminalChat:
    """A ``chat`` child on a pty of ``COLUMNS`` x ``ROWS``; :meth:`seen` is what the terminal shows."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self._master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.screen = pyte.HistoryScreen(COLUMNS, ROWS, history=10_000)
        self._stream = pyte.ByteStream(self.screen)
        self._changed = threading.Condition()
        self._closed = False
        self.raw = b""
        self.proc = subprocess.Popen(
            chat_command(*args),
            env={**env, "TERM": "xterm"},
            cwd=REPO,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:  # EIO: every writer of the pty is gone
                chunk = b""
            with self._changed:
                if not chunk:
                    self._closed = True
                    self._changed.notify_all()
                    return
                self.raw += chunk
                self._stream.feed(chunk)
                self._changed.notify_all()

    def seen(self) -> str:
        """Every line the terminal shows or has scrolled off, as rendered, trailing blanks cut."""
        with self._changed:
            scrolled = [
                "".join(line[column].data for column in range(self.screen.columns)).rstrip()
                for line in self.screen.history.top
            ]
            return "\n".join(scrolled + [line.rstrip() for line in self.screen.display])

    def wait_for(self, text: str, timeout: float = 20) -> None:
        """Until ``text`` is on the rendered terminal; fail at once if the child closed the pty."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while text not in self.seen():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise AssertionError(
                        f"{text!r} never shown; exit={self.proc.poll()}\nscreen:\n{self.seen()}\nraw={self.raw!r}"
                    )
                self._changed.wait(remaining)

    def type(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def finish(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(5)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._reader.join(5)
        os.close(self._master)
