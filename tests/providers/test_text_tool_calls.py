"""Tool calls written as text: every shape small models produce, and the near misses that stay text.

The shapes are the ones Qwen2.5-Coder-1.5B was seen writing (a ```json fence with the call, bare
JSON, Hermes ``<tool_call>`` tags); the streaming tests split each reply into every possible pair of
deltas, so holding back never depends on where the network cut the text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent_core.events import (
    ProviderEvent,
    StreamFinished,
    TextDelta,
    ToolCallReady,
    ToolCallStarted,
    UsageReported,
)
from agent_core.messages import ToolCall, Usage
from agent_core.providers.base import ToolSpec
from agent_core.providers.text_tool_calls import TextToolCallFilter, call_schema, parse_text_tool_calls

OFFERED = {"list_files", "read_file", "edit_file"}
LIST = {"name": "list_files", "arguments": {"path": "src"}}
READ = {"name": "read_file", "arguments": {"path": "README.md"}}

Calls = list[tuple[str, dict[str, Any]]]
LISTED: Calls = [("list_files", {"path": "src"})]
READ_ME: Calls = [("read_file", {"path": "README.md"})]
BOTH: Calls = LISTED + READ_ME


def tagged(*calls: dict[str, Any]) -> str:
    return "\n".join(f"<tool_call>\n{json.dumps(call)}\n</tool_call>" for call in calls)


CALL_SHAPES: dict[str, tuple[str, Calls]] = {
    "fenced json, pretty": ("```json\n" + json.dumps(LIST, indent=2) + "\n```", LISTED),
    "fenced, no language": ("```\n" + json.dumps(READ) + "\n```", READ_ME),
    "fenced JSON, surrounding blank lines": ("\n\n```JSON\n" + json.dumps(LIST) + "\n```\n\n", LISTED),
    "bare object": (json.dumps(READ), READ_ME),
    "bare object, leading spaces": ("  \n" + json.dumps(LIST, indent=4) + "\n", LISTED),
    "bare list": (json.dumps([LIST, READ]), BOTH),
    "two bare objects": (json.dumps(LIST) + "\n" + json.dumps(READ), BOTH),
    "two fences": ("```json\n" + json.dumps(LIST) + "\n```\n```json\n" + json.dumps(READ) + "\n```", BOTH),
    "tool_call tags": (tagged(READ), READ_ME),
    "two tool_call tags": (tagged(LIST, READ), BOTH),
    "tag without its closing tag": ("<tool_call>\n" + json.dumps(LIST) + "\n", LISTED),
    "fence inside tags": ("<tool_call>\n```json\n" + json.dumps(LIST) + "\n```\n</tool_call>", LISTED),
    "arguments as a JSON string": (
        json.dumps({"name": "read_file", "arguments": json.dumps({"path": "a.py"})}),
        [("read_file", {"path": "a.py"})],
    ),
    "empty arguments": ('{"name": "list_files", "arguments": {}}', [("list_files", {})]),
    "arguments the tool will reject": (
        '{"name": "read_file", "arguments": {"file": "a.py"}}',
        [("read_file", {"file": "a.py"})],
    ),
}

NEAR_MISSES: dict[str, str] = {
    "unknown tool": json.dumps({"name": "read_config", "arguments": {"path": "x"}}),
    "one known, one unknown": json.dumps([LIST, {"name": "delete_all", "arguments": {}}]),
    "prose before": "Let me look at the files.\n```json\n" + json.dumps(LIST) + "\n```",
    "prose after": "```json\n" + json.dumps(LIST) + "\n```\nThis lists the files in src.",
    "prose after bare JSON": json.dumps(LIST) + " is what I would call.",
    "JSON inside a longer answer": "The call looks like " + json.dumps(READ) + ", as you can see.",
    "a python fence": "```python\nprint({'name': 'list_files', 'arguments': {}})\n```",
    "data, not a call": json.dumps({"files": ["a.py", "b.py"]}),
    "extra keys": json.dumps({"name": "list_files", "arguments": {}, "id": "x"}),
    "no arguments key": json.dumps({"name": "list_files"}),
    "arguments not an object": json.dumps({"name": "read_file", "arguments": ["a.py"]}),
    "arguments an unparseable string": json.dumps({"name": "read_file", "arguments": "a.py"}),
    "name not a string": json.dumps({"name": ["read_file"], "arguments": {}}),
    "broken JSON": '{"name": "read_file", "arguments": {"path": "a.py"}',
    "empty list": "[]",
    "a list of strings": '["read_file"]',
    "other tags": "<tool_response>\n" + json.dumps(LIST) + "\n</tool_response>",
    "plain prose": "The project holds two files.",
    "whitespace": "  \n ",
    "tag then prose": "<tool_call>\n" + json.dumps(LIST) + "\n</tool_call>\nDone.",
}


@pytest.mark.parametrize("text,expected", CALL_SHAPES.values(), ids=list(CALL_SHAPES))
def test_every_shape_is_parsed(text: str, expected: Calls) -> None:
    assert parse_text_tool_calls(text, OFFERED) == expected


@pytest.mark.parametrize("text", NEAR_MISSES.values(), ids=list(NEAR_MISSES))
def test_near_misses_stay_text(text: str) -> None:
    assert parse_text_tool_calls(text, OFFERED) is None


def test_nothing_is_a_call_when_no_tools_are_offered() -> None:
    assert parse_text_tool_calls(json.dumps(LIST), set()) is None


def run(deltas: list[str], *, stop: str = "end_turn", native: bool = False) -> list[ProviderEvent]:
    """The filter's output for a reply streamed as ``deltas``; checks nothing is emitted twice."""
    calls = TextToolCallFilter(OFFERED)
    events: list[ProviderEvent] = [TextDelta(text=d) for d in deltas]
    if native:
        events += [
            ToolCallStarted(index=0, id="n1", name="read_file"),
            ToolCallReady(call=ToolCall(id="n1", name="read_file", arguments={"path": "x"})),
        ]
    events += [UsageReported(usage=Usage(input_tokens=5, output_tokens=7)), StreamFinished(stop_reason=stop)]
    out: list[ProviderEvent] = []
    for event in events:
        out.extend(calls.feed(event))
    return out


