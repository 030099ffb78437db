"""Running ``agent-lsp chat`` as a real child process and watching its output as it arrives.

The child is started through ``python3 -m lsp_server.cli`` (the console script's own ``main``), so
the test covers the same entry point a user runs, without needing the package installed. Output is
read by two threads into lists; tests wait for a line with a bound instead of sleeping.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.fakes.llm_server import FakeLLM

REPO = Path(__file__).resolve().parents[2]

#: Variables that would make the child reach beyond the fake server or pick another provider.
_SCRUBBED = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")


def chat_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def openai_args(llm: FakeLLM, workspace: Path, *more: str) -> list[str]:
    """``chat`` arguments that point it at the fake server's OpenAI wire in ``workspace``."""
    return [
        "--provider",
        "openai",
        "--base-url",
        llm.base_url + "/v1",
        "--model",
        "fake-1",
        "--workspace",
        str(workspace),
        *more,
    ]


def chat_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "lsp_server.cli", "chat", *args]


def run_chat(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one ``chat`` to the end. stdin is not a terminal (so no approval prompts): empty, or
    ``input`` (which ``chat`` reads as the prompt when none is given as arguments)."""
    return subprocess.run(
        chat_command(*args),
        env=env or chat_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        timeout=timeout,
    )


class ChatProcess:
    """A running ``chat`` whose stdout (as raw chunks) and stderr (as lines) are collected live."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, stdin: int = subprocess.DEVNULL) -> None:
        self.proc = subprocess.Popen(
            chat_command(*args),
            env=env or chat_env(),
            cwd=REPO,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.stdout = ""
        self.stderr = ""
        self._changed = threading.Condition()
        self._open = 2
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, "stderr"), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump(self, stream: object, name: str) -> None:
        while True:
            chunk = os.read(stream.fileno(), 4096)  # type: ignore[attr-defined]
            with self._changed:
                if not chunk:
                    self._open -= 1
                    self._changed.notify_all()
                    return
                setattr(self, name, getattr(self, name) + chunk.decode("utf-8", "replace"))
                self._changed.notify_all()

    def wait_for(self, condition: Callable[[ChatProcess], bool], timeout: float = 60) -> None:
        """Block until ``condition(self)`` holds (checked on every new output), or fail at once
        when the child closed its output without it holding, or after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._open == 0:
                    raise AssertionError(
                        f"condition not met; exit={self.proc.poll()}\nstdout={self.stdout!r}\nstderr={self.stderr!r}"
                    )
                self._changed.wait(remaining)

    def finish(self, timeout: float) -> int:
        """Wait for exit (at most ``timeout`` seconds) and for the output to be read."""
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
