"""The one base class for every error a user must read, plus the errors that have no other home.

Front ends catch :class:`AgentError` once: the LSP server answers a request with its message (or
ends the turn with it), the terminal prints it and exits 1. Anything else that escapes is a bug:
logged with its traceback and answered as an internal error, never shown as if the user had done
something wrong. So every error whose message is meant for the user derives from this class,
wherever it is raised (settings, sessions, providers, slash commands, compaction, inline edits,
a second turn while one runs), and a ``KeyError`` or ``AttributeError`` is never mistaken for one.

This module imports nothing, so any module can raise these without an import cycle.
"""

from __future__ import annotations


class AgentError(Exception):
    """An error whose message is for the user: what went wrong, and what to do about it."""


class AgentBusy(AgentError):
    """A turn (or a command) is already running; one at a time per workspace."""


class CommandError(AgentError):
    """A slash command used wrongly; the message says how to use it."""


class CommandCancelled(Exception):
    """A slash command's model request was stopped by ``Agent.cancel`` (control flow, not an
    error: the command reports it as a cancelled turn)."""
