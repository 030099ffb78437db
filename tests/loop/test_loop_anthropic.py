"""The loop through the real AnthropicProvider: a cancelled turn leaves tool_use blocks that the
next request answers with tool_result blocks, as the Messages API requires."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agent_core.messages import Message
from agent_core.providers.anthropic import AnthropicProvider
from tests.fakes.doubles import Harness, RecordingHost
from tests.fakes.llm_server import FakeLLM


def assert_valid_anthropic(body: dict[str, Any]) -> None:
    """Every tool_use block is answered by a tool_result in the very next (user) message, and
    every tool_result answers a tool_use of the message before it."""
    messages = body["messages"]
    for i, message in enumerate(messages):
        blocks = message["content"] if isinstance(message["content"], list) else []
        uses = [b["id"] for b in blocks if b.get("type") == "tool_use"]
        if uses:
            following = messages[i + 1]["content"]
            assert messages[i + 1]["role"] == "user"
            assert sorted(b["tool_use_id"] for b in following if b.get("type") == "tool_result") == sorted(uses)
        results = [b["tool_use_id"] for b in blocks if b.get("type") == "tool_result"]
        if results:
            previous = messages[i - 1]["content"]
            assert set(results) <= {b["id"] for b in previous if b.get("type") == "tool_use"}


async def test_cancel_during_approval_then_next_request_is_valid(tmp_path: Path, fake_llm: FakeLLM) -> None:
    (tmp_path / "a.txt").write_text("alpha\n")
    fake_llm.script(
        {
            "text": "Two steps.",
            "tool_calls": [
                {"id": "toolu_1", "name": "read_file", "arguments": {"path": "a.txt"}},
                {
                    "id": "toolu_2",
                    "name": "edit_file",
                    "arguments": {"path": "a.txt", "old_text": "alpha", "new_text": "beta"},
                },
            ],
        },
        {"text": "Understood."},
    )
    host = RecordingHost(hold_permission=True)
    h = Harness(tmp_path, AnthropicProvider(fake_llm.base_url, "test-key", "claude-test"), host=host)
    turn = asyncio.create_task(h.turn())
    await asyncio.wait_for(host.asked.wait(), 10)
    assert h.loop.cancel()
    assert (await turn).stop_reason == "cancelled"
    assert (tmp_path / "a.txt").read_text() == "alpha\n"

    h.messages.append(Message(role="user", content="never mind"))
    assert (await h.turn()).stop_reason == "end_turn"
    body = fake_llm.requests[1]
    assert_valid_anthropic(body)
    results = {
        b["tool_use_id"]: b
        for m in body["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    }
    assert not results["toolu_1"].get("is_error") and results["toolu_2"]["is_error"]
