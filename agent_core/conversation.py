"""Keeping a conversation valid for every provider, whatever happened to the last turn.

Both wire formats reject a request where a tool call has no result or a result has no call
(Anthropic: "tool_use ids were found without tool_result blocks"; OpenAI: "messages with role
'tool' must be a response to a preceding message with 'tool_calls'"). A cancel, a broken stream,
a crash or truncation can each leave one of those behind, so :func:`repair` runs before every
request, and :class:`PartialReply` turns a half-streamed reply into messages that keep the
conversation valid (the partial text kept and marked ``interrupted``, incomplete calls dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_core.events import (
    ProviderEvent,
    StreamFinished,
    TextDelta,
    ToolCallReady,
    ToolCallStarted,
    UsageReported,
)
from agent_core.exceptions import AgentError
from agent_core.messages import Message, ToolCall, Usage

#: The text of a synthetic result: the model reads it, so it says what happened and what not.
INTERRUPTED_RESULT = "Interrupted: this tool call did not finish (the turn was stopped), so it has no result."
NOT_RUN_RESULT = "Not run: the turn was stopped before this tool call started."


class RequestNotSendable(AgentError):
    """The conversation cannot be turned into a request (for example it does not fit the context
    window). The message is for the user; the loop ends the turn with it as the error.

    ``agent_core.truncation.ContextOverflowError`` subclasses this, so the loop needs no import
    of the truncation module.
    """


def interrupted_result(
    call: ToolCall, text: str = INTERRUPTED_RESULT, *, created: float | None = None, message_id: str | None = None
) -> Message:
    """A synthetic result for ``call``: an error result marked ``interrupted``.

    By default the id is derived from the call id so repairing the same conversation twice gives
    the same messages (repair stays a pure function of its input); a result that is saved gets a
    fresh ``message_id`` instead, since call ids are not unique across every provider.
    """
    message = Message(
        id=message_id or f"interrupted-{call.id}",
        role="tool",
        content=text,
        tool_call_id=call.id,
        name=call.name,
        is_error=True,
        interrupted=True,
    )
    if created is not None:
        message.created = created
    return message


def repair(messages: list[Message]) -> list[Message]:
    """Return a copy of ``messages`` in which every tool call has exactly one result right after
    its assistant message, and every tool result answers a call of the assistant message before it.

    - a call without a result gets a synthetic ``interrupted`` result;
    - a result whose call is gone (truncated away, or never made) is dropped, as is a second
      result for the same call;
    - results are put in the order of the calls (both providers accept that order).

    The input list and its messages are not modified.
    """
    repaired: list[Message] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        index += 1
        if message.role == "tool":
            continue  # a result not directly after its assistant message: orphan
        repaired.append(message)
        if message.role != "assistant" or not message.tool_calls:
            continue
        wanted = {call.id for call in message.tool_calls}
        results: dict[str, Message] = {}
        while index < len(messages) and messages[index].role == "tool":
            result = messages[index]
            index += 1
            if result.tool_call_id in wanted and result.tool_call_id not in results:
                results[result.tool_call_id] = result
        for call in message.tool_calls:
            repaired.append(results.get(call.id) or interrupted_result(call, created=message.created))
    return repaired


@dataclass
class PartialReply:
    """What one model response has streamed so far, so it can be kept however the stream ends.

    Fed every provider event through :meth:`add`; :meth:`message` builds the assistant message
    (complete or interrupted) from it.
    """

    text: list[str] = field(default_factory=list)
    #: Calls announced by ``ToolCallStarted`` by index, kept to tell which calls never completed.
    started: dict[int, ToolCall] = field(default_factory=dict)
    #: Calls whose arguments arrived completely, in the order they became ready.
    ready: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    stop_reason: str | None = None

    def add(self, event: ProviderEvent) -> None:
        if isinstance(event, TextDelta):
            self.text.append(event.text)
        elif isinstance(event, ToolCallStarted):
            self.started[event.index] = ToolCall(id=event.id, name=event.name)
        elif isinstance(event, ToolCallReady):
            if all(call.id != event.call.id for call in self.ready):
                self.ready.append(event.call)
        elif isinstance(event, UsageReported):
            self.usage = event.usage  # cumulative: the latest value is the total
        elif isinstance(event, StreamFinished):
            self.stop_reason = event.stop_reason

    @property
    def has_output(self) -> bool:
        return bool(self.text) or bool(self.ready)

    @property
    def dropped_calls(self) -> list[ToolCall]:
        """Calls that started streaming but never completed (their arguments are unusable)."""
        ready_ids = {call.id for call in self.ready}
        return [call for call in self.started.values() if call.id not in ready_ids]

    def message(self, *, interrupted: bool) -> Message | None:
        """The assistant message for this reply, or None when nothing worth keeping arrived
        (an empty assistant message is rejected by Anthropic, and says nothing anyway)."""
        if not self.has_output:
            return None
        return Message(
            role="assistant",
            content="".join(self.text),
            tool_calls=list(self.ready),
            interrupted=interrupted,
            usage=self.usage,
        )
