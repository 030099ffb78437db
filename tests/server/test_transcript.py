"""Core models -> protocol JSON (lsp_server.wire): camelCase, every field the clients show."""

from __future__ import annotations

from agent_core.messages import Message, ToolCall, Usage
from agent_core.sessions import SessionInfo
from lsp_server import wire


def message_to_protocol(message: Message) -> dict:
    return wire.TranscriptMessage.of(message).wire()


def transcript_to_protocol(messages: list[Message]) -> list[dict]:
    return [entry.wire() for entry in wire.transcript(messages)]


def session_info_to_protocol(info: SessionInfo) -> dict:
    return wire.SessionInfo.of(info).wire()


def usage_to_protocol(usage: Usage | None) -> dict:
    return wire.TokenUsage.of(usage).wire()


def test_assistant_message_with_tool_calls() -> None:
    message = Message(
        role="assistant",
        content="Reading it.",
        interrupted=True,
        tool_calls=[ToolCall(id="c1", name="read_file", arguments={"path": "a.py"})],
    )
    entry = message_to_protocol(message)
    assert entry == {
        "id": message.id,
        "role": "assistant",
        "content": "Reading it.",
        "toolCalls": [{"id": "c1", "name": "read_file", "arguments": {"path": "a.py"}}],
        "isError": False,
        "interrupted": True,
        "kind": "chat",
        "created": message.created,
    }


def test_tool_result_and_feedback_keep_their_links_and_kind() -> None:
    result = message_to_protocol(
        Message(role="tool", content="boom", tool_call_id="c1", name="run_command", is_error=True)
    )
    assert result["toolCallId"] == "c1" and result["name"] == "run_command" and result["isError"] is True
    feedback = message_to_protocol(Message(role="user", kind="edit_feedback", content="too long"))
    assert feedback["kind"] == "edit_feedback" and "toolCallId" not in feedback


def test_system_prompt_is_not_part_of_the_transcript() -> None:
    messages = [Message(role="system", content="secret rules"), Message(role="user", content="hi")]
    assert [e["role"] for e in transcript_to_protocol(messages)] == ["user"]


def test_session_info_and_usage() -> None:
    info = SessionInfo(id="s1", title="Fix", created=1.0, updated=2.0, message_count=3, preview="fix it")
    assert session_info_to_protocol(info) == {
        "id": "s1",
        "title": "Fix",
        "created": 1.0,
        "updated": 2.0,
        "messageCount": 3,
        "preview": "fix it",
    }
    broken = SessionInfo(id="s2", title="", created=1.0, updated=1.0, message_count=0, preview="", error="bad json")
    assert session_info_to_protocol(broken)["error"] == "bad json"
    assert usage_to_protocol(Usage(input_tokens=5, output_tokens=6)) == {"inputTokens": 5, "outputTokens": 6}
    assert usage_to_protocol(None) == {"inputTokens": 0, "outputTokens": 0}
