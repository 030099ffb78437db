"""The JSON-RPC errors this agent answers with, each with a message a user can act on.

ACP has no "error" stop reason: a turn that fails (no provider configured, the provider refused,
the session cannot be saved) answers its ``session/prompt`` with an error response whose message
is the reason, as every ACP client shows it. The codes are JSON-RPC's own; the messages say what
to do.
"""

from __future__ import annotations

from acp import RequestError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: A prompt turn that ended with an error (its message is the reason).
TURN_FAILED = -32603


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
