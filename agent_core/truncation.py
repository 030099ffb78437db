"""Fitting a conversation into the model's context window before every request.

The rules (Continue's, plus what broke in other agents):

- keep the system prompt, the first message of the conversation (the task as the user stated
  it, or the ``/compact`` summary that replaced the older history) and the most recent messages;
- drop the oldest of the rest first, and only at boundaries between *atomic groups*: an assistant
  message with tool calls and all its results stay together, so no request ever carries a call
  without its result or a result without its call (providers answer 400 to both);
- say in the conversation how many messages were left out, as a user-role note folded into a
  neighbouring user message so the roles still alternate the way Anthropic requires;
- when the part that is never dropped does not fit alone, raise :class:`ContextOverflowError`
  with a message the user can act on, instead of looping or silently dropping the latest message.

Nothing here mutates the caller's messages: the stored history is never rewritten.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent_core.conversation import RequestNotSendable
from agent_core.messages import Message
from agent_core.tokens import KnownPrefix, TokenCounter

#: Assumed when neither the config nor the provider knows the model's context window.
DEFAULT_CONTEXT_WINDOW = 128_000


class ContextOverflowError(RequestNotSendable):
    """The messages that are never dropped do not fit in the context window on their own."""


def omission_text(count: int) -> str:
    noun = "message was" if count == 1 else "messages were"
    return f"[Note: {count} earlier {noun} omitted here to fit the model's context window.]"


def atomic_groups(messages: Sequence[Message]) -> list[list[Message]]:
    """Split ``messages`` into the smallest runs that can be dropped without breaking a pair.

    An assistant message with tool calls takes every tool result that directly follows it;
    every other message is a group of its own.
    """
    groups: list[list[Message]] = []
    for message in messages:
        if message.role == "tool" and groups and groups[-1][0].role == "assistant" and groups[-1][0].tool_calls:
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups


def merge_user_runs(messages: Sequence[Message]) -> list[Message]:
    """Fold consecutive user messages into one, so user and assistant turns alternate.

    Runs arise from the omission note, a ``/compact`` summary followed by the next prompt, or a
    prompt sent after a failed turn. The merged message keeps the first one's id and takes the
    kind ``omission`` or ``summary`` if any part had it (so the note stays recognisable).
    """
    merged: list[Message] = []
    for message in messages:
        if merged and message.role == "user" and merged[-1].role == "user":
            previous = merged[-1]
            kind = previous.kind
            if message.kind in ("omission", "summary") and kind not in ("omission", "summary"):
                kind = message.kind
            parts = [part for part in (previous.content, message.content) if part]
            merged[-1] = previous.model_copy(update={"content": "\n\n".join(parts), "kind": kind})
        else:
            merged.append(message)
    return merged


def fit(
    messages: Sequence[Message],
    *,
    context_window: int,
    reserve_tokens: int,
    min_recent: int,
    usage: KnownPrefix | None = None,
    fixed_tokens: int = 0,
) -> list[Message]:
    """Return the messages to send so that they fit ``context_window - reserve_tokens``.

    ``messages`` may start with the system prompt (role ``system``). ``usage`` is the
    provider-measured size of a prefix of ``messages`` (see :func:`agent_core.tokens.known_prefix`);
    ``fixed_tokens`` is what the request spends outside the messages (tool definitions).
    Raises :class:`ContextOverflowError` when even the never-dropped part does not fit.
    """
    budget = context_window - reserve_tokens - fixed_tokens
    counter = TokenCounter(messages, usage, fixed_tokens=fixed_tokens)
    if counter.total() <= budget:
        return merge_user_runs(messages)

    head: list[Message] = []
    rest = list(messages)
    if rest and rest[0].role == "system":
        head.append(rest.pop(0))
    groups = atomic_groups(rest)
    if groups and groups[0][0].role == "user":
        head.extend(groups.pop(0))  # the first message: the task, or the summary of older history

    # The newest groups holding at least ``min_recent`` messages are never dropped.
    required = 0
    recent_messages = 0
    while required < len(groups) and recent_messages < min_recent:
        required += 1
        recent_messages += len(groups[-required])

    def cost(group_list: Sequence[Sequence[Message]]) -> int:
        return sum(counter.message(m) for group in group_list for m in group)

    note_cost = counter.message(Message(role="user", content=omission_text(10**6), kind="omission"))
    head_cost = cost([head])
    kept = groups[len(groups) - required :]
    kept_cost = cost(kept)
    if head_cost + kept_cost + note_cost > budget:
        recent = f" and the {recent_messages} most recent message(s)" if recent_messages else ""
        raise ContextOverflowError(
            f"The conversation does not fit in the model's context window: the part that is never "
            f"left out (the system prompt, the first message{recent}) needs about "
            f"{head_cost + kept_cost + note_cost} tokens, but only {max(budget, 0)} are available "
            f"(context window {context_window}, minus {reserve_tokens} reserved for the reply"
            + (f" and {fixed_tokens} for tool definitions" if fixed_tokens else "")
            + "). Shorten the message, start a new session (/clear), or summarise the history "
            "(/compact)."
        )

    # Add older groups, newest first, while they fit.
    used = head_cost + kept_cost + note_cost
    start = len(groups) - required
    while start > 0:
        group_cost = cost([groups[start - 1]])
        if used + group_cost > budget:
            break
        used += group_cost
        start -= 1
    omitted = sum(len(group) for group in groups[:start])
    if omitted == 0:
        return merge_user_runs(messages)
    note = Message(role="user", content=omission_text(omitted), kind="omission")
    body = [m for group in groups[start:] for m in group]
    return merge_user_runs([*head, note, *body])
