"""The agent loop: one user turn, as many model rounds and tool calls as it takes.

Each round sends the conversation (through ``prepare`` for truncation and the system prompt,
then ``repair``), streams the reply to the front end, saves the reply the moment it is complete,
runs the tools it asks for in order and saves each result the moment it exists, so a crash or cancel
at any point loses at most the step in flight. Every way a turn can stop (the model is done, the
round limit, a provider error, a request that cannot be sent, a cancel, the task itself being
cancelled at shutdown) ends in a conversation that is valid for the next request: partial text
kept as an ``interrupted`` message, half-streamed tool calls dropped, and every call that has no
result given a synthetic ``interrupted`` one.

Cancelling is prompt because each step (the stream, one tool) runs as its own task, and
:meth:`AgentLoop.cancel` cancels that task: the HTTP response is closed by the provider's
generator as the cancellation passes through it, and ``run_command`` kills its process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from agent_core.config import AgentConfig
from agent_core.conversation import (
    INTERRUPTED_RESULT,
    NOT_RUN_RESULT,
    PartialReply,
    interrupted_result,
    repair,
)
from agent_core.events import Event, MessageAdded, StopReason, ToolFinished, ToolStarted, TurnEnded
from agent_core.exceptions import AgentError
from agent_core.host import Host
from agent_core.messages import Message, ToolCall, Usage, new_id
from agent_core.providers.base import ChatRequest, Provider
from agent_core.tools import ToolOutcome, ToolRegistry

T = TypeVar("T")

logger = logging.getLogger(__name__)


class _Cancelled(Exception):
    """Raised inside the loop when :meth:`AgentLoop.cancel` stopped the current step."""


@dataclass
class _Turn:
    """What recovery needs to know about the turn in progress."""

    turn_id: str
    messages: list[Message]
    usage: Usage = field(default_factory=Usage)
    #: The reply being streamed, while it streams.
    partial: PartialReply | None = None
    #: Calls of the last reply that have no result yet, in order; the first may be running.
    pending: list[ToolCall] = field(default_factory=list)
    running: ToolCall | None = None


class AgentLoop:
    """Runs turns of one conversation against one provider and one set of tools."""

    def __init__(
        self,
        provider: Provider,
        tools: ToolRegistry,
        host: Host,
        config: AgentConfig,
        on_message: Callable[[Message], None],
        prepare: Callable[[list[Message]], list[Message]] | None = None,
    ) -> None:
        self.provider = provider
        self.tools = tools
        self.host = host
        self.config = config
        self._on_message = on_message
        self._prepare = prepare
        self._turn: _Turn | None = None
        self._step_task: asyncio.Task[Any] | None = None
        self._cancel_requested = False

    @property
    def running(self) -> bool:
        return self._turn is not None

    def cancel(self) -> bool:
        """Stop the running turn (its stream or tool) now; False when no turn is running.
        Safe to call from any task of the loop's event loop, any number of times."""
        if self._turn is None:
            return False
        self._cancel_requested = True
        if self._step_task is not None:
            self._step_task.cancel()
        return True

    async def run_turn(self, messages: list[Message], turn_id: str) -> TurnEnded:
        """Run one turn on ``messages`` (ending with the new, already saved user message),
        appending and saving every new message; returns how it ended (the caller, not the
        loop, tells the front end)."""
        if self._turn is not None:
            raise RuntimeError("A turn is already running on this conversation.")
        turn = _Turn(turn_id, messages)
        self._turn = turn
        self._cancel_requested = False
        try:
            try:
                stop_reason, error = await self._rounds(turn)
            except asyncio.CancelledError:
                # The caller's task was cancelled (shutdown): leave a valid conversation behind
                # and let the cancellation go on (a failed save cannot stop it).
                with contextlib.suppress(Exception):
                    self._recover(turn)
                raise
            except _Cancelled:
                stop_reason, error = "cancelled", None
            except AgentError as failure:  # provider errors, a request that cannot be sent
                stop_reason, error = "error", str(failure)
            except Exception as failure:  # a bug or a failed save must not take the front end down
                logger.exception("turn %s failed", turn_id)
                stop_reason, error = "error", f"Internal error: {type(failure).__name__}: {failure}"
            try:
                self._recover(turn)  # nothing to do unless the turn stopped mid-step
            except Exception as failure:
                logger.exception("saving the interrupted turn %s failed", turn_id)
                stop_reason, error = "error", error or f"Could not save the interrupted turn: {failure}"
            return TurnEnded(turn_id=turn.turn_id, stop_reason=stop_reason, usage=turn.usage, error=error)
        finally:
            self._turn = None
            self._step_task = None
            self._cancel_requested = False

    async def _rounds(self, turn: _Turn) -> tuple[StopReason, str | None]:
        await self._step(self.tools.start_turn(turn.turn_id))  # MCP servers started (cancellable)
        for _ in range(self.config.max_rounds):
            request = self._request(turn.messages)
            partial = PartialReply()
            turn.partial = partial
            await self._step(self._stream(request, partial))
            turn.partial = None
            self._settle(turn, partial, interrupted=False)
            if not partial.ready:
                return ("max_tokens" if partial.stop_reason == "max_tokens" else "end_turn"), None
            turn.pending = list(partial.ready)
            while turn.pending:
                call = turn.pending[0]
                outcome = await self._step(self._run_tool(call, turn))
                turn.running = None
                turn.pending.pop(0)
                self._add_result(turn, call, outcome.output, outcome.is_error)
        return "max_rounds", None

    def _request(self, messages: list[Message]) -> ChatRequest:
        """The request for the next round. ``prepare`` (the facade's truncation) owns the system
        prompt; without one, ``config.system_prompt`` is sent when set."""
        conversation = self._prepare(list(messages)) if self._prepare is not None else list(messages)
        prompt = self.config.system_prompt
        if prompt and (not conversation or conversation[0].role != "system"):
            conversation.insert(0, Message(id="system", role="system", content=prompt))
        return ChatRequest(messages=repair(conversation), tools=self.tools.specs(), max_tokens=self.config.max_tokens)

    async def _step(self, work: Coroutine[Any, Any, T]) -> T:
        """Run one step as its own task so :meth:`cancel` can stop exactly that step."""
        if self._cancel_requested:
            work.close()
            raise _Cancelled()
        task = asyncio.ensure_future(work)
        self._step_task = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._cancel_requested and (current is None or current.cancelling() == 0):
                raise _Cancelled() from None
            raise
        finally:
            self._step_task = None

    async def _stream(self, request: ChatRequest, partial: PartialReply) -> None:
        stream = self.provider.stream(request)
        try:
            async for event in stream:
                partial.add(event)
                self._report(event)
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    async def _run_tool(self, call: ToolCall, turn: _Turn) -> ToolOutcome:
        turn.running = call

        def started() -> None:
            self._report(ToolStarted(call=call))

        try:
            return await self.tools.run(call, turn.turn_id, on_start=started)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # ToolRegistry.run promises not to raise; keep the turn alive if it does
            return ToolOutcome(f"{call.name} failed: {type(error).__name__}: {error}", True)

    def _recover(self, turn: _Turn) -> None:
        """Make the conversation valid after the turn stopped mid-step (see the module docstring)."""
        if turn.partial is not None:
            partial, turn.partial = turn.partial, None
            message = self._settle(turn, partial, interrupted=True)
            if message is not None:
                turn.pending = list(message.tool_calls)
        for call in turn.pending:
            text = INTERRUPTED_RESULT if call is turn.running else NOT_RUN_RESULT
            self._add_result(turn, call, text, True, interrupted=True)
        turn.pending = []
        turn.running = None

    def _settle(self, turn: _Turn, partial: PartialReply, *, interrupted: bool) -> Message | None:
        """Turn what one response streamed into conversation: count its usage, leave out calls
        whose arguments never completed (telling the front end they ended), and add the
        assistant message, if there is one. Shared by a finished round and a stopped one."""
        if partial.usage is not None:
            turn.usage = turn.usage + partial.usage
        for call in partial.dropped_calls:
            output = "Dropped: the tool call's arguments did not arrive completely."
            self._report(ToolFinished(call_id=call.id, name=call.name, output=output, is_error=True))
        message = partial.message(interrupted=interrupted)
        if message is not None:
            self._add(turn, message)
        return message

    def _add(self, turn: _Turn, message: Message) -> None:
        turn.messages.append(message)
        self._on_message(message)
        self._report(MessageAdded(message=message))

    def _add_result(
        self, turn: _Turn, call: ToolCall, output: str, is_error: bool, *, interrupted: bool = False
    ) -> None:
        if interrupted:
            message = interrupted_result(call, output, message_id=new_id())
        else:
            message = Message(role="tool", content=output, tool_call_id=call.id, name=call.name, is_error=is_error)
        self._report(ToolFinished(call_id=call.id, name=call.name, output=output, is_error=is_error))
        self._add(turn, message)

    def _report(self, event: Event) -> None:
        self.host.report(event)
