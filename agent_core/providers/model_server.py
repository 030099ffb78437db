"""One llama.cpp server per embedded model per process, shared by every workspace folder.

Every workspace folder's agent, inline edits and the warm-up all talk to the same server, started
on first use: the model file is made ready (:mod:`agent_core.providers.model_files`), then the
server process (:mod:`agent_core.providers.llama_child`) loads it and listens on a free loopback
port. The server lives while any :class:`~agent_core.providers.local.LocalProvider` holds it
(:meth:`ModelServer.acquire` / :meth:`ModelServer.release`) and stops with the last one.

:meth:`ModelServer.status` says which model, its file and its state at any time, without starting
anything: ``not_installed``, ``not_started``, ``verifying`` / ``assembling`` (the file),
``loading``, ``ready`` or ``failed`` with the reason. A failed start is tried again by the next
request. Starting blocks (minutes, the first time), so it runs in a worker thread: the caller's
event loop keeps serving, and a start that is no longer wanted is abandoned when the model
finishes loading.

Other features that need the model (completions) use the same interface:
``server = shared_server(model); server.acquire(); base_url = await server.start()``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

import agent_core
from agent_core.providers.local_models import LocalModel, install_hint, is_installed, server_installed
from agent_core.providers.model_files import ModelFileError, cache_folder, expected_path, prepare_model_file

State = Literal["not_installed", "not_started", "verifying", "assembling", "loading", "ready", "failed"]

#: Lines of the server's own log kept to explain a failure.
LOG_LINES = 40
#: How long a stopping server may take before it is killed.
STOP_TIMEOUT = 5.0
#: Memory llama.cpp may use to keep the caches of earlier prompts (chat and inline edits take turns
#: in its one slot); its own default is 8 GB.
PROMPT_CACHE_MIB = 1024


class ModelServerError(Exception):
    """The server could not be started; the message says why and what to do."""


@dataclass(frozen=True)
class ModelStatus:
    """What a status line or health check shows about the local model."""

    id: str
    name: str
    file: str
    state: State
    reason: str | None = None


class Child(Protocol):
    """A running server process (the real one, or a test's stand-in)."""

    address: str

    def alive(self) -> bool: ...

    def exited(self, within: float) -> bool:
        """Whether the process ends within ``within`` seconds (it may be dying right now)."""
        ...

    def describe_exit(self) -> str: ...

    def stop(self) -> None: ...


#: Starts a server process for ``params`` and waits until it listens; raises ModelServerError.
#: ``abandoned()`` turns True when nobody wants the server any more.
Launcher = Callable[[dict[str, Any], float, Callable[[], bool]], Child]


class ChildProcess:
    """The server process: a log drained into memory, stopped by closing its standard input."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.address = ""
        self.log: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._drain = threading.Thread(target=self._read_log, name="llama-server-log", daemon=True)
        self._drain.start()

    def _read_log(self) -> None:
        assert self.popen.stderr is not None
        for raw in self.popen.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                self.log.append(line)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def exited(self, within: float) -> bool:
        try:
            self.popen.wait(within)
        except subprocess.TimeoutExpired:
            return False
        return True

    def describe_exit(self) -> str:
        code = self.popen.poll()
        if code is None:
            how = "is running"
        else:
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        self._drain.join(timeout=1.0)
        tail = " | ".join(list(self.log)[-3:])
        return f"the model server process {how}" + (f" (its log: {tail})" if tail else "")

    def stop(self, grace: float = STOP_TIMEOUT) -> None:
        """End it now: SIGTERM (it has nothing to save, and llama.cpp may hold the interpreter
        while it computes, so its own exit-on-EOF could wait for a long prompt), then SIGKILL
        after ``grace`` seconds."""
        with contextlib.suppress(OSError):
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        if self.popen.poll() is None:
            with contextlib.suppress(OSError):
                self.popen.terminate()
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def launch_child(params: dict[str, Any], timeout: float, abandoned: Callable[[], bool]) -> ChildProcess:
    """Start ``python -m agent_core.providers.llama_child`` and wait for the address it reports."""
    read_fd, write_fd = os.pipe()
    env = dict(os.environ)
    root = str(Path(agent_core.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    try:
        popen = subprocess.Popen(
            [sys.executable, "-m", "agent_core.providers.llama_child", json.dumps(params), str(write_fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(write_fd,),
            env=env,
            start_new_session=True,
        )  # the terminal's Ctrl+C is for agent-lsp, not for it
    except OSError as exc:
        os.close(read_fd)
        raise ModelServerError(f"the model server process could not be started: {exc}") from exc
    finally:
        os.close(write_fd)
    child = ChildProcess(popen)
    try:
        report = _read_report(read_fd, timeout, abandoned)
    except BaseException:
        child.stop(grace=0)
        raise
    finally:
        os.close(read_fd)
    if report is None:
        child.stop()
        raise ModelServerError(f"the model server did not start: {child.describe_exit()}")
    if "error" in report:
        child.stop()
        if report.get("stage") == "load":
            gigabytes = os.path.getsize(params["model"]) / 1e9 + 0.5
            raise ModelServerError(
                f"llama.cpp could not load {params['model']} ({report['error']}). It needs "
                f"about {gigabytes:.1f} GB of free memory; if the machine has that, reinstall "
                "llama.cpp's server: pip install --force-reinstall xllamacpp"
            )
        raise ModelServerError(f"the model server did not start: {report['error']}")
    child.address = str(report["address"])
    return child


def _read_report(fd: int, timeout: float, abandoned: Callable[[], bool]) -> dict[str, Any] | None:
    """The child's one JSON line; None when it exited without one."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        if abandoned():
            raise ModelServerError("the start was abandoned")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ModelServerError(f"the model did not load within {timeout:.0f} s")
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.25))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            data += chunk
    try:
        report = json.loads(data.split(b"\n", 1)[0])
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


