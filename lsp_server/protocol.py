"""pygls' LSP protocol with two additions at the edge where the editor's messages are read.

* ``$/cancelRequest`` also stops a running turn. pygls handles it by cancelling the handler of a
  request still in flight. Our turn-starting commands answer at once (``{turnId}``), so by the
  time an editor cancels (Neovim's ``client:cancel_request(id)``, any client's "cancel the last
  request" key) the request is long answered and pygls would only log "unknown message id". The
  turn started by that request is what the user wants stopped, so the server's
  :meth:`cancel_request_turn` is asked too.
* An answer to one of our requests that pygls cannot read (``[1, 2]`` for a
  ``window/showMessageRequest``) becomes an error answer to that request, so the question ends
  at once as a rejection instead of staying open until its bound (pygls would drop the message
  and report "Error in server").
* Every string the editor sends (document text, command arguments, prompt context) has its lone
  UTF-16 surrogates replaced with U+FFFD as it is decoded (see :mod:`agent_core.surrogates`), so
  half an emoji in a selection or a buffer never reaches a session file or a provider as text
  that UTF-8 cannot encode.
"""

from __future__ import annotations

from typing import Any, Protocol

from lsprotocol.types import ResponseError, ResponseErrorMessage
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

from agent_core.surrogates import valid_text


class _CancelsTurns(Protocol):
    def cancel_request_turn(self, request_id: Any) -> bool: ...


class AgentProtocol(LanguageServerProtocol):
    def _handle_cancel_notification(self, msg_id: Any) -> None:
        server: _CancelsTurns = self._server  # type: ignore[assignment]
        if server.cancel_request_turn(msg_id):
            return
        super()._handle_cancel_notification(msg_id)

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Called by ``json.loads`` for every object of a message, innermost first (so nested
        objects arrive here already cleaned)."""
        data = {valid_text(key): _valid(value) for key, value in data.items()}
        try:
            return super().structure_message(data)
        except JsonRpcException:
            if not _is_result(data):
                raise
            detail = repr(data.get("result"))[:200]
            return ResponseErrorMessage(
                id=data["id"],
                jsonrpc=data["jsonrpc"],
                error=ResponseError(
                    code=JsonRpcInvalidParams.CODE, message=f"the editor's answer could not be read: {detail}"
                ),
            )


def _is_result(data: dict[str, Any]) -> bool:
    """Whether ``data`` is a successful answer to a request we sent."""
    return "jsonrpc" in data and "id" in data and "method" not in data and "error" not in data


def _valid(value: Any) -> Any:
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, list):
        return [_valid(item) for item in value]
    return value
