"""Requests the server sends to the editor, always bounded in time.

An approval question (``agent/requestPermission``, ``window/showMessageRequest``) or an edit
(``workspace/applyEdit``) waits for the editor. A client that never answers (a plugin bug, a
dialog nobody sees) must not leave the turn running for ever, so every such request has a bound
(settings ``approvalTimeout`` and ``editTimeout``) after which it counts as refused: the server
tells the client to close its prompt (``$/cancelRequest``), forgets the request (a late answer is
ignored) and the caller reports why to the model. An answer that cannot be read is turned into an
error as it arrives (see :mod:`lsp_server.protocol`), so it does not wait for the bound either.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer


class NoAnswer(Exception):
    """The editor did not answer within the bound; the message says which request and setting."""


async def ask_client(server: LanguageServer, method: str, params: Any, *, timeout: float, setting: str) -> Any:
    """Send ``method`` and return the client's answer; raises :class:`NoAnswer` after ``timeout``
    seconds (``setting`` names the setting that sets it), the client's error as a
    ``JsonRpcException``, and lets a cancellation of the caller through (closing the request)."""
    msg_id = str(uuid.uuid4())
    try:
        return await asyncio.wait_for(server.protocol.send_request_async(method, params, msg_id=msg_id), timeout)
    except TimeoutError:
        _withdraw(server, msg_id)
        raise NoAnswer(f"the editor did not answer {method} within {timeout:g} s ({setting})") from None
    except asyncio.CancelledError:
        _withdraw(server, msg_id)
        raise


def _withdraw(server: LanguageServer, msg_id: str) -> None:
    """Forget the pending request and tell the client to close whatever it shows for it."""
    server.protocol._request_futures.pop(msg_id, None)  # pygls keeps no public way to drop one
    server.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
