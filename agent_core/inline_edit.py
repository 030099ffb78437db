"""Inline edit: ask the model for the replacement text of one range, streamed.

The editor selects a range and gives an instruction; the model answers with *only* the new text
for that range (no tools, no explanation). The text streams to the front end as
:class:`~agent_core.events.TextDelta` events so the user watches the proposal appear, and the
front end decides what to do with the final text (preview, accept, reject).

Small and chat-tuned models wrap code in Markdown fences even when told not to; a stray fence
pasted into a source file is one of the most common complaints about inline AI edits. The
:class:`FenceFilter` removes an opening fence line and its closing fence *while streaming*, so the
deltas the user saw add up exactly to the text that is returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent_core.events import Notice, RetryScheduled, StreamFinished, TextDelta, UsageReported
from agent_core.exceptions import AgentError
from agent_core.host import Host
from agent_core.messages import Message
from agent_core.providers.base import ChatRequest, Provider

#: Lines of context shown to the model on each side of the range.
CONTEXT_LINES = 60

SYSTEM_PROMPT = (
    "You edit one region of a file. You are shown the file's path, the text around the region, "
    "the region itself between <region> and </region>, and an instruction. Reply with only the "
    "new text that replaces the region: no explanation, no Markdown code fences, no text from "
    "outside the region. Keep the surrounding indentation style. If the region is empty, reply "
    "with the text to insert at that point."
)

_FENCE = "```"
_TRAILING_HOLD = re.compile(r"[\s`]*\Z")


class InlineEditError(AgentError):
    """The model's answer cannot be used as a proposal (e.g. it was cut by the output limit)."""


@dataclass(frozen=True)
class InlineEditRequest:
    """One inline edit: the range's text, what is around it, and what the user wants."""

    instruction: str
    #: The file's path as the user knows it (relative to the workspace when possible).
    path: str
    before: str
    selection: str
    after: str
    language: str | None = None
    #: What the user said about earlier rejected proposals, oldest first, so the model does not
    #: propose the same thing again.
    feedback: tuple[str, ...] = ()
    max_tokens: int = 4096


def build_messages(request: InlineEditRequest) -> list[Message]:
    """The system prompt and one user message holding context, region and instruction."""
    before = "\n".join(request.before.split("\n")[-CONTEXT_LINES:])
    after = "\n".join(request.after.split("\n")[:CONTEXT_LINES])
    parts = [f"File: {request.path}" + (f" ({request.language})" if request.language else "")]
    parts.append(f"Text before the region:\n{before}" if before else "The region starts the file.")
    parts.append(f"<region>{request.selection}</region>")
    parts.append(f"Text after the region:\n{after}" if after else "The region ends the file.")
    if request.feedback:
        notes = "\n".join(f"- {note}" for note in request.feedback)
        parts.append(f"Earlier proposals the user rejected, with their reasons:\n{notes}")
    parts.append(f"Instruction: {request.instruction}")
    return [
        Message(role="system", content=SYSTEM_PROMPT),
        Message(role="user", content="\n\n".join(parts)),
    ]


class FenceFilter:
    """Streams text through, dropping a Markdown fence that wraps the whole answer.

    The head is held until its first line is complete (or clearly not a fence); a tail made only
    of whitespace and backticks is held until more text proves it is content or the stream ends.
    :meth:`finish` also makes the answer end in a newline exactly when the selection did, because
    a fence's closing line otherwise adds or drops the region's last line break.
    """

    def __init__(self, selection: str) -> None:
        self._enabled = not selection.lstrip().startswith(_FENCE)
        #: The line break the answer must end with ("" when the selection ends mid-line).
        self._line_end = "\r\n" if selection.endswith("\r\n") else "\n" if selection.endswith("\n") else ""
        self._head_done = not self._enabled
        self._head = ""
        self._opened = False
        self._tail = ""

    def feed(self, text: str) -> str:
        if not self._head_done:
            self._head += text
            text = self._resolve_head(final=False)
            if not self._head_done:
                return ""
        pending = self._tail + text
        hold = _TRAILING_HOLD.search(pending)
        cut = hold.start() if hold else len(pending)
        self._tail = pending[cut:]
        return pending[:cut]

    def finish(self) -> str:
        """The held-back end of the answer, with a closing fence removed."""
        out = ""
        if not self._head_done:
            out = self._resolve_head(final=True)
        tail = self._tail + out
        if self._opened:
            stripped = tail.rstrip()
            if stripped.endswith(_FENCE):
                tail = stripped[: -len(_FENCE)]
        # Everything passed on so far ends in a non-space character, so the tail alone decides
        # how the answer ends.
        if self._line_end:
            if not tail.endswith("\n"):
                tail += self._line_end
        else:
            tail = tail.rstrip("\r\n")
        self._tail = ""
        return tail

    def _resolve_head(self, *, final: bool) -> str:
        """Decide whether the head is an opening fence; return the text to pass on."""
        head = self._head
        stripped = head.lstrip()
        if stripped.startswith(_FENCE):
            newline = stripped.find("\n")
            if newline < 0 and not final:
                return ""
            self._head_done = True
            self._head = ""
            self._opened = newline >= 0
            return stripped[newline + 1 :] if newline >= 0 else head
        if not final and _FENCE.startswith(stripped):
            return ""
        self._head_done = True
        self._head = ""
        return head


async def propose(provider: Provider, request: InlineEditRequest, host: Host) -> str:
    """Stream a replacement for the request's region and return it.

    ``host`` is the edit's own (its turn's): text deltas (already fence-filtered), retries and
    usage are reported to it, and the deltas' text adds up exactly to the result. Raises
    :class:`~agent_core.providers.base.ProviderError` when the provider fails and
    :class:`InlineEditError` when the answer was cut by the output limit (a truncated proposal
    must never be applied). Cancelling the calling task stops the stream.
    """
    chat = ChatRequest(messages=build_messages(request), tools=[], max_tokens=request.max_tokens)
    fences = FenceFilter(request.selection)
    parts: list[str] = []

    def emit(text: str) -> None:
        if text:
            parts.append(text)
            host.report(TextDelta(text=text))

    async for event in provider.stream(chat):
        if isinstance(event, TextDelta):
            emit(fences.feed(event.text))
        elif isinstance(event, (RetryScheduled, UsageReported, Notice)):
            host.report(event)
        elif isinstance(event, StreamFinished) and event.stop_reason == "max_tokens":
            raise InlineEditError(
                "the proposal was cut off by the output limit (maxTokens); select a smaller range or raise maxTokens"
            )
    emit(fences.finish())
    return "".join(parts)
