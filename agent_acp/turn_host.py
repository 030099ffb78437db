"""The host of one prompt turn: core events in, ``session/update`` notifications out.

One :class:`TurnHost` is made for each ``session/prompt`` and handed to the agent with that turn,
so everything the turn does (its text, its tool calls, its questions, its edits) reaches the
session and the request it belongs to. It translates:

* text deltas -> ``agent_message_chunk``; retries -> ``agent_thought_chunk`` (they are not the
  model's answer, but the user should see why it pauses);
* a tool call -> ``tool_call`` as soon as the model starts it, ``tool_call_update`` with its title,
  files and arguments when they are complete, ``in_progress`` once approved, and ``completed`` or
  ``failed`` with its output (an edit keeps its diff above the output);
* notices -> message chunks (the answer of a slash command, warnings) or thought chunks (info
  during a model turn); an error notice that is also the turn's error is said once, by the
  prompt's error response;
* permission questions -> ``session/request_permission`` with allow once, allow always (for the
  session) and reject; an error or a dismissed question is a rejection, and a reason the client
  puts in the answer's ``_meta.reason`` goes back to the model.

It ends with :meth:`TurnHost.finish`, which turns the ``TurnEnded`` that ``Agent.submit`` returned
into the prompt's one response (usage included), after the turn's last update.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acp import RequestError
from acp.interfaces import Client
from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    AllowedOutcome,
    PermissionOption,
    PromptResponse,
    RequestPermissionResponse,
    StopReason,
    TextContentBlock,
    ToolCallUpdate,
    Usage,
    UsageUpdate,
)

from agent_acp import tool_calls
from agent_acp.client_files import ClientFiles
from agent_acp.deadline import NoAnswer, within
from agent_acp.errors import REQUEST_FAILED
from agent_acp.outbox import Outbox, Update
from agent_core.events import (
    Event,
    Notice,
    RetryScheduled,
    SessionChanged,
    TextDelta,
    ToolCallReady,
    ToolCallStarted,
    ToolFinished,
    ToolStarted,
    TurnEnded,
    UsageReported,
)
from agent_core.host import Decision, EditResult, PermissionRequest, PermissionResult, ProposedEdit
from agent_core.messages import Usage as CoreUsage
from agent_core.messages import new_id

logger = logging.getLogger(__name__)

ALLOW_ONCE = "allow_once"
ALLOW_ALWAYS = "allow_always"
REJECT = "reject"

PERMISSION_OPTIONS = [
    PermissionOption(option_id=ALLOW_ONCE, name="Allow once", kind="allow_once"),
    PermissionOption(option_id=ALLOW_ALWAYS, name="Allow for this session", kind="allow_always"),
    PermissionOption(option_id=REJECT, name="Reject", kind="reject_once"),
]
_DECISIONS = {ALLOW_ONCE: Decision.ALLOW_ONCE, ALLOW_ALWAYS: Decision.ALLOW_SESSION, REJECT: Decision.REJECT}

#: The core's stop reasons that ACP has a name for (``error`` is an error response instead).
STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end_turn",
    "cancelled": "cancelled",
    "max_tokens": "max_tokens",
    "max_rounds": "max_turn_requests",
}


@dataclass
class _Call:
    name: str
    #: Shown above the output when the call finishes (an applied edit's diff).
    before: list[tool_calls.Content] = field(default_factory=list)


class TurnHost:
    """The :class:`~agent_core.host.Host` of one prompt turn (see the module docstring).

    ``command`` says the prompt is a slash command, whose notices are its answer;
    ``approval_timeout`` bounds each permission question (``approvalTimeout``).
    """

    def __init__(
        self,
        session_id: str,
        workspace: Path,
        client: Client,
        outbox: Outbox,
        files: ClientFiles,
        *,
        command: bool,
        approval_timeout: float,
    ) -> None:
        self.session_id = session_id
        self.workspace = workspace
        self._client = client
        self._outbox = outbox
        self._files = files
        self._command = command
        self._approval_timeout = approval_timeout
        self._calls: dict[str, _Call] = {}
        #: Calls whose arguments are complete and that have no result yet, in the order the
        #: loop runs them: the first is the one asking permission or editing.
        self._waiting: list[str] = []
        self._held_errors: list[str] = []
        self._last_usage: CoreUsage | None = None

    # -- Host ----------------------------------------------------------------------------------

    async def read_file(self, path: Path) -> str | None:
        return await self._files.read(path)

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        result = await self._files.write(path, original, new_text)
        call_id = self._current_call()
        if result.applied and call_id is not None:
            diff: list[tool_calls.Content] = [tool_calls.diff_content(ProposedEdit(path, original, new_text))]
            self._calls[call_id].before = diff
            self._outbox.send(self.session_id, tool_calls.status_update(call_id, "in_progress", diff))
        return result

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        call_id = self._current_call() or new_id()
        if request.edit is not None:
            content: list[tool_calls.Content] = [tool_calls.diff_content(request.edit)]
        else:
            content = [tool_calls.output_content(request.tool, request.detail)]
        update = ToolCallUpdate(
            tool_call_id=call_id,
            title=request.title,
            kind=tool_calls.kind_of(request.tool),
            status="pending",
            content=content,
        )
        try:
            answer = await within(
                self._client.request_permission(
                    session_id=self.session_id, tool_call=update, options=PERMISSION_OPTIONS
                ),
                self._approval_timeout,
                "session/request_permission",
                "approvalTimeout",
            )
        except asyncio.CancelledError:
            raise
        except NoAnswer as error:
            logger.warning("%s", error)
            return PermissionResult(Decision.REJECT, f"{error}; treated as a rejection")
        except Exception as error:  # an error answer, a malformed one, or the client gone
            logger.warning("session/request_permission failed: %s", error)
            return PermissionResult(Decision.REJECT, f"the permission request failed in the editor: {error}")
        return read_answer(answer)

    def report(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._chunk(event.text)
        elif isinstance(event, ToolCallStarted):
            self._calls[event.id] = _Call(event.name)
            self._send(tool_calls.started(event.id, event.name))
        elif isinstance(event, ToolCallReady):
            self._ready(event)
        elif isinstance(event, ToolStarted):
            self._send(tool_calls.status_update(event.call.id, "in_progress"))
        elif isinstance(event, ToolFinished):
            self._finished(event)
        elif isinstance(event, UsageReported):
            self._last_usage = event.usage
        elif isinstance(event, RetryScheduled):
            self._thought(
                f"Retrying in {event.delay:.1f} s (attempt {event.attempt} of {event.max_attempts}): {event.reason}\n"
            )
        elif isinstance(event, Notice):
            self._notice(event)
        elif isinstance(event, SessionChanged):  # the commands that switch are refused before submit
            logger.error("the session changed to %s inside a turn of %s", event.session.id, self.session_id)

    # -- the end ---------------------------------------------------------------------------------

    def finish(self, ended: TurnEnded, context_window: Callable[[], int | None]) -> PromptResponse:
        """The prompt's response (every update of the turn is written by now); a turn that failed
        is an error response whose message says why (raises ``RequestError``). The usage update
        says how full the model's window (``context_window()`` tokens) was after the last reply."""
        for text in self._held_errors:
            if text != ended.error:
                self._chunk(f"\n\n**Error:** {text}\n")
        window = context_window() if self._last_usage is not None else None
        if self._last_usage is not None and window:
            used = self._last_usage.input_tokens + self._last_usage.output_tokens
            self._send(UsageUpdate(session_update="usage_update", used=used, size=window))
        if ended.stop_reason == "error":
            raise RequestError(REQUEST_FAILED, ended.error or "The turn failed.", {"stopReason": "error"})
        usage = ended.usage
        return PromptResponse(
            stop_reason=STOP_REASONS[ended.stop_reason],
            usage=Usage(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                total_tokens=usage.input_tokens + usage.output_tokens,
            ),
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _current_call(self) -> str | None:
        return self._waiting[0] if self._waiting else None

    def _ready(self, event: ToolCallReady) -> None:
        call = event.call
        if call.id in self._waiting:
            return
        self._waiting.append(call.id)
        if call.id not in self._calls:  # the provider announced it complete without a start
            self._calls[call.id] = _Call(call.name)
            self._send(tool_calls.described(call, self.workspace))
        else:
            self._send(tool_calls.detailed(call, self.workspace))

    def _finished(self, event: ToolFinished) -> None:
        if event.call_id in self._waiting:
            self._waiting.remove(event.call_id)
        call = self._calls.pop(event.call_id, None)
        if call is None:
            self._send(tool_calls.started(event.call_id, event.name))
            call = _Call(event.name)
        self._send(tool_calls.finished(event.call_id, event.name, event.output, event.is_error, call.before))

    def _notice(self, notice: Notice) -> None:
        if notice.level == "error":
            self._held_errors.append(notice.text)
        elif self._command:
            self._chunk(notice.text.rstrip("\n") + "\n")
        elif notice.level == "warning":
            self._chunk(f"\n\n**Warning:** {notice.text}\n\n")
        else:
            self._thought(notice.text.rstrip("\n") + "\n")

    def _chunk(self, text: str) -> None:
        if text:
            self._send(
                AgentMessageChunk(
                    session_update="agent_message_chunk", content=TextContentBlock(type="text", text=text)
                )
            )

    def _thought(self, text: str) -> None:
        self._send(
            AgentThoughtChunk(session_update="agent_thought_chunk", content=TextContentBlock(type="text", text=text))
        )

    def _send(self, update: Update) -> None:
        self._outbox.send(self.session_id, update)


def read_answer(answer: RequestPermissionResponse) -> PermissionResult:
    """The client's answer -> a decision; anything but a known "allow" option is a rejection."""
    meta = answer.field_meta or {}
    reason = meta.get("reason")
    reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
    outcome = answer.outcome
    if not isinstance(outcome, AllowedOutcome):
        return PermissionResult(Decision.REJECT, reason or "the question was dismissed in the editor")
    decision = _DECISIONS.get(outcome.option_id)
    if decision is None:
        return PermissionResult(Decision.REJECT, f"the editor answered an unknown option {outcome.option_id!r}")
    return PermissionResult(decision, reason if decision is Decision.REJECT else None)
