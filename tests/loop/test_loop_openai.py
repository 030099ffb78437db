"""The loop through the real OpenAIProvider and the fake LLM server over loopback HTTP.

These prove the real path: tool calls assembled from SSE deltas, the tool result sent back in
OpenAI's wire format, a cancel that really closes the HTTP stream or kills a running command
within the 100 ms bound, and a broken stream leaving a conversation the next request can use.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from agent_core.config import AgentConfig
from agent_core.events import TextDelta
from agent_core.messages import Message
from agent_core.providers.openai import OpenAIProvider
from tests.fakes.doubles import Harness, read_fifo, wait_gone
from tests.fakes.llm_server import FakeLLM

CANCEL_BOUND = 0.1
ALLOW_ALL = AgentConfig.model_validate({"approval": {"editFile": "allow", "runCommand": "allow"}})


def harness(tmp_path: Path, llm: FakeLLM, config: AgentConfig | None = None) -> Harness:
    return Harness(tmp_path, OpenAIProvider(llm.base_url + "/v1", None, "fake-model"), config)


def assert_valid_openai(body: dict[str, Any]) -> None:
    """Every assistant tool call is answered by the tool messages right after it, and no tool
    message answers anything else: what OpenAI checks before accepting a request."""
    messages = body["messages"]
    for i, message in enumerate(messages):
        if message["role"] == "assistant" and message.get("tool_calls"):
            ids = [call["id"] for call in message["tool_calls"]]
            following = messages[i + 1 : i + 1 + len(ids)]
            assert [m["role"] for m in following] == ["tool"] * len(ids)
            assert sorted(m["tool_call_id"] for m in following) == sorted(ids)
        if message["role"] == "tool":
            previous = next(m for m in reversed(messages[:i]) if m["role"] != "tool")
            assert message["tool_call_id"] in [c["id"] for c in previous.get("tool_calls", [])]


async def test_tool_call_round_trip_over_http(tmp_path: Path, fake_llm: FakeLLM) -> None:
    (tmp_path / "hello.txt").write_text("hi from disk\n")
    fake_llm.script(
        {
            "text": "Let me read it.",
            "tool_calls": [{"id": "call_1", "name": "read_file", "arguments": {"path": "hello.txt"}}],
        },
        {"text": "It says hi.", "usage": {"input_tokens": 50, "output_tokens": 4}},
    )
    h = harness(tmp_path, fake_llm)
    ended = await h.turn()
    assert ended.stop_reason == "end_turn" and ended.error is None
    assert [m.role for m in h.messages] == ["user", "assistant", "tool", "assistant"]
    assert h.messages[1].tool_calls[0].arguments == {"path": "hello.txt"}
    assert h.messages[3].content == "It says hi."
    second = fake_llm.requests[1]
    assert_valid_openai(second)
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"
    assert "hi from disk" in tool_message["content"]
    assert {tool["function"]["name"] for tool in second["tools"]} >= {"read_file", "edit_file", "run_command"}


async def test_cancel_during_stream_closes_the_http_stream_within_bound(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "A partial answ", "hold": True}, {"text": "Fresh answer."})
    h = harness(tmp_path, fake_llm)
    turn = asyncio.create_task(h.turn())

    def all_text_shown(_: object) -> bool:
        return "".join(e.text for e in h.host.events if isinstance(e, TextDelta)) == "A partial answ"

    await h.host.wait_for(all_text_shown)  # all the text arrived; the server now holds the stream open
    started = time.perf_counter()
    assert h.loop.cancel()
    ended = await turn
    elapsed = time.perf_counter() - started
    assert elapsed < CANCEL_BOUND, f"cancel took {elapsed * 1000:.0f} ms"
    assert ended.stop_reason == "cancelled"
    await asyncio.to_thread(fake_llm.wait_for_disconnects, 1, 5)  # the server saw the client go
    partial = h.messages[-1]
    assert partial.interrupted and partial.content == "A partial answ"

    h.messages.append(Message(role="user", content="go on"))
    assert (await h.turn()).stop_reason == "end_turn"
    resent = fake_llm.requests[1]["messages"]
    assert [m["role"] for m in resent] == ["user", "assistant", "user"]
    assert resent[1]["content"].startswith("A partial answ")  # the provider may add an "interrupted" note


async def test_cancel_during_running_command_kills_it_within_bound(tmp_path: Path, fake_llm: FakeLLM) -> None:
    os.mkfifo(tmp_path / "pid")
    command = "echo $$ > pid; sleep 30"
    fake_llm.script({"tool_calls": [{"id": "call_1", "name": "run_command", "arguments": {"command": command}}]})
    h = harness(tmp_path, fake_llm, ALLOW_ALL)
    turn = asyncio.create_task(h.turn())
    shell = int(await read_fifo(tmp_path / "pid"))
    started = time.perf_counter()
    assert h.loop.cancel()
    ended = await turn
    elapsed = time.perf_counter() - started
    assert elapsed < CANCEL_BOUND, f"cancel took {elapsed * 1000:.0f} ms"
    assert ended.stop_reason == "cancelled"
    assert await wait_gone(shell)
    result = h.messages[-1]
    assert result.role == "tool" and result.tool_call_id == "call_1" and result.interrupted


async def test_stream_broken_inside_a_tool_call_leaves_a_valid_conversation(tmp_path: Path, fake_llm: FakeLLM) -> None:
    # The stream ends without a finish reason while the call's arguments are still a fragment.
    fake_llm.script(
        {
            "text": "Let me look.",
            "tool_calls": [{"id": "call_1", "name": "read_file", "arguments": '{"path": "hel'}],
            "no_done": True,
        },
        {"text": "Starting over."},
    )
    h = harness(tmp_path, fake_llm)
    ended = await h.turn()
    assert ended.stop_reason == "error" and ended.error
    partial = h.messages[-1]
    assert partial.role == "assistant" and partial.interrupted and partial.content == "Let me look."
    assert partial.tool_calls == []  # the incomplete call was dropped, not guessed at
    assert any(e.type == "tool_finished" and e.call_id == "call_1" and e.is_error for e in h.host.events)

    h.messages.append(Message(role="user", content="try again"))
    assert (await h.turn()).stop_reason == "end_turn"
    assert_valid_openai(fake_llm.requests[1])
