"""ACP front end benchmark: start-up, first-chunk latency beside the LSP front end, cancel.

Starts the real ACP agent (``python -m agent_acp``) and the real language server
(``python -m lsp_server``) over stdio against the same fake LLM server (its own process, scripted
over HTTP) and prints, from one run:

* the time from process start to the ``initialize`` result, for each front end (median of N);
* the first-chunk latency on the same fake stream: from sending the prompt (``session/prompt`` /
  the ``agent.chat`` command) to the first text the client receives (``agent_message_chunk`` /
  ``agent/textDelta``), median and worst of N turns in one warm process each;

each pair measured alternately (an ACP run, then an LSP run), so a busy moment of a shared
machine weighs on both figures alike;
* how long ``session/cancel`` takes to end a streaming prompt with ``cancelled`` (the issue's
  bound is 100 ms), measured at the client, so it includes both process hops.

Run from the repository root::

    python3 bench/acp.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

# This file is named like the SDK's package: take its own folder off the path so ``import acp``
# finds the SDK, and import the repository's modules from its root.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from acp import PROTOCOL_VERSION, spawn_agent_process  # noqa: E402
from acp.client.connection import ClientSideConnection  # noqa: E402
from acp.schema import AgentMessageChunk, ClientCapabilities, TextContentBlock  # noqa: E402

from bench.server import TIMEOUT, BenchClient, FakeLLMProcess, settings_for, words  # noqa: E402


class AcpBenchClient:
    """An ACP client that timestamps the message chunks it receives."""

    def __init__(self) -> None:
        self.chunks: list[tuple[float, str]] = []
        self._arrived = asyncio.Event()

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        if isinstance(update, AgentMessageChunk) and isinstance(update.content, TextContentBlock):
            self.chunks.append((time.perf_counter(), update.content.text))
            self._arrived.set()

    async def first_chunk_after(self, start: int) -> float:
        while len(self.chunks) <= start:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), TIMEOUT)
        return self.chunks[start][0]


async def acp_session(conn: ClientSideConnection, root: Path) -> str:
    return (await conn.new_session(cwd=str(root), mcp_servers=[])).session_id


async def acp_startup(root: Path, settings_file: Path) -> float:
    """Seconds from process start to the initialize result."""
    started = time.perf_counter()
    async with spawn_agent_process(
        AcpBenchClient(), sys.executable, "-m", "agent_acp", "--settings", str(settings_file), cwd=root
    ) as (conn, _process):
        await conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=ClientCapabilities())
        return time.perf_counter() - started


async def lsp_startup(root: Path, llm: FakeLLMProcess) -> float:
    client = BenchClient()
    initialized = await client.start(root, settings_for(llm))
    await client.restored()
    await client.stop()
    return initialized


@asynccontextmanager
async def acp_agent(
    client: AcpBenchClient, root: Path, settings_file: Path
) -> AsyncIterator[tuple[ClientSideConnection, str]]:
    """A running ACP agent, initialized, with a new session in ``root``."""
    async with spawn_agent_process(
        client, sys.executable, "-m", "agent_acp", "--settings", str(settings_file), cwd=root
    ) as (conn, _process):
        await conn.initialize(protocol_version=PROTOCOL_VERSION, client_capabilities=ClientCapabilities())
        yield conn, await acp_session(conn, root)


async def acp_first_chunk(
    llm: FakeLLMProcess, client: AcpBenchClient, conn: ClientSideConnection, session_id: str
) -> float:
    """One turn over ACP: seconds from sending the prompt to its first text chunk."""
    llm.script({"text": words(200)})
    seen = len(client.chunks)
    sent = time.perf_counter()
    prompt = asyncio.ensure_future(
        conn.prompt(session_id=session_id, prompt=[TextContentBlock(type="text", text="go")])
    )
    first = await client.first_chunk_after(seen)
    await asyncio.wait_for(prompt, TIMEOUT)
    return first - sent


async def lsp_first_chunk(llm: FakeLLMProcess, client: BenchClient) -> float:
    """One turn over LSP: seconds from sending ``agent.chat`` to its first ``agent/textDelta``."""
    llm.script({"text": words(200)})
    sent = time.perf_counter()
    turn_id = (await client.command("agent.chat", {"prompt": "go"}))["turnId"]
    first = await client.wait("agent/textDelta", turn_id)
    await client.wait("agent/turnEnded", turn_id)
    return first - sent


async def first_chunks(
    llm: FakeLLMProcess, folder: Path, settings_file: Path, runs: int
) -> tuple[list[float], list[float]]:
    """Both front ends running at once, their turns alternated (so a busy moment of the machine
    falls on both), after one warm-up turn each."""
    (folder / "chunks-acp").mkdir()
    (folder / "chunks-lsp").mkdir()
    acp_client = AcpBenchClient()
    lsp = BenchClient()
    await lsp.start(folder / "chunks-lsp", settings_for(llm))
    await lsp.restored()
    acp: list[float] = []
    lsp_times: list[float] = []
    async with acp_agent(acp_client, folder / "chunks-acp", settings_file) as (conn, session_id):
        for run in range(runs + 1):
            acp_time = await acp_first_chunk(llm, acp_client, conn, session_id)
            lsp_time = await lsp_first_chunk(llm, lsp)
            if run:
                acp.append(acp_time)
                lsp_times.append(lsp_time)
    await lsp.stop()
    return acp, lsp_times


async def acp_cancels(llm: FakeLLMProcess, root: Path, settings_file: Path, runs: int) -> list[float]:
    client = AcpBenchClient()
    latencies: list[float] = []
    async with acp_agent(client, root, settings_file) as (conn, session_id):
        for _ in range(runs):
            llm.script({"text": "partial", "hold": True})
            seen = len(client.chunks)
            prompt = asyncio.ensure_future(
                conn.prompt(session_id=session_id, prompt=[TextContentBlock(type="text", text="go")])
            )
            await client.first_chunk_after(seen)
            started = time.perf_counter()
            await conn.cancel(session_id=session_id)
            response = await asyncio.wait_for(prompt, TIMEOUT)
            latencies.append(time.perf_counter() - started)
            assert response.stop_reason == "cancelled"
    return latencies


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.1f} ms   max {max(values) * 1000:7.1f} ms"


async def run_all(llm: FakeLLMProcess, folder: Path, runs: int) -> None:
    settings_file = folder / "acp-settings.json"
    settings_file.write_text(json.dumps(settings_for(llm)))

    def fresh(name: str) -> Path:
        root = folder / name
        root.mkdir()
        return root

    await acp_startup(fresh("warm-acp"), settings_file)  # fills the OS file cache; not reported
    await lsp_startup(fresh("warm-lsp"), llm)
    print(f"start-up (process start -> initialize result), {runs} runs each, alternated:")
    acp_starts: list[float] = []
    lsp_starts: list[float] = []
    for n in range(runs):
        acp_starts.append(await acp_startup(fresh(f"acp-{n}"), settings_file))
        lsp_starts.append(await lsp_startup(fresh(f"lsp-{n}"), llm))
    print(f"  {'ACP  python -m agent_acp':28s} {summary(acp_starts)}")
    print(f"  {'LSP  python -m lsp_server':28s} {summary(lsp_starts)}")

    print(
        f"first-chunk latency (prompt sent -> first text received), 200-token replies, {runs} turns each, alternated:"
    )
    acp, lsp = await first_chunks(llm, folder, settings_file, runs)
    print(f"  {'ACP  agent_message_chunk':28s} {summary(acp)}")
    print(f"  {'LSP  agent/textDelta':28s} {summary(lsp)}")

    print(f"cancel (session/cancel sent -> prompt answered 'cancelled'), {runs} turns:")
    print(f"  {'ACP':28s} {summary(await acp_cancels(llm, fresh('cancel-acp'), settings_file, runs))}")


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        llm = FakeLLMProcess(folder)
        try:
            await run_all(llm, folder, runs)
        finally:
            llm.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="runs per measurement (default 10)")
    asyncio.run(main(parser.parse_args().runs))
