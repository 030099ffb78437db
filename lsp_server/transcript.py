"""Core models -> the protocol's camelCase JSON (see docs/protocol.md).

Clients show transcripts, session listings and usage; they never see pydantic field names. This
module is the one place where the core's snake_case shapes become the protocol's shapes, so a field
added to :class:`~agent_core.messages.Message` is exposed here or nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agent_core.messages import Message, Usage
from agent_core.sessions.session import SessionInfo


def message_to_protocol(message: Message) -> dict[str, Any]:
    """A transcript entry: ``{id, role, content, toolCalls, toolCallId?, name?, isError,
    interrupted, kind, created}``."""
    entry: dict[str, Any] = {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "toolCalls": [
            {"id": call.id, "name": call.name, "arguments": call.arguments}
            for call in message.tool_calls
        ],
        "isError": message.is_error,
        "interrupted": message.interrupted,
        "kind": message.kind,
        "created": message.created,
    }
    if message.tool_call_id is not None:
        entry["toolCallId"] = message.tool_call_id
    if message.name is not None:
        entry["name"] = message.name
    return entry


def transcript_to_protocol(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """A whole conversation, in order. System prompts are internal and left out."""
    return [message_to_protocol(m) for m in messages if m.role != "system"]


def session_info_to_protocol(info: SessionInfo) -> dict[str, Any]:
    """``{id, title, created, updated, messageCount, preview}`` plus ``error`` for an unreadable
    session file (so the user sees it exists and why it cannot be opened)."""
    data = info.model_dump(mode="json", by_alias=True)
    if data.get("error") is None:
        data.pop("error", None)
    return data


def usage_to_protocol(usage: Usage | None) -> dict[str, int]:
    """``{inputTokens, outputTokens}`` (zeros when the provider reported nothing)."""
    usage = usage or Usage()
    return {"inputTokens": usage.input_tokens, "outputTokens": usage.output_tokens}
