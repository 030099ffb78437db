"""Token counts without a tokenizer: provider-reported usage where known, bytes/4 for the rest.

Offline tokenizers download vocabularies at run time, which this product cannot rely on, and
each provider tokenizes differently anyway. So, like Codex, we estimate one token per four bytes
of UTF-8 and correct the estimate with what the provider actually reported: the ``usage`` of an
assistant message says exactly how many tokens the request that produced it cost. The correction
only ever raises the estimate (see :class:`TokenCounter` for why).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from agent_core.messages import Message
from agent_core.providers.base import ToolSpec

#: Tokens a provider spends on a message beyond its text (role markers, separators).
MESSAGE_OVERHEAD = 4


def estimate_text(text: str) -> int:
    """Tokens for ``text``: one per four bytes of UTF-8, rounded up."""
    return (len(text.encode("utf-8")) + 3) // 4


def estimate_message(message: Message) -> int:
    """Tokens for one message: its text, its tool calls as JSON, and a fixed overhead."""
    tokens = MESSAGE_OVERHEAD + estimate_text(message.content)
    for call in message.tool_calls:
        tokens += estimate_text(call.name) + estimate_text(json.dumps(call.arguments, ensure_ascii=False))
    if message.tool_call_id:
        tokens += estimate_text(message.tool_call_id)
    return tokens


def estimate_messages(messages: Sequence[Message]) -> int:
    return sum(estimate_message(message) for message in messages)


def estimate_tools(tools: Sequence[ToolSpec]) -> int:
    """Tokens the tool definitions take in every request (the ``brief`` only replaces the
    description in the compact form, which is shorter still)."""
    return sum(estimate_text(tool.model_dump_json(exclude={"brief"})) for tool in tools)


@dataclass(frozen=True)
class KnownPrefix:
    """Provider-measured size of the start of a conversation.

    ``count`` messages from the start cost ``tokens`` tokens: the request that produced an
    assistant message (its ``usage.input_tokens``) plus that message itself (``output_tokens``).
    """

    count: int
    tokens: int


def known_prefix(messages: Sequence[Message]) -> KnownPrefix | None:
    """The longest prefix of ``messages`` whose size the provider reported, if any.

    Only valid when the request that produced that assistant message carried every message
    before it (it was not truncated); the caller decides whether that holds.
    """
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role == "assistant" and message.usage is not None and message.usage.input_tokens > 0:
            return KnownPrefix(index + 1, message.usage.input_tokens + message.usage.output_tokens)
    return None


#: The most provider usage may raise the estimate: more than this means the usage describes
#: something else (another request, a server's odd accounting), not a different tokenizer.
MAX_SCALE = 4.0


class TokenCounter:
    """Counts messages with the bytes/4 estimate, corrected upwards by provider usage.

    The scale is measured on the known prefix (reported tokens / estimated tokens) and applied to
    every estimate, so a conversation full of code, where a token is fewer than four bytes, is
    counted close to what the provider sees, including the messages it has not measured yet.
    Usage only ever raises the count: providers can under-report input (prompt caching counts
    cached tokens separately, some servers leave parts out), and an undercount is the one error
    that makes the provider reject the request.
    """

    def __init__(self, messages: Sequence[Message], known: KnownPrefix | None, *, fixed_tokens: int = 0) -> None:
        self.messages = list(messages)
        self.scale = 1.0
        self._prefix_count = 0
        self._prefix_tokens = 0
        if known is not None and 0 < known.count <= len(messages):
            # The reported input also paid for the tool definitions, which are not messages.
            measured = known.tokens - fixed_tokens
            estimated = estimate_messages(messages[: known.count])
            if measured > estimated > 0:
                self.scale = min(MAX_SCALE, measured / estimated)
                self._prefix_count = known.count
                self._prefix_tokens = measured

    def message(self, message: Message) -> int:
        return max(1, round(estimate_message(message) * self.scale))

    def total(self) -> int:
        """The whole list (without tool definitions): the measured prefix at its reported size
        when that is larger than its scaled estimate, the rest estimated and scaled."""
        prefix = self.messages[: self._prefix_count]
        rest = self.messages[self._prefix_count :]
        return max(self._prefix_tokens, sum(map(self.message, prefix))) + sum(map(self.message, rest))
