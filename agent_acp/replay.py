"""A saved session -> the ``session/update`` notifications that show it again (``session/load``).

ACP's ``session/load`` must replay the *whole* conversation before it answers, so the editor's
thread looks as it did when the session was written, by this front end or any other (a session
started in VS Code opens in Zed). Each saved message becomes what a live turn sent: the user's
prompt as a user message chunk, the model's text as an agent message chunk, each tool call as a
``tool_call`` and its result as the ``tool_call_update`` that completed (or failed) it. A
``/compact`` summary is shown as what it is. Chunks carry their message's id, so two messages in
a row stay two messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from acp.schema import AgentMessageChunk, TextContentBlock, UserMessageChunk

from agent_acp import tool_calls
from agent_acp.outbox import Update
from agent_core.messages import Message

SUMMARY_HEADING = "Summary of the earlier conversation (/compact):\n\n"
INTERRUPTED_NOTE = "\n\n*(interrupted)*"


def replay(messages: Sequence[Message], workspace: Path) -> Iterator[Update]:
    """The updates that show ``messages`` (a session's whole history) in order."""
    names: dict[str, str] = {}
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "user":
            if message.kind == "summary":
                yield _agent(message.id, SUMMARY_HEADING + message.content)
            else:
                yield UserMessageChunk(
                    session_update="user_message_chunk",
                    message_id=message.id,
                    content=TextContentBlock(type="text", text=message.content),
                )
        elif message.role == "assistant":
            if message.content:
                note = INTERRUPTED_NOTE if message.interrupted else ""
                yield _agent(message.id, message.content + note)
            for call in message.tool_calls:
                names[call.id] = call.name
                yield tool_calls.described(call, workspace, status="in_progress")
        elif message.role == "tool" and message.tool_call_id is not None:
            name = message.name or names.get(message.tool_call_id, "tool")
            yield tool_calls.finished(message.tool_call_id, name, message.content, message.is_error, [])


def _agent(message_id: str, text: str) -> AgentMessageChunk:
    return AgentMessageChunk(
        session_update="agent_message_chunk", message_id=message_id, content=TextContentBlock(type="text", text=text)
    )
