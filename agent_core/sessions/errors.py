"""The one error type of the session store, in a leaf module so every part of it can raise it."""

from __future__ import annotations

from agent_core.exceptions import AgentError


class SessionError(AgentError):
    """Something about a session the user must read: what happened, and that nothing was lost."""
