"""pygls' LSP protocol with one addition: ``$/cancelRequest`` also stops a running turn.

pygls handles ``$/cancelRequest`` by cancelling the handler of a request still in flight. Our
turn-starting commands answer at once (``{turnId}``), so by the time an editor cancels (Neovim's
``client:cancel_request(id)``, any client's "cancel the last request" key) the request is long
answered and pygls would only log "unknown message id". The turn started by that request is what
the user wants stopped, so the server's :meth:`cancel_request_turn` is asked too.
"""

from __future__ import annotations

from typing import Any, Protocol

from pygls.protocol import LanguageServerProtocol


class _CancelsTurns(Protocol):
    def cancel_request_turn(self, request_id: Any) -> bool: ...


class AgentProtocol(LanguageServerProtocol):
    def _handle_cancel_notification(self, msg_id: Any) -> None:
        server: _CancelsTurns = self._server  # type: ignore[assignment]
        if server.cancel_request_turn(msg_id):
            return
        super()._handle_cancel_notification(msg_id)
