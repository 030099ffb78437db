"""Language server benchmark: start-up, streaming overhead, and responsiveness during a turn.

Starts the real server (``python -m lsp_server``) over stdio against the fake LLM server on
loopback and prints, from one run:

* the time from process start to the ``initialize`` result, and to ``agent/sessionRestored``, for
  an empty workspace and for one whose latest session holds 1,000 messages;
* the rate of streamed tokens the client receives (``agent/textDelta``) against reading the same
  fake stream directly with httpx (the ceiling: what the provider delivers). The fake server runs
  in its own process here, so neither reader competes with it for this process's GIL;
* the latency of ``agent.status`` requests sent back to back while a fast turn streams.

Run from the repository root::

    python3 bench/server.py [--tokens N]
"""

from __future__ import annotations

import argparse
import asyncio
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

    async def start(self, root: Path, settings: dict[str, Any]) -> tuple[float, float]:
        """Start and initialize; returns (seconds to the initialize result, to sessionRestored)."""
        started = time.perf_counter()
        await self.client.start_io(sys.executable, "-m", "lsp_server")
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
        self.client.initialized(types.InitializedParams())
        restored = await self.wait("agent/sessionRestored") - started
        return initialized, restored

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


async def bench_startup(llm: FakeLLMProcess, folder: Path) -> None:
    print("start-up (process start -> initialize result / -> agent/sessionRestored):")
    warm_up = folder / "warm-up"
    warm_up.mkdir()
    client = BenchClient()
    await client.start(warm_up, settings_for(llm))  # fills the OS file cache; not reported
    await client.stop()
    for label, count in (("empty workspace", 0), ("1,000-message session", 1000)):
        root = folder / f"startup-{count}"
        root.mkdir()
        if count:
            make_session(root, count)
        client = BenchClient()
        initialized, restored = await client.start(root, settings_for(llm))
        _, _, params = next(e for e in client.events if e[1] == "agent/sessionRestored")
        await client.stop()
        print(
            f"  {label:24s} initialize {initialized * 1000:7.1f} ms   "
            f"restored {restored * 1000:7.1f} ms   ({len(params.transcript)} messages sent)"
        )


def words(count: int) -> str:
    return " ".join(f"w{i}" for i in range(count))


async def raw_rate(http: httpx.AsyncClient, llm: FakeLLMProcess, text: str) -> float:
    """Tokens per second reading the fake stream with httpx directly (one SSE event per token),
    from sending the request to the last token."""
    llm.script({"text": text})
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
    notification, and how many notifications carried them."""
    llm.script({"text": text})
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


async def bench_streaming(client: BenchClient, llm: FakeLLMProcess, count: int) -> None:
    text = words(count)
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        await raw_rate(http, llm, words(100))  # warm both paths (connections, provider); not reported
        await server_rate(client, llm, words(100))
        raw = await raw_rate(http, llm, text)
        rate, notifications = await server_rate(client, llm, text)
    print(
        f"streaming {count} tokens (one SSE event each, as fast as the fake server sends; "
        "request sent -> last token received):"
    )
    print(f"  raw httpx read        {raw:12,.0f} tokens/s")
    print(
        f"  client via the server {rate:12,.0f} tokens/s  ({rate / raw:.0%} of raw) in {notifications} "
        f"agent/textDelta notifications"
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


async def main(token_count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        llm = FakeLLMProcess(folder)
        try:
            await run_all(llm, folder, token_count)
        finally:
            llm.stop()


async def run_all(llm: FakeLLMProcess, folder: Path, token_count: int) -> None:
    await bench_startup(llm, folder)
    root = folder / "stream"
    root.mkdir()
    client = BenchClient()
    await client.start(root, settings_for(llm))
    await bench_streaming(client, llm, token_count)
    await bench_status(client, llm, token_count)
    await client.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=5000, help="tokens per streamed reply (default 5000)")
    asyncio.run(main(parser.parse_args().tokens))
