"""Events: what providers yield and what the agent reports to a front end while it works.

Every event is a small class with a ``type`` tag, reported through the ``Host`` of the turn it
belongs to (or the agent's own host outside a turn): a pydantic model, except :class:`TextDelta`,
the one event per token, which is a slotted dataclass with the same fields. Provider events are a subset of
loop events: the loop passes text deltas, tool calls, usage and retries straight through.

A turn's start and end are not events: the front end that starts a turn announces it, and
:class:`TurnEnded` is what ``Agent.submit`` (and the loop) *return*, so each front end sends
exactly one end, from that value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from agent_core.messages import Message, ToolCall, Usage
from agent_core.sessions.session import SessionInfo

#: Why a turn ended. ``end_turn``: the model finished. ``cancelled``: cancel() or shutdown.
#: ``max_rounds``: the configured round limit was hit. ``max_tokens``: the reply was cut by the
#: provider's output limit. ``error``: a provider or configuration error (message in ``error``).
StopReason = Literal["end_turn", "cancelled", "max_rounds", "max_tokens", "error"]


@dataclass(slots=True, kw_only=True)
class TextDelta:
    """A piece of the reply's text. The one event yielded per token, so a slotted dataclass: a
    pydantic model costs about four times as much to build (0.9 against 0.24 microseconds)."""

    type: Literal["text_delta"] = "text_delta"
    text: str


class ToolCallStarted(BaseModel):
    """The model began a tool call; arguments are still streaming (shown early in UIs)."""

    type: Literal["tool_call_started"] = "tool_call_started"
    index: int
    id: str
    name: str


class ToolCallReady(BaseModel):
    """A tool call whose arguments arrived completely and parsed."""

    type: Literal["tool_call_ready"] = "tool_call_ready"
    call: ToolCall


class UsageReported(BaseModel):
    """Provider-reported usage for the current response; cumulative, never to be summed."""

    type: Literal["usage"] = "usage"
    usage: Usage


class StreamFinished(BaseModel):
    """The provider said the response is complete (finish_reason / message_stop)."""

    type: Literal["stream_finished"] = "stream_finished"
    #: Normalised: ``end_turn``, ``tool_use``, ``max_tokens``, or the provider's raw value.
    stop_reason: str


class RetryScheduled(BaseModel):
    """A transient failure; the request is sent again after ``delay`` seconds."""

    type: Literal["retry"] = "retry"
    attempt: int
    max_attempts: int
    delay: float
    reason: str


class ToolStarted(BaseModel):
    """A tool call passed approval (or needed none) and is now running."""

    type: Literal["tool_started"] = "tool_started"
    call: ToolCall


class ToolFinished(BaseModel):
    type: Literal["tool_finished"] = "tool_finished"
    call_id: str
    name: str
    output: str
    is_error: bool = False


class MessageAdded(BaseModel):
    """A complete message joined the conversation (and, with a session, was saved)."""

    type: Literal["message"] = "message"
    message: Message


#: How much a notice matters to the user.
NoticeLevel = Literal["info", "warning", "error"]


class Notice(BaseModel):
    """Something the user should read that is not model output (truncation, cleanup, commands)."""

    type: Literal["notice"] = "notice"
    level: NoticeLevel = "info"
    text: str


class SessionChanged(BaseModel):
    """The agent now works in another session (restored at start-up, loaded, new, forked, or
    switched by a slash command): a front end shows its history instead of the old one's."""

    type: Literal["session_changed"] = "session_changed"
    session: SessionInfo
    #: The whole history of the session, summary records included.
    messages: list[Message]


class TurnEnded(BaseModel):
    """How a turn ended: returned by the loop and by ``Agent.submit``, never reported."""

    type: Literal["turn_ended"] = "turn_ended"
    turn_id: str
    stop_reason: StopReason
    usage: Usage
    error: str | None = None


#: A provider may also yield a :class:`Notice` (the local model says a request waits for it).
ProviderEvent = TextDelta | ToolCallStarted | ToolCallReady | UsageReported | StreamFinished | RetryScheduled | Notice

Event = (
    TextDelta
    | ToolCallStarted
    | ToolCallReady
    | UsageReported
    | StreamFinished
    | RetryScheduled
    | ToolStarted
    | ToolFinished
    | MessageAdded
    | Notice
    | SessionChanged
)
