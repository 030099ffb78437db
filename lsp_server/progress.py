"""Standard LSP work-done progress for a turn.

Every editor shows ``$/progress`` without any agent-specific UI (VS Code's status bar and
notification, Neovim's ``LspProgress`` event used by fidget.nvim and lualine), and a cancellable
progress gives those editors a Cancel button that arrives as ``window/workDoneProgress/cancel``.
The server creates the token itself (``window/workDoneProgress/create``) because the turn outlives
the ``workspace/executeCommand`` request that started it.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

logger = logging.getLogger(__name__)

#: A client that never answers the create request must not hold the turn up.
CREATE_TIMEOUT = 5.0


def client_supports_progress(server: LanguageServer) -> bool:
    window = server.client_capabilities.window
    return bool(window and window.work_done_progress)


class TurnProgress:
    """begin/report/end for one token; reports before begin or after end are dropped."""

    def __init__(self, server: LanguageServer, token: str) -> None:
        self._server = server
        self.token = token
        self._begun = False
        self._ended = False

    async def begin(self, title: str, message: str) -> None:
        if not client_supports_progress(self._server):
            return
        progress = self._server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(self.token), CREATE_TIMEOUT)
        except TimeoutError:
            logger.warning("the client did not answer window/workDoneProgress/create; no progress shown")
            return
        except Exception as exc:  # the client refused the token: the turn still runs
            logger.warning("window/workDoneProgress/create failed: %s", exc)
            return
        if self._ended:
            return
        progress.begin(self.token, types.WorkDoneProgressBegin(title=title, message=message, cancellable=True))
        self._begun = True

    def report(self, message: str) -> None:
        if self._begun and not self._ended:
            self._server.work_done_progress.report(self.token, types.WorkDoneProgressReport(message=message))

    def end(self, message: str) -> None:
        if self._ended:
            return
        self._ended = True
        if self._begun:
            self._server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self._server.work_done_progress.tokens.pop(self.token, None)
