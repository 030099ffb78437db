"""Language server benchmark: start-up, streaming overhead, and responsiveness during a turn.

Starts the real server (``python -m lsp_server``) over stdio against the fake LLM server on
loopback (a configured provider, so the embedded model is never started) and prints, from one
run, each figure beside its reference measured in the same run:

* start-up: the time from process start to the ``initialize`` result, for an empty workspace and
  for one whose latest session holds 1,000 messages, against an empty pygls server (a
  ``LanguageServer`` with no features, started the same way: ``python -c``, stdio, the same
  client). The three are started in turn, ``--rounds`` times (interleaved, so a busy machine slows
  all alike); the medians and the median of the per-round ratios are printed (target 1.10x), and
  the time to ``agent/sessionRestored``;
* idle memory: the resident set (``VmRSS`` of ``/proc``) of each server once it answered a request
  sent after ``initialized`` (agent-lsp: after ``agent/sessionRestored``), against the empty pygls
  server (target 1.3x);
* the rate of streamed tokens the client receives (``agent/textDelta``, coalesced) against reading
  the same fake stream directly with httpx (the raw client; target 0.80x), interleaved rounds. The
  fake server runs in its own process here, so neither reader competes with it for this
  process's GIL;
* the latency of ``agent.status`` requests sent back to back while a fast turn streams.

Run from the repository root::

    python3 bench/server.py [--tokens N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from agent_core.config import SessionConfig
from agent_core.messages import Message
from agent_core.sessions import SessionStore

TIMEOUT = 60.0

#: The reference: pygls with no feature of its own, started like agent-lsp (a fresh interpreter).
EMPTY_PYGLS = "from pygls.lsp.server import LanguageServer; LanguageServer('empty', '1').start_io()"
AGENT_LSP = ("-m", "lsp_server")


class FakeLLMProcess:
    """The shared fake LLM server as a separate process, scripted over its HTTP control API."""

    def __init__(self, folder: Path) -> None:
        self._port_file = folder / "fake-llm.port"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.llm_server", "--port-file", str(self._port_file)],
            cwd=Path(__file__).resolve().parents[1],
        )
        deadline = time.monotonic() + TIMEOUT
        while not (self._port_file.exists() and self._port_file.read_text().strip()):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fake LLM server did not start")
            time.sleep(0.02)  # waiting for another process to start listening
        self.base_url = f"http://127.0.0.1:{int(self._port_file.read_text())}"

    def script(self, *responses: dict[str, Any]) -> None:
        httpx.post(self.base_url + "/_script", json=list(responses), timeout=TIMEOUT).raise_for_status()

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(TIMEOUT)


class BenchClient:
    """A plain pygls client that timestamps the agent notifications it receives."""

    def __init__(self) -> None:
        self.client = LanguageClient("agent-lsp-bench", "1")
        self.events: list[tuple[float, str, Any]] = []
        self._arrived = asyncio.Event()
        self.started = 0.0
        for method in ("agent/textDelta", "agent/turnEnded", "agent/sessionRestored", "agent/turnStarted"):
            self.client.feature(method)(self._recorder(method))

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create_progress(ls: LanguageClient, params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.client.feature(types.PROGRESS)
        def progress(ls: LanguageClient, params: types.ProgressParams) -> None:
            return None

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(ls: LanguageClient, params: types.LogMessageParams) -> None:
            return None

    def _recorder(self, method: str) -> Any:
        def record(ls: LanguageClient, params: Any) -> None:
            self.events.append((time.perf_counter(), method, params))
            self._arrived.set()

        return record

    async def wait(self, method: str, turn_id: str | None = None) -> float:
        """The arrival time of the first ``method`` notification (of ``turn_id``)."""

        async def find() -> float:
            while True:
                for when, name, params in self.events:
                    if name == method and (turn_id is None or params.turnId == turn_id):
                        return when
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(find(), TIMEOUT)

    async def start(self, root: Path, settings: dict[str, Any], server: tuple[str, ...] = AGENT_LSP) -> float:
        """Start ``python *server`` and initialize; returns the seconds to the initialize result."""
        started = time.perf_counter()
        await self.client.start_io(sys.executable, *server)
        capabilities = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=root.as_uri(),
                initialization_options=settings,
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            )
        )
        initialized = time.perf_counter() - started
        self.started = started
        self.client.initialized(types.InitializedParams())
        return initialized

    async def restored(self) -> float:
        """Seconds from process start to ``agent/sessionRestored``."""
        return await self.wait("agent/sessionRestored") - self.started

    def rss_mb(self) -> float:
        """The server process's resident set now, in MB."""
        process = self.client._server  # the pygls client's subprocess
        assert process is not None
        status = Path(f"/proc/{process.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kb / 1024

    async def command(self, name: str, argument: dict[str, Any] | None = None) -> Any:
        params = types.ExecuteCommandParams(command=name, arguments=[argument or {}])
        return await self.client.workspace_execute_command_async(params)

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def settings_for(llm: FakeLLMProcess) -> dict[str, Any]:
    return {"provider": "openai", "baseUrl": llm.base_url + "/v1", "model": "bench-model"}


def make_session(root: Path, count: int) -> None:
    store = SessionStore(root, SessionConfig())
    session = store.new()
    prose = "The function parses the header, then validates each record in turn. " * 8
    for number in range(count):
        role = "user" if number % 2 == 0 else "assistant"
        session.append(Message(role=role, content=f"{number}: {prose}"))
    session.close()


async def bench_startup(llm: FakeLLMProcess, folder: Path, rounds: int) -> None:
    warm_up = folder / "warm-up"
    warm_up.mkdir()
    client = BenchClient()
    await client.start(warm_up, settings_for(llm))  # fills the OS file cache; not reported
    await client.stop()
    roots = {}
    for count in (0, 1000):
        roots[count] = folder / f"startup-{count}"
        roots[count].mkdir()
        if count:
            make_session(roots[count], count)
    times: dict[str, list[float]] = {"empty pygls": [], "empty workspace": [], "1,000 messages": []}
    restored: dict[str, list[float]] = {"empty workspace": [], "1,000 messages": []}
    rss: dict[str, list[float]] = {"empty pygls": [], "empty workspace": []}
    sent = 0
    for _ in range(rounds):
        client = BenchClient()
        times["empty pygls"].append(await client.start(roots[0], {}, ("-c", EMPTY_PYGLS)))
        with contextlib.suppress(Exception):  # an error answer also proves initialized was handled
            await client.command("agent.status")
        rss["empty pygls"].append(client.rss_mb())
        await client.stop()
        for label, count in (("empty workspace", 0), ("1,000 messages", 1000)):
            client = BenchClient()
            times[label].append(await client.start(roots[count], settings_for(llm)))
            restored[label].append(await client.restored())
            _, _, params = next(e for e in client.events if e[1] == "agent/sessionRestored")
            sent = len(params.transcript) if count else sent
            await client.command("agent.status")
            if count == 0:
                rss[label].append(client.rss_mb())
            await client.stop()
    reference = times["empty pygls"]
    print(f"start-up, process start -> initialize result (median of {rounds} interleaved rounds):")
    print(f"  {'empty pygls server':28s} {statistics.median(reference) * 1000:7.1f} ms   (the reference)")
    for label in ("empty workspace", "1,000 messages"):
        ratio = statistics.median(t / r for t, r in zip(times[label], reference, strict=True))
        print(
            f"  agent-lsp, {label:17s} {statistics.median(times[label]) * 1000:7.1f} ms   {ratio:.2f}x the "
            f"reference (target 1.10x); agent/sessionRestored at {statistics.median(restored[label]) * 1000:.0f} ms"
        )
    print(f"  ({sent} messages sent in the 1,000-message session's agent/sessionRestored)")
    ratio = statistics.median(a / e for a, e in zip(rss["empty workspace"], rss["empty pygls"], strict=True))
    print(
        f"idle RSS after initialized: agent-lsp {statistics.median(rss['empty workspace']):.1f} MB, empty pygls "
        f"{statistics.median(rss['empty pygls']):.1f} MB: {ratio:.2f}x (target 1.30x)"
    )


def words(count: int) -> str:
    return " ".join(f"w{i}" for i in range(count))


async def raw_rate(http: httpx.AsyncClient, llm: FakeLLMProcess, text: str) -> float:
    """Tokens per second reading the fake stream with httpx directly (one SSE event per token),
    from sending the request to the last token."""
    llm.script({"text": text, "chunk_bytes": 65536})
    body = {"model": "bench-model", "stream": True, "messages": [{"role": "user", "content": "go"}]}
    tokens = 0
    last = 0.0
    sent = time.perf_counter()
    async with http.stream("POST", llm.base_url + "/v1/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or []
            if choices and choices[0].get("delta", {}).get("content"):
                tokens += 1
                last = time.perf_counter()
    return tokens / (last - sent)


async def server_rate(client: BenchClient, llm: FakeLLMProcess, text: str) -> tuple[float, int]:
    """Tokens per second the client receives, from sending ``agent.chat`` to the last text
    notification, and how many notifications carried them. Each turn starts a new session, so
    its request is as small as the raw client's (not the whole history of earlier rounds)."""
    await client.command("agent.session.new")
    llm.script({"text": text, "chunk_bytes": 65536})
    sent = time.perf_counter()
    turn_id = (await client.command("agent.chat", {"prompt": "go"}))["turnId"]
    await client.wait("agent/turnEnded", turn_id)
    deltas = [
        (when, params.text)
        for when, name, params in client.events
        if name == "agent/textDelta" and params.turnId == turn_id
    ]
    received = "".join(text for _, text in deltas)
    assert received == text, "the client must receive exactly the streamed text"
    return len(received.split()) / (deltas[-1][0] - sent), len(deltas)


async def bench_streaming(client: BenchClient, llm: FakeLLMProcess, count: int, rounds: int) -> None:
    text = words(count)
    raw: list[float] = []
    served: list[float] = []
    notifications = 0
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        await raw_rate(http, llm, words(100))  # warm both paths (connections, provider); not reported
        await server_rate(client, llm, words(100))
        for _ in range(rounds):
            raw.append(await raw_rate(http, llm, text))
            rate, notifications = await server_rate(client, llm, text)
            served.append(rate)
    ratio = statistics.median(s / r for s, r in zip(served, raw, strict=True))
    print(
        f"streaming {count} tokens (one SSE event each, sent in 64 KiB writes; "
        f"request sent -> last token received; median of {rounds} interleaved rounds):"
    )
    print(f"  raw httpx client      {statistics.median(raw):12,.0f} tokens/s")
    print(
        f"  client via the server {statistics.median(served):12,.0f} tokens/s  ({ratio:.2f}x the raw client, "
        f"target 0.80x) in {notifications} agent/textDelta notifications"
    )


async def bench_status(client: BenchClient, llm: FakeLLMProcess, count: int) -> None:
    llm.script({"text": words(count), "chunk_delay": 0.0005})
    turn_id = (await client.command("agent.chat", {"prompt": "go"}))["turnId"]
    await client.wait("agent/textDelta", turn_id)
    latencies: list[float] = []
    ended = asyncio.ensure_future(client.wait("agent/turnEnded", turn_id))
    while not ended.done():
        started = time.perf_counter()
        status = await client.command("agent.status")
        latencies.append(time.perf_counter() - started)
        if not status["running"]:
            break
    await ended
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if len(latencies) >= 20 else latencies[-1]
    print(f"agent.status while a {count}-token turn streams ({len(latencies)} requests):")
    print(
        f"  median {statistics.median(latencies) * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms   "
        f"max {latencies[-1] * 1000:6.2f} ms"
    )


async def main(token_count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        llm = FakeLLMProcess(folder)
        try:
            await run_all(llm, folder, token_count, rounds)
        finally:
            llm.stop()


async def run_all(llm: FakeLLMProcess, folder: Path, token_count: int, rounds: int) -> None:
    await bench_startup(llm, folder, rounds)
    root = folder / "stream"
    root.mkdir()
    client = BenchClient()
    await client.start(root, settings_for(llm))
    await client.restored()
    await bench_streaming(client, llm, token_count, rounds)
    await bench_status(client, llm, token_count)
    await client.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=20000, help="tokens per streamed reply (default 20000)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per figure (default 7)")
    args = parser.parse_args()
    asyncio.run(main(args.tokens, args.rounds))
