"""Embedded model benchmark: how long a user waits, how fast the model runs, how well it does.

Runs the real embedded model (llama.cpp's server with the model the ``--model`` option names,
assembled in the user's cache folder as the product does) and prints, from one run:

* time to first token of the agent's first request (compact system prompt, five tools, a short
  question): **cold** (a new server process, nothing cached: load + read the prefix), **restored**
  (a new server process that restores the prefix saved on disk by an earlier one, the slot
  save/restore of :mod:`agent_core.providers.prompt_cache`), **warm** (a server that read the prefix
  in the background before the question came, as the LSP server does at start-up), and the
  **second round** (the next request of the same turn, after a tool result);
* prompt and generation speed as llama.cpp reports them (``timings``) next to what the client
  measured over the same stream;
* a fixed eval of 10 agent tasks (list, read, find a function, explain, small edits with the edits
  allowed) in a generated workspace, through the whole agent (tools, text tool calls, the loop):
  how many it completed correctly, and how many of the model's tool calls parsed.

The machine is shared and small (2 cores): the numbers are what a user of such a machine sees.
Run from the repository root::

    python3 bench/local_model.py [--model qwen2.5-coder-1.5b] [--skip-eval] [--tasks 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from agent_core.agent import Agent
from agent_core.approvals import Approvals
from agent_core.compact_prompt import COMPACT_SYSTEM_PROMPT, compact_tools
from agent_core.config import AgentConfig
from agent_core.events import Event, TextDelta, ToolCallReady, ToolFinished
from agent_core.host import Decision, EditResult, PermissionRequest, PermissionResult
from agent_core.messages import Message, ToolCall
from agent_core.providers.base import ChatRequest
from agent_core.providers.local import SAMPLING, LocalProvider
from agent_core.providers.local_models import MODELS, is_installed
from agent_core.providers.model_files import cache_folder
from agent_core.providers.model_server import ModelServer
from agent_core.providers.openai import OpenAIProvider
from agent_core.tools import ToolRegistry
from bench.local_eval import TASKS, Task, make_workspace

QUESTION = "What files are in this project?"


@dataclass
class Timed:
    """One streamed request as the client saw it, with llama.cpp's own timings."""

    first_token: float
    total: float
    timings: dict[str, Any]
    text: str


async def timed_request(http: httpx.AsyncClient, base_url: str, body: dict[str, Any]) -> Timed:
    """Stream ``body`` and note when the first content arrived (text or a tool-call delta)."""
    start = time.perf_counter()
    first = None
    timings: dict[str, Any] = {}
    parts: list[str] = []
    async with http.stream("POST", base_url + "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            timings = chunk.get("timings") or timings
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content") or delta.get("tool_calls"):
                    first = first if first is not None else time.perf_counter() - start
                    parts.append(delta.get("content") or "")
    total = time.perf_counter() - start
    return Timed(first if first is not None else total, total, timings, "".join(parts))


def first_request(workspace: Path) -> ChatRequest:
    """The agent's first request on the embedded model, as the agent builds it."""
    config = AgentConfig()
    specs = ToolRegistry(workspace, _NoHost(), config, Approvals(config.approval, _NoHost())).specs()
    return ChatRequest(
        messages=[Message(role="system", content=COMPACT_SYSTEM_PROMPT), Message(role="user", content=QUESTION)],
        tools=specs,
        max_tokens=64,
    )


def second_round(request: ChatRequest) -> ChatRequest:
    call = ToolCall(id="call_1", name="list_files", arguments={"path": "."})
    listing = "README.md\nnotes/\npyproject.toml\nsrc/"
    return ChatRequest(
        messages=[
            *request.messages,
            Message(role="assistant", content="", tool_calls=[call]),
            Message(role="tool", content=listing, tool_call_id="call_1", name="list_files"),
        ],
        tools=request.tools,
        max_tokens=64,
    )


def wire_body(model: str, base_url: str, request: ChatRequest) -> dict[str, Any]:
    """Exactly what the local provider sends for ``request``."""
    wire = ChatRequest(messages=request.messages, tools=compact_tools(request.tools), max_tokens=request.max_tokens)
    return {**OpenAIProvider(base_url + "/v1", None, model).request_body(wire), **SAMPLING}


def tokens(timed: Timed) -> str:
    t = timed.timings
    return f"new prompt tokens {t.get('prompt_n', '?')}, cached {t.get('cache_n', '?')}"


async def latency(model_id: str, workspace: Path, cache: Path) -> list[str]:
    """Time to first token in the four situations of the module docstring, and the speeds."""
    model = MODELS[model_id]
    saved = Path(tempfile.mkdtemp(prefix="agent-lsp-bench-slots-"))
    request = first_request(workspace)
    lines: list[str] = []

    async def fresh(*, warm: bool, slots: Path) -> tuple[LocalProvider, str, float, float]:
        """A new server process; returns it, its URL, its start time and the total time so far."""
        began = time.perf_counter()
        provider = LocalProvider(model, server=ModelServer(model, cache, slot_folder=slots))
        base_url = await provider.start()
        loaded = time.perf_counter() - began
        if warm:
            lines.append(f"  (prefix {await provider.warm(request)})")
        return provider, base_url, loaded, time.perf_counter() - began

    async def ask(base_url: str, req: ChatRequest) -> Timed:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=1800)) as http:
            return await timed_request(http, base_url, wire_body(model.name, base_url, req))

    empty = Path(tempfile.mkdtemp(prefix="agent-lsp-bench-empty-"))
    provider, base_url, loaded, before = await fresh(warm=False, slots=empty)
    cold = await ask(base_url, request)
    lines.append(
        f"time to first token, cold (new server, nothing cached): {before + cold.first_token:6.1f} s "
        f"(server start {loaded:.1f} s; {tokens(cold)}; llama.cpp read the prompt in "
        f"{cold.timings.get('prompt_ms', 0) / 1000:.1f} s)"
    )
    second = await ask(base_url, second_round(request))
    lines.append(
        f"time to first token, second round (after a tool result): {second.first_token:6.1f} s ({tokens(second)})"
    )
    t = cold.timings
    streamed = cold.total - cold.first_token
    client_rate = max(0, t.get("predicted_n", 1) - 1) / streamed if streamed > 0 else 0.0
    lines.append(f"prompt speed: {t.get('prompt_per_second', 0):6.1f} tokens/s (llama.cpp's timings)")
    lines.append(
        f"generation speed: {t.get('predicted_per_second', 0):6.1f} tokens/s (llama.cpp's timings); "
        f"{client_rate:.1f} tokens/s as the client received them"
    )
    await provider.aclose()

    provider, base_url, loaded, before = await fresh(warm=True, slots=saved)
    warm = await ask(base_url, request)
    lines.append(
        f"time to first token, warm prefix (read in the background before the question): "
        f"{warm.first_token:6.1f} s ({tokens(warm)})"
    )
    await provider.aclose()

    provider, base_url, loaded, before = await fresh(warm=True, slots=saved)
    restored = await ask(base_url, request)
    lines.append(
        f"time to first token, restored prefix (new server, prefix saved by the previous one): "
        f"{before + restored.first_token:6.1f} s (server start {loaded:.1f} s; {tokens(restored)})"
    )
    await provider.aclose()
    return lines


