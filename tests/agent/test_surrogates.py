"""Lone UTF-16 surrogates: replaced by U+FFFD by one helper, at the boundaries where text leaves
the process (session records, provider requests) and where a model's text enters it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_core.messages import Message, ToolCall
from agent_core.providers.base import ChatRequest
from agent_core.providers.openai import OpenAIProvider
from agent_core.sessions import SessionStore
from agent_core.sessions import format as fmt
from agent_core.surrogates import REPLACEMENT, loads_valid, valid_json, valid_text
from tests.fakes.llm_server import FakeLLM

HIGH, LOW = "\ud83d", "\ude00"


def test_lone_surrogates_are_replaced_and_everything_else_kept() -> None:
    assert valid_text("plain") == "plain"
    assert valid_text("ünïcode 😀") == "ünïcode 😀"
    assert valid_text(f"a{HIGH}b{LOW}c") == f"a{REPLACEMENT}b{REPLACEMENT}c"
    broken = f"x{HIGH}y"
    # One UTF-16 unit for one: LSP positions after the replacement still point at the same text.
    assert len(valid_text(broken).encode("utf-16-le")) == len(broken.encode("utf-16-le", "surrogatepass"))
    assert valid_json({f"k{HIGH}": [HIGH, {"n": 1, "t": LOW}], "b": None}) == {
        f"k{REPLACEMENT}": [REPLACEMENT, {"n": 1, "t": REPLACEMENT}],
        "b": None,
    }


def test_parsed_json_is_cleaned_whether_the_surrogate_is_escaped_or_raw() -> None:
    # The provider's parse skips the walk for text that cannot hold one; both ways in are caught.
    assert loads_valid('{"t": "a\\ud83d b", "k\\ude00": 1}') == {"t": f"a{REPLACEMENT} b", f"k{REPLACEMENT}": 1}
    assert loads_valid(f'{{"t": "raw {HIGH}"}}') == {"t": f"raw {REPLACEMENT}"}
    assert loads_valid('{"t": "\\ud83d\\ude00 pair, ünïcode"}') == {"t": "😀 pair, ünïcode"}
    assert loads_valid('{"t": "plain", "n": [1, 2.5, null, true]}') == {"t": "plain", "n": [1, 2.5, None, True]}
    assert loads_valid('{"t": "ünïcode 😀"}') == {"t": "ünïcode 😀"}
    with pytest.raises(ValueError):
        loads_valid('{"t": ')


def test_a_message_holding_one_is_saved_and_read_back(tmp_path: Path) -> None:
    message = Message(
        role="tool",
        content=f"buffer: {HIGH}",
        tool_call_id="c1",
        tool_calls=[ToolCall(id="c", name="edit_file", arguments={"new_text": LOW})],
    )
    line = fmt.encode_record(fmt.message_record(message))
    assert json.loads(line)["message"]["content"] == f"buffer: {REPLACEMENT}"

    store = SessionStore(tmp_path)
    with store.new() as session:
        session.append(message)
    with store.open(session.id) as again:
        assert again.messages[0].content == f"buffer: {REPLACEMENT}"
        assert again.messages[0].tool_calls[0].arguments == {"new_text": REPLACEMENT}


async def test_a_request_holding_one_is_sent_and_a_reply_holding_one_is_cleaned(fake_llm: FakeLLM) -> None:
    chunk = {"choices": [{"index": 0, "delta": {"content": f"half: {HIGH}"}, "finish_reason": "stop"}]}
    fake_llm.script({"raw_sse": f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n"})
    provider = OpenAIProvider(fake_llm.base_url + "/v1", None, "fake-model")
    request = ChatRequest(messages=[Message(role="user", content=f"why {HIGH}?")], tools=[], max_tokens=16)
    texts = [event.text async for event in provider.stream(request) if event.type == "text_delta"]
    await provider.aclose()
    assert fake_llm.requests[0]["messages"][-1]["content"] == f"why {REPLACEMENT}?"
    assert texts == [f"half: {REPLACEMENT}"]
