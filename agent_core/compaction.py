"""``/compact``: summarise the conversation with the model into one boundary record.

Like Claude Code, the history is never rewritten: the summary is *appended* as a ``summary``
message, and from then on the model is sent only the latest summary and what follows it
(:meth:`agent_core.agent.Agent.history`). The session file keeps every original message, so
export and review still show everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from agent_core.events import Event, Notice, RetryScheduled, TextDelta
from agent_core.exceptions import AgentError
from agent_core.messages import Message
from agent_core.providers.base import ChatRequest, Provider
from agent_core.tokens import estimate_text

SUMMARY_INSTRUCTIONS = (
    "You summarise a conversation between a user and a coding agent so the agent can continue "
    "the work without the original messages. Keep: the user's goals and requests, decisions "
    "made, files read or changed (with paths), commands run and their outcome, errors still open, "
    "and what was about to happen next. Be concise and factual; use short bullet points."
)

#: A tool result longer than this is cut in the transcript given to the summariser: the model
#: needs to know what a tool returned, rarely every line of it.
RESULT_CHARS = 2000


class CompactionError(AgentError):
    """The model gave no usable summary; nothing was appended."""


def transcript(messages: Sequence[Message]) -> str:
    """The conversation as plain text for the summariser (tool calls and results included)."""
    lines: list[str] = []
    for message in messages:
        if message.kind == "summary":
            lines.append(f"Summary of earlier conversation:\n{message.content}")
        elif message.role == "user":
            lines.append(f"User: {message.content}")
        elif message.role == "assistant":
            if message.content:
                lines.append(f"Assistant: {message.content}" + (" [interrupted]" if message.interrupted else ""))
            for call in message.tool_calls:
                lines.append(f"Assistant called {call.name}({json.dumps(call.arguments, ensure_ascii=False)})")
        elif message.role == "tool":
            body = message.content
            if len(body) > RESULT_CHARS:
                body = body[: RESULT_CHARS // 2] + "\n[...]\n" + body[-RESULT_CHARS // 2 :]
            status = " (error)" if message.is_error else ""
            lines.append(f"Result of {message.name or 'tool'}{status}: {body}")
    return "\n\n".join(lines)


def _fit_text(text: str, tokens: int) -> str:
    """Keep the end of ``text`` (the most recent part) within about ``tokens`` tokens."""
    if estimate_text(text) <= tokens:
        return text
    keep = max(0, tokens * 4 - 100)
    return "[...the oldest part of the conversation is cut here...]\n" + text.encode("utf-8")[-keep:].decode(
        "utf-8", "ignore"
    )


async def summarise(
    provider: Provider,
    messages: Sequence[Message],
    *,
    context_window: int,
    max_tokens: int,
    report: Callable[[Event], None],
) -> Message:
    """Ask the model for a summary of ``messages``; return the ``summary`` message to append.

    Retries are reported through ``report`` (the provider is the retrying one); the summary text
    itself is not streamed to the user, who gets one notice when it is done.
    """
    budget = max(1000, context_window - max_tokens - estimate_text(SUMMARY_INSTRUCTIONS) - 200)
    request = ChatRequest(
        messages=[
            Message(role="system", content=SUMMARY_INSTRUCTIONS),
            Message(role="user", content="Summarise this conversation:\n\n" + _fit_text(transcript(messages), budget)),
        ],
        tools=[],
        max_tokens=max_tokens,
    )
    parts: list[str] = []
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        elif isinstance(event, (RetryScheduled, Notice)):
            report(event)
    text = "".join(parts).strip()
    if not text:
        raise CompactionError("The model returned an empty summary; the conversation was left as it was.")
    return Message(
        role="user",
        kind="summary",
        content=f"[Summary of the conversation so far, replacing {len(messages)} earlier messages]\n{text}",
    )
