"""conversation.repair and PartialReply: every call gets one result, no result lacks its call."""

from __future__ import annotations

from agent_core.conversation import INTERRUPTED_RESULT, PartialReply, repair
from agent_core.events import StreamFinished, TextDelta, ToolCallReady, ToolCallStarted, UsageReported
from agent_core.messages import Message, ToolCall, Usage


def user(text: str) -> Message:
    return Message(role="user", content=text)


def assistant(*call_ids: str, text: str = "") -> Message:
    return Message(
        role="assistant",
        content=text,
        tool_calls=[ToolCall(id=i, name="read_file", arguments={"path": i}) for i in call_ids],
    )


def result(call_id: str, text: str = "ok") -> Message:
    return Message(role="tool", tool_call_id=call_id, name="read_file", content=text)


def shape(messages: list[Message]) -> list[str]:
    """A compact picture: u, a(ids), t(id) and t!(id) for a synthetic interrupted result."""
    out = []
    for m in messages:
        if m.role == "tool":
            out.append(("t!" if m.interrupted else "t") + f"({m.tool_call_id})")
        elif m.role == "assistant":
            out.append(f"a({','.join(c.id for c in m.tool_calls)})")
        else:
            out.append(m.role[0])
    return out


def test_valid_conversation_is_unchanged() -> None:
    messages = [user("hi"), assistant("c1", "c2"), result("c1"), result("c2"), assistant(text="done"), user("more")]
    assert repair(messages) == messages


def test_dangling_call_gets_interrupted_error_result() -> None:
    messages = [user("hi"), assistant("c1", "c2"), result("c1"), user("next")]
    repaired = repair(messages)
    assert shape(repaired) == ["u", "a(c1,c2)", "t(c1)", "t!(c2)", "u"]
    synthetic = repaired[3]
    assert synthetic.is_error and synthetic.content == INTERRUPTED_RESULT and synthetic.name == "read_file"


def test_dangling_call_at_the_end_is_answered() -> None:
    assert shape(repair([user("hi"), assistant("c1")])) == ["u", "a(c1)", "t!(c1)"]


def test_orphan_result_is_dropped() -> None:
    # The assistant message with the call was truncated away: its result must go too.
    messages = [user("hi"), result("gone"), assistant(text="ok"), user("next")]
    assert shape(repair(messages)) == ["u", "a()", "u"]


def test_result_for_a_call_of_another_message_is_dropped_and_call_answered() -> None:
    messages = [user("hi"), assistant("c1"), user("interjection"), result("c1")]
    assert shape(repair(messages)) == ["u", "a(c1)", "t!(c1)", "u"]


def test_duplicate_and_foreign_results_are_dropped_and_results_follow_call_order() -> None:
    messages = [
        user("hi"),
        assistant("c1", "c2"),
        result("c2", "second"),
        result("x9"),
        result("c1"),
        result("c2", "dup"),
    ]
    repaired = repair(messages)
    assert shape(repaired) == ["u", "a(c1,c2)", "t(c1)", "t(c2)"]
    assert repaired[3].content == "second"


def test_repair_is_pure_and_idempotent() -> None:
    messages = [user("hi"), assistant("c1"), result("stray")]
    before = [m.model_copy(deep=True) for m in messages]
    once = repair(messages)
    assert messages == before
    assert repair(once) == once
    assert repair(messages) == once  # deterministic synthetic ids


def test_partial_reply_keeps_text_and_ready_calls_only() -> None:
    partial = PartialReply()
    complete = ToolCall(id="c1", name="read_file", arguments={"path": "a"})
    for event in [
        TextDelta(text="Let me "),
        TextDelta(text="look"),
        ToolCallStarted(index=0, id="c1", name="read_file"),
        ToolCallReady(call=complete),
        ToolCallStarted(index=1, id="c2", name="edit_file"),  # its arguments never completed
        UsageReported(usage=Usage(input_tokens=3, output_tokens=1)),
        UsageReported(usage=Usage(input_tokens=3, output_tokens=4)),  # cumulative, not added
    ]:
        partial.add(event)
    message = partial.message(interrupted=True)
    assert message is not None
    assert message.content == "Let me look" and message.interrupted
    assert message.tool_calls == [complete]
    assert [c.id for c in partial.dropped_calls] == ["c2"]
    assert message.usage == Usage(input_tokens=3, output_tokens=4)


def test_partial_reply_without_output_gives_no_message() -> None:
    partial = PartialReply()
    partial.add(ToolCallStarted(index=0, id="c1", name="read_file"))
    partial.add(StreamFinished(stop_reason="tool_use"))
    assert partial.message(interrupted=True) is None
    assert partial.stop_reason == "tool_use"
