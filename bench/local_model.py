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
    async with http.stream("POST", base_url + "/v1/chat/completions", json={**body, "timings_per_token": False}) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("timings"):
                timings = chunk["timings"]
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content") or delta.get("tool_calls"):
                    first = first if first is not None else time.perf_counter() - start
                    parts.append(delta.get("content") or "")
    total = time.perf_counter() - start
    return Timed(first if first is not None else total, total, timings, "".join(parts))


def first_request(workspace: Path, provider: LocalProvider) -> ChatRequest:
    config = AgentConfig()
    specs = ToolRegistry(workspace, _NoHost(), config, Approvals(config.approval, _NoHost())).specs()
    return ChatRequest(messages=[Message(role="system", content=COMPACT_SYSTEM_PROMPT),
                                 Message(role="user", content=QUESTION)], tools=specs, max_tokens=64)


def second_round(request: ChatRequest) -> ChatRequest:
    call = ToolCall(id="call_1", name="list_files", arguments={"path": "."})
    listing = "README.md\nnotes/\npyproject.toml\nsrc/"
    return ChatRequest(messages=[*request.messages, Message(role="assistant", content="", tool_calls=[call]),
                                 Message(role="tool", content=listing, tool_call_id="call_1", name="list_files")],
                       tools=request.tools, max_tokens=64)


def body_for(provider: LocalProvider, base_url: str, request: ChatRequest) -> dict[str, Any]:
    from agent_core.providers.openai import OpenAIProvider

    wire = ChatRequest(messages=request.messages, tools=compact_tools(request.tools), max_tokens=request.max_tokens)
    return {**OpenAIProvider(base_url + "/v1", None, provider.model).request_body(wire), **SAMPLING}


async def latency(model_id: str, workspace: Path, cache: Path) -> list[str]:
    model = MODELS[model_id]
    lines = []
    slots = Path(tempfile.mkdtemp(prefix="agent-lsp-bench-slots-"))

    async def fresh(name: str, *, warm: bool, restore: bool) -> tuple[Timed, float, LocalProvider, str]:
        empty = Path(tempfile.mkdtemp(prefix="agent-lsp-bench-empty-"))
        server = ModelServer(model, cache, slot_folder=slots if restore else empty)
        provider = LocalProvider(model, server=server)
        request = first_request(workspace, provider)
        started = time.perf_counter()
        base_url = await provider.start()
        loaded = time.perf_counter() - started
        if warm or restore:
            outcome = await provider.warm(request)
            lines.append(f"  ({name}: prefix {outcome})")
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=1800)) as http:
            timed = await timed_request(http, base_url, body_for(provider, base_url, request))
        return timed, loaded, provider, base_url

    # Cold: a new server, nothing cached; the time includes starting it.
    started = time.perf_counter()
    cold, loaded, provider, base_url = await fresh("cold", warm=False, restore=False)
    cold_total = time.perf_counter() - started
    lines.append(f"time to first token, cold (new server, nothing cached): {cold_total - cold.total + cold.first_token:6.1f} s"
                 f"  (server start {loaded:.1f} s; prompt {cold.timings.get('prompt_n', '?')} tokens in "
                 f"{cold.timings.get('prompt_ms', 0) / 1000:.1f} s by llama.cpp's timings)")
    # Second round of the same conversation on the same server.
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=1800)) as http:
        second = await timed_request(http, base_url, body_for(provider, base_url, second_round(first_request(workspace, provider))))
    lines.append(f"time to first token, second round (after a tool result): {second.first_token:6.1f} s"
                 f"  (new prompt tokens {second.timings.get('prompt_n', '?')}, cached {second.timings.get('cache_n', '?')})")
    speed = cold.timings
    gen_client = (len(cold.text) and cold.total - cold.first_token) or 0
    lines.append(f"prompt speed (llama.cpp): {speed.get('prompt_per_second', 0):6.1f} tokens/s")
    lines.append(f"generation speed (llama.cpp): {speed.get('predicted_per_second', 0):6.1f} tokens/s; client saw "
                 f"{max(0, speed.get('predicted_n', 1) - 1) / gen_client if gen_client else 0:6.1f} tokens/s over the stream")
    await provider.aclose()
    # Warm: the prefix was read before the question came (the LSP server does it at start-up).
    warm, _, provider, _ = await fresh("warm", warm=True, restore=True)
    lines.append(f"time to first token, warm prefix (read in the background first): {warm.first_token:6.1f} s"
                 f"  (new prompt tokens {warm.timings.get('prompt_n', '?')}, cached {warm.timings.get('cache_n', '?')})")
    await provider.aclose()
    # Restored: a new server process restores the prefix the previous one saved to disk.
    started = time.perf_counter()
    restored, loaded, provider, _ = await fresh("restored", warm=False, restore=True)
    lines.append(f"time to first token, restored prefix (new server, saved prefix): "
                 f"{time.perf_counter() - started - restored.total + restored.first_token:6.1f} s  "
                 f"(server start {loaded:.1f} s; new prompt tokens {restored.timings.get('prompt_n', '?')}, "
                 f"cached {restored.timings.get('cache_n', '?')})")
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
    config = AgentConfig(local_model=model_id, max_rounds=6, max_tokens=512,
                         approval={"edit_file": "allow", "run_command": "allow"})  # type: ignore[arg-type]
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
        invalid += sum(1 for r in results if r.is_error and ("Invalid arguments" in r.output or "Unknown tool" in r.output
                                                               or "not a valid JSON" in r.output))
        stripped = answer.strip()
        looked_like_calls += int(stripped.startswith(("{", "[", "```json", "<tool_call>")) and '"name"' in stripped)
        ok, why = task.check(workspace, answer, calls)
        passed += ok
        shown = " ".join(answer.split())[:100]
        lines.append(f"  {number:2}. {'PASS' if ok else 'FAIL'} {seconds:6.1f} s  {task.name}: "
                     f"tools {[c.name for c in calls]}; {why}; stop {ended.stop_reason}; answer: {shown!r}")
        await agent.aclose()
    lines.insert(0, f"eval: {passed}/{len(tasks)} tasks completed correctly; tool calls parsed: {parsed} "
                    f"(invalid arguments or names: {invalid}; replies that looked like a call but did not parse: "
                    f"{looked_like_calls})")
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
    print(f"model: {model.name} ({model.size / 1e9:.2f} GB at {cache / model.file_name}); {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
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
