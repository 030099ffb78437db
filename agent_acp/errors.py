"""The JSON-RPC errors this agent answers with, each with a message a user can act on.

ACP has no "error" stop reason: a turn that fails (no provider configured, the provider refused,
the session cannot be saved) answers its ``session/prompt`` with an error response whose message
is the reason, as every ACP client shows it. The codes are JSON-RPC's own; the messages say what
to do.

The boundary is :func:`answers_user_errors`, on every handler that reaches the core: an
:class:`~agent_core.exceptions.AgentError` (a message for the user) becomes an error response
with that message, logged without a traceback. Anything else is a bug: the SDK's connection logs
it with its traceback and answers ``-32603`` "Internal error", and keeps serving.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from acp import RequestError

from agent_core.exceptions import AgentError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: A request the core refused with a message for the user, or a prompt turn that ended with an
#: error (the message is the reason).
REQUEST_FAILED = -32603


def invalid_params(message: str) -> RequestError:
    return RequestError(INVALID_PARAMS, message)


def invalid_request(message: str) -> RequestError:
    return RequestError(INVALID_REQUEST, message)


def unknown_session(session_id: str) -> RequestError:
    return invalid_params(
        f"Unknown session {session_id!r}: start one with session/new or open a saved one with session/load."
    )


def busy(session_id: str) -> RequestError:
    return invalid_request(
        f"A prompt is already running in session {session_id}; wait for it to end or cancel it (session/cancel)."
    )


def not_initialized() -> RequestError:
    return invalid_request("The connection is not initialized: send initialize first.")


def answers_user_errors(handler: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """``handler`` with every :class:`AgentError` answered as an error response (see above)."""

    @functools.wraps(handler)
    async def answering(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await handler(*args, **kwargs)
        except AgentError as error:
            logger.warning("%s refused: %s", handler.__name__, error)
            raise RequestError(REQUEST_FAILED, str(error)) from None

    return answering
