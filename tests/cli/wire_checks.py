"""What the real APIs reject, checked on the request bodies the fake LLM server received.

The fake server serves anything; these checks stand in for the providers' validation of tool
pairing and roles, the errors agents meet after a crash or a truncation (OpenAI: "messages with
role 'tool' must be a response to a preceding message with 'tool_calls'"; Anthropic: "tool_use
ids were found without tool_result blocks immediately after").
"""

from __future__ import annotations

from typing import Any


def check_openai(body: dict[str, Any]) -> None:
    """Every assistant tool call answered by the tool messages right after it, and every tool
    message answering a call of that assistant message."""
    messages = body["messages"]
    index = 0
    while index < len(messages):
        message = messages[index]
        index += 1
        assert message["role"] in ("system", "user", "assistant", "tool"), message
        assert message["role"] != "tool", f"tool message without a preceding call: {message}"
        calls = [call["id"] for call in message.get("tool_calls") or []]
        answered = []
        while index < len(messages) and messages[index]["role"] == "tool":
            answered.append(messages[index]["tool_call_id"])
            index += 1
        assert sorted(answered) == sorted(calls), f"calls {calls} answered by {answered}"
    assert any(m["role"] == "user" for m in messages)


def check_anthropic(body: dict[str, Any]) -> None:
    """Roles alternate starting with user; each tool_use is answered by a tool_result in the next
    user message, and each tool_result answers a tool_use of the message before; no empty text."""
    messages = body["messages"]
    assert messages and messages[0]["role"] == "user", "the first message must be a user message"
    previous_uses: list[str] = []
    for position, message in enumerate(messages):
        assert message["role"] in ("user", "assistant"), message
        if position:
            assert message["role"] != messages[position - 1]["role"], f"two {message['role']} messages in a row"
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        assert blocks, f"empty content: {message}"
        for block in blocks:
            if block["type"] == "text":
                assert block["text"].strip(), f"empty text block in {message}"
        if message["role"] == "user":
            results = [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"]
            assert sorted(results) == sorted(previous_uses), f"tool_use {previous_uses} answered by {results}"
            previous_uses = []
        else:
            previous_uses = [b["id"] for b in blocks if b["type"] == "tool_use"]
    assert not previous_uses, "the request ends with unanswered tool_use blocks"
