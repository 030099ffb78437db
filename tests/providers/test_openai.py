"""OpenAIProvider: the request it sends and how it reads what compatible servers answer."""

from __future__ import annotations

import json

from agent_core.events import StreamFinished, ToolCallReady
from agent_core.messages import Message, ToolCall
from agent_core.providers.base import ChatRequest, ToolSpec
from agent_core.providers.openai import INTERRUPTED_NOTE, OpenAIProvider, to_openai_messages
from agent_core.providers.tool_call_assembly import INVALID_ARGUMENTS_KEY
from tests.fakes.llm_server import FakeLLM
from tests.providers.collect import collect, text_of

TOOL = ToolSpec(name="read_file", description="Read a file", parameters={"type": "object", "properties": {}})


async def test_no_key_means_no_authorization_header(fake_llm: FakeLLM) -> None:
    provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "local-model")
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None and text_of(events) == "ok"
    headers = fake_llm.requests[0]["_headers"]
    assert "authorization" not in headers and headers["accept"] == "text/event-stream"


async def test_request_body_and_bearer_key(fake_llm: FakeLLM) -> None:
    provider = OpenAIProvider(fake_llm.base_url + "/v1/", "sk-abc", "gpt-test")
    request = ChatRequest(
        messages=[Message(role="system", content="be brief"), Message(role="user", content="hi")],
        tools=[TOOL],
        max_tokens=77,
    )
    await collect(provider, request)
    await provider.aclose()
    sent = fake_llm.requests[0]
    assert sent["_path"] == "/v1/chat/completions"
    assert sent["_headers"]["authorization"] == "Bearer sk-abc"
    assert (sent["model"], sent["stream"], sent["max_tokens"]) == ("gpt-test", True, 77)
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": "Read a file",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]


def test_official_api_gets_max_completion_tokens() -> None:
    provider = OpenAIProvider("https://api.openai.com/v1", "sk-x", "gpt-4o-mini")
    body = provider.request_body(ChatRequest(messages=[], max_tokens=5))
    assert body["max_completion_tokens"] == 5 and "max_tokens" not in body


def test_message_conversion_with_tool_results_and_interruptions() -> None:
    messages = [
        Message(role="user", content="fix it"),
        Message(
            role="assistant", content="", tool_calls=[ToolCall(id="c1", name="read_file", arguments={"path": "a"})]
        ),
        Message(role="tool", tool_call_id="c1", name="read_file", content="no such file", is_error=True),
        Message(role="assistant", content="I was say", interrupted=True),
        Message(role="assistant", content="", interrupted=True),
    ]
    out = to_openai_messages(messages)
    assert out[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": json.dumps({"path": "a"})}}
        ],
    }
    assert out[2] == {"role": "tool", "tool_call_id": "c1", "content": "Error: no such file"}
    assert out[3] == {"role": "assistant", "content": f"I was say\n\n{INTERRUPTED_NOTE}"}
    assert out[4] == {"role": "assistant", "content": INTERRUPTED_NOTE}


async def test_finish_stop_after_tool_calls_means_tool_use(fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {
            "tool_calls": [{"id": "c1", "name": "list_files", "arguments": {}}],
            "stop_reason": "end_turn",
            "shape": "no_index",
        }
    )
    provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "m")
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None and events[-1] == StreamFinished(stop_reason="tool_use")


async def test_length_finish_is_max_tokens(fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "cut", "stop_reason": "max_tokens"})
    provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "m")
    events, _ = await collect(provider)
    await provider.aclose()
    assert events[-1] == StreamFinished(stop_reason="max_tokens")


async def test_unparseable_arguments_reach_the_tool_layer_marked(fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {
            "tool_calls": [
                {"id": "c1", "name": "read_file", "arguments": '{"path": "a.py"'},
                {"id": "c2", "name": "read_file", "arguments": "[1, 2]"},
            ]
        }
    )
    provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "m")
    events, err = await collect(provider)
    await provider.aclose()
    ready = [e.call.arguments for e in events if isinstance(e, ToolCallReady)]
    assert err is None and ready == [{INVALID_ARGUMENTS_KEY: '{"path": "a.py"'}, {INVALID_ARGUMENTS_KEY: "[1, 2]"}]


async def test_finish_reason_without_done_is_accepted(fake_llm: FakeLLM) -> None:
    raw = 'data: {"choices": [{"index": 0, "delta": {"content": "fine"}, "finish_reason": "stop"}]}\n\n'
    fake_llm.script({"raw_sse": raw})
    provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "m")
    events, err = await collect(provider)
    await provider.aclose()
    assert err is None and text_of(events) == "fine" and events[-1] == StreamFinished(stop_reason="end_turn")


async def test_error_object_and_garbage_chunks(fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {"raw_sse": 'data: {"error": {"message": "quota gone", "type": "insufficient_quota"}}\n\n'},
        {"raw_sse": "data: {not json\n\n"},
        {"raw_sse": 'data: "a string"\n\n'},
    )
    provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "m")
    _, quota = await collect(provider)
    _, garbage = await collect(provider)
    _, not_object = await collect(provider)
    await provider.aclose()
    assert quota is not None and (quota.kind, quota.retryable) == ("quota", False)
    assert garbage is not None and garbage.kind == "bad_response" and "not JSON" in garbage.message
    assert not_object is not None and not_object.kind == "bad_response"


async def test_a_shared_http_client_is_not_closed(fake_llm: FakeLLM) -> None:
    import httpx

    async with httpx.AsyncClient() as http:
        provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "m", http=http)
        await collect(provider)
        await provider.aclose()
        assert not http.is_closed


async def test_fields_of_the_wrong_type_are_a_clear_error_not_a_crash(fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {"raw_sse": 'data: {"choices": [{"index": 0, "delta": ["not", "a", "dict"]}]}\n\n'},
        {"raw_sse": 'data: {"choices": [{"index": 0, "delta": {"tool_calls": ["x"]}}]}\n\n'},
    )
    provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "m")
    _, first = await collect(provider)
    _, second = await collect(provider)
    await provider.aclose()
    for err in (first, second):
        assert err is not None and err.kind == "bad_response" and "unexpected chunk" in err.message