class _NoHost:
    async def read_file(self, path: Path) -> str | None:
        return None

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        return EditResult(False, "read only")

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        return PermissionResult(Decision.REJECT, "read only")

    def report(self, event: Event) -> None:
        pass


class EvalHost:
    """Edits go to disk (as with ``--yes``); events are kept for scoring."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def read_file(self, path: Path) -> str | None:
        return None

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_text)
        return EditResult(True)

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        return PermissionResult(Decision.ALLOW_ONCE)

    def report(self, event: Event) -> None:
        self.events.append(event)


async def run_eval(model_id: str, tasks: list[Task]) -> list[str]:
    root = Path(tempfile.mkdtemp(prefix="agent-lsp-eval-"))
    config = AgentConfig(
        local_model=model_id, max_rounds=6, max_tokens=512, approval={"edit_file": "allow", "run_command": "allow"}
    )  # type: ignore[arg-type]
    lines = []
    passed = parsed = looked_like_calls = invalid = 0
    for number, task in enumerate(tasks, start=1):
        workspace = root / f"task{number}"
        make_workspace(workspace)
        host = EvalHost()
        agent = Agent(workspace, config, host, env={})
        agent.new_session()
        started = time.perf_counter()
        ended = await agent.submit(task.prompt)
        seconds = time.perf_counter() - started
        answer = "".join(e.text for e in host.events if isinstance(e, TextDelta))
        calls = [e.call for e in host.events if isinstance(e, ToolCallReady)]
        results = [e for e in host.events if isinstance(e, ToolFinished)]
        parsed += len(calls)
        invalid += sum(
            1
            for r in results
            if r.is_error
            and any(sign in r.output for sign in ("Invalid arguments", "Unknown tool", "not a valid JSON"))
        )
        stripped = answer.strip()
        looked_like_calls += int(stripped.startswith(("{", "[", "```json", "<tool_call>")) and '"name"' in stripped)
        ok, why = task.check(workspace, answer, calls)
        passed += ok
        shown = " ".join(answer.split())[:100]
        lines.append(
            f"  {number:2}. {'PASS' if ok else 'FAIL'} {seconds:6.1f} s  {task.name}: "
            f"tools {[c.name for c in calls]}; {why}; stop {ended.stop_reason}; answer: {shown!r}"
        )
        await agent.aclose()
    lines.insert(
        0,
        f"eval: {passed}/{len(tasks)} tasks completed correctly; tool calls parsed: {parsed} "
        f"(invalid arguments or names: {invalid}; replies that looked like a call but did not parse: "
        f"{looked_like_calls})",
    )
    return lines


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", choices=list(MODELS))
    parser.add_argument("--skip-eval", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--tasks", type=int, default=len(TASKS), help="run only the first N eval tasks")
    args = parser.parse_args(argv)
    model = MODELS[args.model]
    if not is_installed(model):
        print(f"{model.name} is not installed (run scripts/setup.sh)", file=sys.stderr)
        return 2
    cache = cache_folder()
    print(
        f"model: {model.name} ({model.size / 1e9:.2f} GB at {cache / model.file_name}); {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    workspace = Path(tempfile.mkdtemp(prefix="agent-lsp-bench-ws-"))
    make_workspace(workspace)
    if not args.skip_latency:
        for line in await latency(args.model, workspace, cache):
            print(line, flush=True)
    if not args.skip_eval:
        for line in await run_eval(args.model, TASKS[: args.tasks]):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
