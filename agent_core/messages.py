"""The conversation model shared by providers, the loop, truncation and sessions.

One provider-neutral shape: each provider converts it to its wire format, sessions persist it
as JSON, and truncation reasons about it. Keeping it in one module means a new field is added
once and round-trips everywhere.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]

#: What a message is for, beyond its role: ``chat`` is an ordinary message, ``omission`` the note
#: truncation inserts where earlier messages were left out of a request, ``summary`` the boundary
#: record ``/compact`` appends, ``edit_feedback`` what the user said about an inline edit proposal.
MessageKind = Literal["chat", "omission", "summary", "edit_feedback"]


def new_id() -> str:
    """A short random id for messages, tool calls, turns and sessions."""
    return uuid.uuid4().hex[:16]


class Usage(BaseModel):
    """Token counts reported by a provider for one response (not summed across chunks)."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class ToolCall(BaseModel):
    """A complete tool call: arguments are parsed JSON, never a fragment."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Message(BaseModel):
    """One conversation message.

    ``interrupted`` marks an assistant message whose stream broke after output was shown
    (error, cancel, shutdown), and the synthetic result given to a tool call that never got a
    real one; both stay in the conversation so the next request is valid for every provider.
    """

    id: str = Field(default_factory=new_id)
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    #: For ``role == "tool"``: the id of the call this result answers.
    tool_call_id: str | None = None
    #: For ``role == "tool"``: the tool's name (Anthropic does not need it, OpenAI logs show it).
    name: str | None = None
    is_error: bool = False
    interrupted: bool = False
    kind: MessageKind = "chat"
    created: float = Field(default_factory=time.time)
    #: Provider-reported usage of the response that produced this assistant message.
    usage: Usage | None = None