class ModelServer:
    """The shared server of one model (see the module docstring)."""

    def __init__(
        self,
        model: LocalModel,
        folder: Path,
        *,
        launcher: Launcher = launch_child,
        startup_timeout: float = 600.0,
        port: int = 0,
        slot_folder: Path | None = None,
    ) -> None:
        self.model = model
        self.folder = folder
        #: Where saved prompt prefixes live (see :mod:`agent_core.providers.prompt_cache`).
        self.slot_folder = slot_folder or folder / "slots"
        self._launcher = launcher
        self._startup_timeout = startup_timeout
        self._port = port
        #: Held for the whole of a start, so there is only ever one.
        self._start_lock = threading.Lock()
        #: Guards the fields below; never held for long.
        self._lock = threading.Lock()
        self._child: Child | None = None
        self._state: State | None = None
        self._reason: str | None = None
        self._refs = 0
        self._active = 0
        #: Set by :meth:`stop`; a start in progress then gives up once the model has loaded.
        self._stop_requested = False
        #: Counts starts, so per-start work (priming the prompt cache) is done once per server.
        self.generation = 0
        self._primed_generation = 0

    # -- status ----------------------------------------------------------------------------------

    def status(self) -> ModelStatus:
        """Which model, its file, and its state; answered from memory and the disk at once."""
        file = str(expected_path(self.model, self.folder))
        with self._lock:
            state, reason, child = self._state, self._reason, self._child
        if child is not None and state == "ready" and not child.alive():
            state, reason = "failed", f"{child.describe_exit()}; the next request starts it again"
        if child is None and state in (None, "failed") and not is_installed(self.model):
            return ModelStatus(
                self.model.id, self.model.name, file, "not_installed", reason or install_hint(self.model)
            )
        return ModelStatus(self.model.id, self.model.name, file, state or "not_started", reason)

    @property
    def ready(self) -> bool:
        with self._lock:
            return self._child is not None and self._state == "ready" and self._child.alive()

    def died(self, within: float = 1.0) -> bool:
        """Whether the running server has died, or does within ``within`` seconds (a connection
        can break a moment before its killed process is gone); blocking."""
        with self._lock:
            child = self._child
        return child is not None and child.exited(within)

    def describe_exit(self) -> str:
        with self._lock:
            child = self._child
        return child.describe_exit() if child is not None else "the model server is not running"

    # -- life ------------------------------------------------------------------------------------

    def acquire(self) -> None:
        with self._lock:
            self._refs += 1

    def release(self) -> None:
        """Drop one holder; the last one stops the server."""
        with self._lock:
            self._refs = max(0, self._refs - 1)
            last = self._refs == 0
        if last:
            self.stop()

    async def start(self) -> str:
        """The running server's base URL (``http://127.0.0.1:PORT``), starting it if needed;
        raises :class:`ModelServerError`.

        The start runs in a daemon thread, not the loop's executor: a program that is asked to
        exit while the model is being assembled or loaded must not wait for that (a half-written
        file is never used, and the server process exits when its input closes)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()

        def deliver(outcome: Callable[[], None]) -> None:
            if not future.done():
                outcome()

        def work() -> None:
            try:
                address = self.ensure_started()
            except Exception as exc:
                failed = exc
                _call_soon(loop, deliver, lambda: future.set_exception(failed))
            else:
                _call_soon(loop, deliver, lambda: future.set_result(address))

        threading.Thread(target=work, name="local-model-start", daemon=True).start()
        return await future

    def ensure_started(self) -> str:
        """Blocking form of :meth:`start` (one start at a time; the others wait for it)."""
        with self._start_lock:
            with self._lock:
                child = self._child
                self._stop_requested = False
            if child is not None and child.alive():
                return child.address
            try:
                child = self._start()
            except (ModelFileError, ModelServerError) as exc:
                self._set("failed", str(exc))
                raise ModelServerError(str(exc)) from exc
            with self._lock:
                abandoned = self._stop_requested  # everyone left while it loaded
                if abandoned:
                    self._state, self._reason = None, None
                else:
                    self._child, self._state, self._reason = child, "ready", None
                    self.generation += 1
            if abandoned:
                child.stop()
                raise ModelServerError("the model server was stopped while it started")
            return child.address

    def _start(self) -> Child:
        with self._lock:
            old, self._child = self._child, None
        if old is not None:  # it died; collect what is left of it
            old.stop()
        if not server_installed():  # a missing part is named by prepare_model_file
            raise ModelServerError(install_hint(self.model))
        path = prepare_model_file(self.model, self.folder, lambda state: self._set(state))  # type: ignore[arg-type]
        self._set("loading")
        slots = self.slot_folder
        with contextlib.suppress(OSError):
            slots.mkdir(parents=True, exist_ok=True)
        params = {
            "model": str(path),
            "n_ctx": self.model.n_ctx,
            "port": self._port,
            "host": "127.0.0.1",
            "cache_ram_mib": PROMPT_CACHE_MIB,
            "slot_save_path": str(slots) + os.sep if slots.is_dir() else "",
        }
        child = self._launcher(params, self._startup_timeout, self._nobody_waits)
        try:
            _wait_healthy(child, self._startup_timeout)
        except ModelServerError:
            child.stop()
            raise
        return child

    def _nobody_waits(self) -> bool:
        with self._lock:
            return self._stop_requested

    def stop(self) -> None:
        """Stop the server now (a start in progress is abandoned when its model has loaded)."""
        with self._lock:
            child, self._child = self._child, None
            self._stop_requested = True
            if child is not None:
                self._state, self._reason = None, None
        if child is not None:
            child.stop()

    def _set(self, state: State, reason: str | None = None) -> None:
        with self._lock:
            self._state, self._reason = state, reason

    # -- requests --------------------------------------------------------------------------------

    def begin_request(self) -> bool:
        """Count a request in; True when another one is already being answered (it then waits)."""
        with self._lock:
            self._active += 1
            return self._active > 1

    def claim_prime(self, generation: int) -> bool:
        """True for the first caller of a server start: it primes the prompt cache."""
        with self._lock:
            if generation != self.generation or self._primed_generation == generation:
                return False
            self._primed_generation = generation
            return True

    def end_request(self) -> None:
        with self._lock:
            self._active = max(0, self._active - 1)


def _call_soon(
    loop: asyncio.AbstractEventLoop, deliver: Callable[[Callable[[], None]], None], outcome: Callable[[], None]
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting
        loop.call_soon_threadsafe(deliver, outcome)


def _wait_healthy(child: Child, timeout: float) -> None:
    """Poll ``/health`` until the model answers 200."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            if not child.alive():
                raise ModelServerError(f"the model server stopped while loading: {child.describe_exit()}")
            try:
                response = http.get(child.address + "/health")
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = str(exc) or type(exc).__name__
            time.sleep(0.1)
    raise ModelServerError(f"the model server was not healthy after {timeout:.0f} s ({last})")


_servers: dict[tuple[str, Path], ModelServer] = {}
_servers_lock = threading.Lock()


def shared_server(model: LocalModel, folder: Path | None = None) -> ModelServer:
    """The process's one server for ``model`` (created, not started, on first call)."""
    folder = folder or cache_folder()
    with _servers_lock:
        key = (model.id, folder)
        if key not in _servers:
            _servers[key] = ModelServer(model, folder)
        return _servers[key]