def splits(text: str) -> list[list[str]]:
    return [[text]] + [[text[:i], text[i:]] for i in range(1, len(text))]


@pytest.mark.parametrize("name", list(CALL_SHAPES))
def test_a_streamed_call_is_held_back_and_becomes_tool_calls(name: str) -> None:
    text, expected = CALL_SHAPES[name]
    for deltas in splits(text):
        out = run(deltas)
        assert not [e for e in out if isinstance(e, TextDelta)], (name, deltas)
        ready = [e.call for e in out if isinstance(e, ToolCallReady)]
        started = [e for e in out if isinstance(e, ToolCallStarted)]
        assert [(c.name, c.arguments) for c in ready] == expected
        assert [s.id for s in started] == [c.id for c in ready] and len({c.id for c in ready}) == len(ready)
        assert all(c.id.startswith("call_") for c in ready)
        assert isinstance(out[-1], StreamFinished) and out[-1].stop_reason == "tool_use"
        assert any(isinstance(e, UsageReported) for e in out)


@pytest.mark.parametrize("name", list(NEAR_MISSES))
def test_a_streamed_near_miss_comes_through_whole_as_text(name: str) -> None:
    text = NEAR_MISSES[name]
    for deltas in splits(text):
        out = run(deltas)
        assert "".join(e.text for e in out if isinstance(e, TextDelta)) == text, (name, deltas)
        assert not [e for e in out if isinstance(e, (ToolCallReady, ToolCallStarted))]
        assert isinstance(out[-1], StreamFinished) and out[-1].stop_reason == "end_turn"


def test_prose_streams_at_once() -> None:
    calls = TextToolCallFilter(OFFERED)
    assert calls.feed(TextDelta(text="The ")) == [TextDelta(text="The ")]
    assert calls.feed(TextDelta(text="files")) == [TextDelta(text="files")]


def test_a_code_fence_streams_once_its_language_shows() -> None:
    calls = TextToolCallFilter(OFFERED)
    assert calls.feed(TextDelta(text="``")) == []
    assert calls.feed(TextDelta(text="`py")) == [TextDelta(text="```py")]


def test_a_held_reply_is_released_as_soon_as_prose_follows_the_json() -> None:
    calls = TextToolCallFilter(OFFERED)
    assert calls.feed(TextDelta(text="```json\n" + json.dumps(LIST) + "\n")) == []
    assert calls.feed(TextDelta(text="```")) == []  # still possibly a call
    released = calls.feed(TextDelta(text="\nThat is how"))
    expected = "```json\n" + json.dumps(LIST) + "\n```\nThat is how"
    assert [e.text for e in released if isinstance(e, TextDelta)] == [expected]
    assert calls.feed(TextDelta(text=" it works.")) == [TextDelta(text=" it works.")]


def test_a_held_reply_for_an_unknown_tool_is_released_when_its_json_closes() -> None:
    calls = TextToolCallFilter(OFFERED)
    assert calls.feed(TextDelta(text='{"name": "read_config", "arguments": {"path": "x"}')) == []
    assert calls.feed(TextDelta(text="}")) != []


def test_a_call_cut_by_the_output_limit_stays_text() -> None:
    text = json.dumps(LIST)
    out = run([text], stop="max_tokens")
    assert [e.text for e in out if isinstance(e, TextDelta)] == [text]
    assert isinstance(out[-1], StreamFinished) and out[-1].stop_reason == "max_tokens"


def test_native_tool_calls_win_over_text() -> None:
    text = json.dumps(LIST)
    out = run([text], native=True)
    assert [e.text for e in out if isinstance(e, TextDelta)] == [text]
    assert [e.call.id for e in out if isinstance(e, ToolCallReady)] == ["n1"]


def test_the_call_schema_allows_exactly_one_call_of_an_offered_tool() -> None:
    path = {"type": "object", "properties": {"path": {"type": "string"}}}
    tools = [
        ToolSpec(name="read_file", description="r", parameters=path),
        ToolSpec(name="list_files", description="l", parameters={"type": "object", "properties": {}}),
    ]
    schema = call_schema(tools)
    names = [option["properties"]["name"] for option in schema["oneOf"]]
    assert names == [{"const": "read_file"}, {"const": "list_files"}]
    assert all(option["required"] == ["name", "arguments"] for option in schema["oneOf"])
    assert schema["oneOf"][0]["properties"]["arguments"] == path
    # What a server constrained by it writes is what the parser turns into a call.
    reply = '{"name": "read_file", "arguments": {"path": "a.py"}}'
    assert parse_text_tool_calls(reply, {"read_file", "list_files"}) == [("read_file", {"path": "a.py"})]
