"""The agent protocol's method and command names (docs/protocol.md), apart from their models.

The server advertises its commands in the ``initialize`` result, which it sends before it loads
the agent core (see :mod:`lsp_server.language_server`), so the names live here, in a module that
imports nothing; :mod:`lsp_server.wire` re-exports them beside the models of each method, and
``tests/server/test_wire.py`` holds :data:`COMMAND_NAMES` against ``wire.COMMANDS``.
"""

from __future__ import annotations

TURN_STARTED = "agent/turnStarted"
TEXT_DELTA = "agent/textDelta"
TOOL_CALL = "agent/toolCall"
RETRY = "agent/retry"
NOTICE = "agent/notice"
INLINE_EDIT_PROPOSAL = "agent/inlineEditProposal"
TURN_ENDED = "agent/turnEnded"
SESSION_RESTORED = "agent/sessionRestored"
#: The one server-to-client request.
REQUEST_PERMISSION = "agent/requestPermission"

CHAT = "agent.chat"
INLINE_EDIT = "agent.inlineEdit"
INLINE_EDIT_ACCEPT = "agent.inlineEdit.accept"
INLINE_EDIT_REJECT = "agent.inlineEdit.reject"
CANCEL = "agent.cancel"
SESSION_LIST = "agent.session.list"
SESSION_LOAD = "agent.session.load"
SESSION_NEW = "agent.session.new"
SESSION_SAVE = "agent.session.save"
SESSION_RENAME = "agent.session.rename"
SESSION_DELETE = "agent.session.delete"
SESSION_EXPORT = "agent.session.export"
STATUS = "agent.status"
COMPLETION_ACCEPTED = "agent.completion.accepted"
CHECKPOINT_LIST = "agent.checkpoint.list"
CHECKPOINT_DIFF = "agent.checkpoint.diff"
CHECKPOINT_RESTORE = "agent.checkpoint.restore"
CHECKPOINT_UNDO = "agent.checkpoint.undo"

#: Every ``workspace/executeCommand`` command, as advertised in ``executeCommandProvider``.
COMMAND_NAMES = (
    CHAT,
    INLINE_EDIT,
    INLINE_EDIT_ACCEPT,
    INLINE_EDIT_REJECT,
    CANCEL,
    SESSION_LIST,
    SESSION_LOAD,
    SESSION_NEW,
    SESSION_SAVE,
    SESSION_RENAME,
    SESSION_DELETE,
    SESSION_EXPORT,
    STATUS,
    COMPLETION_ACCEPTED,
    CHECKPOINT_LIST,
    CHECKPOINT_DIFF,
    CHECKPOINT_RESTORE,
    CHECKPOINT_UNDO,
)
#: The commands whose handler is a coroutine; every other one is answered before anything else
#: runs, so a turn's ``{turnId}`` reaches the client before the turn's first notification.
ASYNC_COMMANDS = frozenset({INLINE_EDIT_ACCEPT, CHECKPOINT_LIST, CHECKPOINT_DIFF, CHECKPOINT_RESTORE, CHECKPOINT_UNDO})
