"""Asking the user before the agent edits a file or runs a command.

A client with its own approval UI declares ``experimental.agentLsp.permissionRequest: true`` in its
capabilities and gets the custom ``agent/requestPermission`` request (title plus the full diff or
command line). Every other LSP client still works: the question goes out as a standard
``window/showMessageRequest`` with the actions "Allow once", "Allow for this session", "Reject".
Anything but a clear yes (no answer, an error, an unknown decision) is a rejection, so a confused
client can never grant permission by accident.

The custom request carries the whole detail (every changed line, the whole command): the client
must let the user see all of it. A message popup cannot, so a detail longer than
``MESSAGE_DETAIL_CHARS`` characters or ``MESSAGE_DETAIL_LINES`` lines is shown as its head and its
tail around a line that says how much lies between them and where the whole text is: a private
temporary file (mode 0600, deleted once the user answered), opened in the editor with
``window/showDocument`` when the client supports it, its path in the message in any case. The end
of a command, where ``; curl ... | sh`` would hide, is always in the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pydantic import ValidationError
from pygls.lsp.server import LanguageServer

from agent_core.host import Decision, PermissionRequest, PermissionResult
from agent_core.visible_text import Excerpt, excerpt
from lsp_server import methods, wire
from lsp_server.client_requests import NoAnswer, ask_client

logger = logging.getLogger(__name__)

ACTIONS: dict[str, Decision] = {
    "Allow once": Decision.ALLOW_ONCE,
    "Allow for this session": Decision.ALLOW_SESSION,
    "Reject": Decision.REJECT,
}

#: ``window/showMessageRequest`` is a notification-sized popup: a longer detail shows its head and
#: tail (half of each limit each) and the whole text is put in a file.
MESSAGE_DETAIL_CHARS = 1500
MESSAGE_DETAIL_LINES = 30


def client_answers_permission(server: LanguageServer) -> bool:
    """True when the client declared ``experimental.agentLsp.permissionRequest: true``."""
    experimental = server.client_capabilities.experimental
    if not isinstance(experimental, dict):
        return False
    agent = experimental.get("agentLsp")
    return isinstance(agent, dict) and agent.get("permissionRequest") is True


async def ask_permission(server: LanguageServer, request: PermissionRequest, *, timeout: float) -> PermissionResult:
    """Ask the user; no answer within ``timeout`` seconds is a rejection saying so."""
    try:
        if client_answers_permission(server):
            return await _ask_custom(server, request, timeout)
        return await _ask_with_message(server, request, timeout)
    except NoAnswer as exc:
        logger.warning("%s", exc)
        return PermissionResult(Decision.REJECT, f"{exc}; treated as a rejection")


async def _request(server: LanguageServer, method: str, params: Any, timeout: float) -> Any:
    """Send a request, bounded; if the turn is cancelled meanwhile, the client is told to close
    its prompt (see :func:`ask_client`)."""
    return await ask_client(server, method, params, timeout=timeout, setting="approvalTimeout")


async def _ask_custom(server: LanguageServer, request: PermissionRequest, timeout: float) -> PermissionResult:
    params = wire.PermissionRequestParams(
        turn_id=request.turn_id, tool=request.tool, title=request.title, detail=request.detail
    )
    try:
        answer = await _request(server, methods.REQUEST_PERMISSION, params.wire(), timeout)
    except (asyncio.CancelledError, NoAnswer):
        raise
    except Exception as exc:
        logger.warning("%s failed: %s", methods.REQUEST_PERMISSION, exc)
        return PermissionResult(Decision.REJECT, f"the permission request failed: {exc}")
    return parse_answer(answer)


def parse_answer(answer: Any) -> PermissionResult:
    """``{decision, reason?}`` -> a result; anything malformed is a rejection saying why.

    pygls hands the result of a custom request over as a named tuple, not a dict; both work.
    """
    if hasattr(answer, "_asdict"):
        answer = answer._asdict()
    if not isinstance(answer, dict):
        return PermissionResult(Decision.REJECT, "the editor gave no answer")
    try:
        parsed = wire.PermissionAnswer.model_validate(answer)
    except ValidationError:
        return PermissionResult(Decision.REJECT, f"the editor answered an unknown decision {answer.get('decision')!r}")
    decision = Decision(parsed.decision)
    return PermissionResult(decision, parsed.reason if decision is Decision.REJECT else None)


async def _ask_with_message(server: LanguageServer, request: PermissionRequest, timeout: float) -> PermissionResult:
    shown = excerpt(request.detail, MESSAGE_DETAIL_CHARS, MESSAGE_DETAIL_LINES)
    with _whole_text_file(request, shown) as whole:
        detail = shown.head
        if whole is not None:
            where = f"open in the editor: {whole}" if await _show_document(server, whole, timeout) else f"in {whole}"
            note = f"[... {_omitted(shown)} not shown here; the whole text is {where} ...]"
            detail = "\n".join([shown.head.rstrip("\n"), note, shown.tail])
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=f"Agent: {request.title}\n\n{detail}",
            actions=[types.MessageActionItem(title=title) for title in ACTIONS],
        )
        return await _message_answer(server, params, timeout)


@contextlib.contextmanager
def _whole_text_file(request: PermissionRequest, shown: Excerpt) -> Iterator[Path | None]:
    """A private file holding the whole detail while the question is open (None: it fits)."""
    if shown.whole:
        yield None
        return
    suffix = ".diff" if request.tool == "edit_file" else ".txt"
    fd, name = tempfile.mkstemp(prefix="agent-lsp-approval-", suffix=suffix)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(request.detail)
        yield Path(name)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _omitted(shown: Excerpt) -> str:
    """``12,345 characters`` or ``470 lines (12,345 characters)``."""
    chars = f"{shown.omitted_chars:,} characters"
    return f"{shown.omitted_lines:,} lines ({chars})" if shown.omitted_lines else chars


async def _show_document(server: LanguageServer, path: Path, timeout: float) -> bool:
    """Open ``path`` in the editor if the client can; True when it says it did."""
    window = server.client_capabilities.window
    if window is None or window.show_document is None or not window.show_document.support:
        return False
    try:
        params = types.ShowDocumentParams(uri=path.as_uri(), take_focus=True)
        result = await _request(server, types.WINDOW_SHOW_DOCUMENT, params, timeout)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        logger.warning("window/showDocument failed: %s", exc)
        return False
    return bool(getattr(result, "success", False))


async def _message_answer(
    server: LanguageServer, params: types.ShowMessageRequestParams, timeout: float
) -> PermissionResult:
    try:
        answer = await _request(server, types.WINDOW_SHOW_MESSAGE_REQUEST, params, timeout)
    except (asyncio.CancelledError, NoAnswer):
        raise
    except Exception as exc:
        logger.warning("window/showMessageRequest failed: %s", exc)
        return PermissionResult(Decision.REJECT, f"the permission question failed: {exc}")
    title = getattr(answer, "title", None)
    if title is None and isinstance(answer, dict):
        title = answer.get("title")
    if title not in ACTIONS:
        return PermissionResult(Decision.REJECT, "the user dismissed the question")
    decision = ACTIONS[title]
    return PermissionResult(decision, "rejected by the user" if decision is Decision.REJECT else None)
