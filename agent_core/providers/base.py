"""The provider interface and the one error type every provider raises.

A provider sends one request and yields :data:`agent_core.events.ProviderEvent` values; it never
retries (that happens in one place, :mod:`agent_core.retry`) and never prints.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from agent_core.events import ProviderEvent
from agent_core.exceptions import AgentError
from agent_core.messages import Message


class ToolSpec(BaseModel):
    """A tool as offered to the model: name, description, JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]
    #: A one-line description for the compact prompt of small models (None: use ``description``).
    brief: str | None = None


@dataclass
class ChatRequest:
    #: The conversation to send; a leading ``system`` message is the system prompt.
    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    max_tokens: int = 4096
    #: Server-specific fields added to the request body as they are (OpenAI-compatible servers
    #: only; the local provider constrains a reply with llama.cpp's ``json_schema``).
    extra: dict[str, Any] = field(default_factory=dict)


class ProviderError(AgentError):
    """Any failure of one provider request, classified once (see :mod:`agent_core.errors`).

    ``retryable`` says whether the retry layer may send the request again; ``retry_after`` is the
    server's requested wait in seconds when it gave one; ``output_started`` is True when text or a
    tool call had already been yielded (then it is never replayed silently).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        output_started: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.output_started = output_started


class Provider(Protocol):
    #: "openai", "anthropic" or "local"; shown in status.
    name: str
    model: str
    #: The model's context window in tokens when known (else None: truncation assumes 128k).
    context_window: int | None

    def stream(self, request: ChatRequest) -> AsyncIterator[ProviderEvent]:
        """One attempt. Raises :class:`ProviderError`; a stream that ends without the provider's
        end marker raises a retryable ``truncated`` error, never returns as success."""
        ...

    async def aclose(self) -> None:
        """Release connections (and, for the local provider, stop the embedded server)."""
        ...
