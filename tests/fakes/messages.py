"""Messages of every role and kind, with the optional fields set, for round-trip tests."""

from __future__ import annotations

from agent_core.messages import Message, ToolCall, Usage


def every_kind_of_message() -> list[Message]:
    """One message per role and kind, with the optional fields set, for round-trip tests."""
    call = ToolCall(id="call_1", name="edit_file", arguments={"path": "a.py", "n": [1, {"x": None}]})
    return [
        Message(role="system", content="You are helpful."),
        Message(role="user", content="Fix the bug in a.py\nplease — ünïcode ✓ 🎉"),
        Message(
            role="assistant",
            content="Looking.",
            tool_calls=[call],
            usage=Usage(input_tokens=12, output_tokens=34),
        ),
        Message(role="tool", content="ok", tool_call_id="call_1", name="edit_file", is_error=True),
        Message(role="assistant", content="partial", interrupted=True),
        Message(role="user", content="summary of before", kind="summary"),
        Message(role="user", content="[earlier messages omitted]", kind="omission"),
        Message(role="user", content="rejected: wrong indent", kind="edit_feedback"),
    ]
