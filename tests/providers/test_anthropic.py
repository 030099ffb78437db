"""AnthropicProvider: the Messages request it sends and how it reads the event stream."""

from __future__ import annotations

from agent_core.events import StreamFinished, TextDelta, ToolCallReady, UsageReported
from agent_core.messages import Message, ToolCall, Usage
from agent_core.providers.anthropic import ANTHROPIC_VERSION, AnthropicProvider, to_anthropic_messages
from agent_core.providers.base import ChatRequest, ToolSpec
from agent_core.providers.openai import INTERRUPTED_NOTE
from tests.fakes.llm_server import FakeLLM
from tests.providers.collect import collect, text_of

TOOL = ToolSpec(name="read_file", description="Read a file", parameters={"type": "object", "properties": {}})


async def test_headers_system_prompt_and_tools(fake_llm: FakeLLM) -> None:
    provider = AnthropicProvider(fake_llm.base_url + "/v1/", "sk-ant-1", "claude-test")
    request = ChatRequest(
        messages=[Message(role="system", content="be brief"), Message(role="user", content="hi")],
        tools=[TOOL],
        max_tokens=99,
    )
    events, err = await collect(provider, request)
    await provider.aclose()
    assert err is None and text_of(events) == "ok"
    sent = fake_llm.requests[0]
    assert sent["_path"] == "/v1/messages"  # a base URL given with /v1 is not doubled
    assert sent["_headers"]["x-api-key"] == "sk-ant-1"
    assert sent["_headers"]["anthropic-version"] == ANTHROPIC_VERSION
    assert "authorization" not in sent["_headers"]
    assert (sent["model"], sent["max_tokens"], sent["stream"], sent["system"]) == ("claude-test", 99, True, "be brief")
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert sent["tools"] == [
        {"name": "read_file", "description": "Read a file", "input_schema": {"type": "object", "properties": {}}}
    ]


def test_consecutive_tool_results_merge_into_one_user_message() -> None:
    calls = [ToolCall(id="a", name="read_file", arguments={"path": "x"}), ToolCall(id="b", name="list_files")]
    out = to_anthropic_messages(
        [
            Message(role="system", content="sys"),
            Message(role="user", content="look"),
            Message(role="assistant", content="Checking.", tool_calls=calls),
            Message(role="tool", tool_call_id="a", content="file text"),
            Message(role="tool", tool_call_id="b", content="denied", is_error=True),
            Message(role="user", content="and?"),
            Message(role="assistant", content="Half", interrupted=True),
            Message(role="assistant", content=""),
        ]
    )
    assert out == [
        {"role": "user", "content": [{"type": "text", "text": "look"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "a", "name": "read_file", "input": {"path": "x"}},
                {"type": "tool_use", "id": "b", "name": "list_files", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "a", "content": "file text", "is_error": False},
                {"type": "tool_result", "tool_use_id": "b", "content": "denied", "is_error": True},
                {"type": "text", "text": "and?"},
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": f"Half\n\n{INTERRUPTED_NOTE}"}]},
    ]


async def test_ping_unknown_events_and_thinking_blocks_are_ignored(fake_llm: FakeLLM) -> None:
    raw = (
        'event: message_start\ndata: {"type": "message_start", "message": {"usage": '
        '{"input_tokens": 10, "cache_read_input_tokens": 90, "output_tokens": 1}}}\n\n'
        'event: ping\ndata: {"type": "ping"}\n\n'
        'event: brand_new_event\ndata: {"type": "brand_new_event", "stuff": [1]}\n\n'
        'event: content_block_start\ndata: {"type": "content_block_start", "index": 0, '
        '"content_block": {"type": "thinking", "thinking": ""}}\n\n'
        'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, '
        '"delta": {"type": "thinking_delta", "thinking": "hmm"}}\n\n'
        'event: content_block_stop\ndata: {"type": "content_block_stop", "index": 0}\n\n'
        'event: content_block_start\ndata: {"type": "content_block_start", "index": 1, '
        '"content_block": {"type": "text", "text": ""}}\n\n'
        'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 1, '
        '"delta": {"type": "text_delta", "text": "answer"}}\n\n'
        'event: ping\ndata: {"type": "ping"}\n\n'
        'event: content_block_stop\ndata: {"type": "content_block_stop", "index": 1}\n\n'
        'event: message_delta\ndata: {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, '
        '"usage": {"output_tokens": 7}}\n\n'
        'event: message_stop\ndata: {"type": "message_stop"}\n\n'
    )
    fake_llm.script({"raw_sse": raw})
    provider = AnthropicProvider(fake_llm.base_url, "k", "claude-test")
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None
    assert events == [
        TextDelta(text="answer"),
        UsageReported(usage=Usage(input_tokens=100, output_tokens=7)),
        StreamFinished(stop_reason="end_turn"),
    ]


async def test_event_error_is_classified(fake_llm: FakeLLM) -> None:
    fake_llm.script({"error_event": "invalid_request"}, {"error_event": "rate_limit"})
    provider = AnthropicProvider(fake_llm.base_url, "k", "claude-test")
    _, bad = await collect(provider)
    _, limited = await collect(provider)
    await provider.aclose()
    assert bad is not None and (bad.kind, bad.retryable, bad.output_started) == ("bad_request", False, False)
    assert limited is not None and (limited.kind, limited.retryable) == ("rate_limit", True)


async def test_tool_use_stop_and_max_tokens(fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {"tool_calls": [{"id": "t", "name": "list_files", "arguments": {"path": "."}}]},
        {"text": "long", "stop_reason": "max_tokens"},
    )
    provider = AnthropicProvider(fake_llm.base_url, "k", "claude-test")
    tool_events, _ = await collect(provider)
    cut_events, _ = await collect(provider)
    await provider.aclose()
    assert [e.call.arguments for e in tool_events if isinstance(e, ToolCallReady)] == [{"path": "."}]
    assert tool_events[-1] == StreamFinished(stop_reason="tool_use")
    assert cut_events[-1] == StreamFinished(stop_reason="max_tokens")


async def test_a_proxy_without_a_key_sends_no_key_header(fake_llm: FakeLLM) -> None:
    provider = AnthropicProvider(fake_llm.base_url, None, "claude-test")
    await collect(provider)
    await provider.aclose()
    assert "x-api-key" not in fake_llm.requests[0]["_headers"]


async def test_fields_of_the_wrong_type_are_a_clear_error_not_a_crash(fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {
            "raw_sse": 'event: content_block_start\ndata: {"type": "content_block_start", '
            '"index": "first", "content_block": {"type": "tool_use", "id": "t", "name": "x"}}\n\n'
        }
    )
    provider = AnthropicProvider(fake_llm.base_url, "k", "claude-test")
    _, err = await collect(provider)
    await provider.aclose()
    assert err is not None and err.kind == "bad_response" and "unexpected event" in err.message
