"""What MCP costs: time to the first tool list, and the overhead of a call through the agent.

Servers are the test suite's real MCP server (``tests/fakes/mcp_server.py``, written with the SDK's
``MCPServer``), started over stdio like any configured program.

* Time to first tool list with N servers (default 3), as a turn sees it (``McpManager.prepare``:
  read the config, start every server concurrently, ``initialize``, ``tools/list``):
  - cold: the first time in this process (includes importing the SDK client);
  - warm: the same config started again after the servers were stopped (imports done, files in
    the page cache);
  - running: a later turn, the servers already up (what every turn but the first pays).
* Per-call overhead: the same ``echo`` tool called M times (default 200) through the agent
  (approval check with the policy ``allow``, name lookup, the call on the agent's own stdio
  transport, result to text, output cap), and directly with the SDK (``mcp.ClientSession`` over
  ``mcp.client.stdio.stdio_client``) on a server of its own running beside it, in alternating
  batches; it prints the median (and mean) per call of each and the difference of the medians.

    python3 bench/mcp.py [--servers 3] [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

REPO = Path(__file__).resolve().parents[1]
# This file is named like the SDK's package: its own folder must not shadow ``import mcp``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))  # run from anywhere in the checkout

from agent_core.approvals import Approvals  # noqa: E402
from agent_core.clock import SystemClock  # noqa: E402
from agent_core.config import AgentConfig  # noqa: E402
from agent_core.events import Event  # noqa: E402
from agent_core.host import EditResult, PermissionRequest, PermissionResult  # noqa: E402
from agent_core.mcp.manager import McpManager  # noqa: E402
from agent_core.messages import ToolCall  # noqa: E402

FAKE = REPO / "tests" / "fakes" / "mcp_server.py"
#: The calls are made in this many alternating batches.
BATCHES = 10


class QuietHost:
    """A host that needs no user: the policy is ``allow``, notices are counted."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def read_file(self, path: Path) -> str | None:
        return None

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        return EditResult(False, "not in a benchmark")

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        raise AssertionError("the benchmark's policy allows everything")

    def report(self, event: Event) -> None:
        self.events.append(event)


def config(servers: int) -> AgentConfig:
    entries = {f"s{i}": {"command": sys.executable, "args": [str(FAKE)]} for i in range(servers)}
    return AgentConfig.model_validate({"mcpServers": entries, "approval": {"mcp": "allow"}})


async def first_tool_list(manager: McpManager, host: QuietHost) -> float:
    start = time.perf_counter()
    await manager.prepare(host, "bench")
    elapsed = time.perf_counter() - start
    states = [s.state for s in manager.status()]
    if states.count("running") != len(states) or not manager.specs():
        raise SystemExit(f"servers did not start: {manager.status()}")
    return elapsed


async def through_agent(manager: McpManager, approvals: Approvals, calls: int) -> list[float]:
    times = []
    for i in range(calls):
        call = ToolCall(id=f"c{i}", name="s0__echo", arguments={"text": f"hello {i}"})
        start = time.perf_counter()
        text, is_error = await manager.run(call, approvals, "bench", lambda: None)
        times.append(time.perf_counter() - start)
        assert not is_error and text == f"echo: hello {i}", text
    return times


async def direct_sdk(session: Any, calls: int) -> list[float]:
    times = []
    for i in range(calls):
        start = time.perf_counter()
        result = await session.call_tool("echo", {"text": f"hello {i}"})
        times.append(time.perf_counter() - start)
        assert result.content[0].text == f"echo: hello {i}"
    return times


async def compare_calls(manager: McpManager, calls: int, quiet: TextIO) -> tuple[list[float], list[float]]:
    """Both ways, on servers running side by side, in alternating batches (the machine's load
    then weighs on both alike); the SDK's server writes its stderr to ``quiet``."""
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    approvals = Approvals(manager.config.approval, QuietHost())
    agent_times: list[float] = []
    sdk_times: list[float] = []
    batch = max(calls // BATCHES, 1)
    parameters = StdioServerParameters(command=sys.executable, args=[str(FAKE)])
    async with stdio_client(parameters, errlog=quiet) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        await through_agent(manager, approvals, 10)  # warm-up, both ways
        await direct_sdk(session, 10)
        for _ in range(BATCHES):
            agent_times += await through_agent(manager, approvals, batch)
            sdk_times += await direct_sdk(session, batch)
    return agent_times, sdk_times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def main(servers: int, calls: int, quiet: TextIO) -> None:
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        env = {**os.environ, "XDG_STATE_HOME": str(workspace / "state")}
        host = QuietHost()
        print(f"MCP: {servers} stdio server(s), {calls} calls, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")

        manager = McpManager(workspace, config(servers), env, SystemClock())
        cold = await first_tool_list(manager, host)
        running = await first_tool_list(manager, host)
        await manager.aclose()
        manager = McpManager(workspace, config(servers), env, SystemClock())
        warm = await first_tool_list(manager, host)
        print(f"time to first tool list, cold     {ms(cold)}  ({len(manager.specs())} tools)")
        print(f"time to first tool list, warm     {ms(warm)}")
        print(f"tool list, servers running        {ms(running)}")

        agent_times, sdk_times = await compare_calls(manager, calls, quiet)
        await manager.aclose()
        agent_median, sdk_median = statistics.median(agent_times), statistics.median(sdk_times)
        print(f"per call through the agent        {ms(agent_median)} median  ({ms(statistics.mean(agent_times))} mean)")
        print(f"per call with the SDK directly    {ms(sdk_median)} median  ({ms(statistics.mean(sdk_times))} mean)")
        print(f"overhead per call                 {ms(agent_median - sdk_median)} (medians)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    options = parser.parse_args()
    with open(os.devnull, "w") as devnull:
        asyncio.run(main(options.servers, options.calls, devnull))
