"""The one error type of the tools, in a leaf module so every part of them can raise it.

It is not an :class:`~agent_core.exceptions.AgentError`: its message is for the model, which
reads it as the call's result (see :class:`agent_core.tools.ToolRegistry`), not for the user.
"""

from __future__ import annotations


class ToolError(Exception):
    """A failure the model should read (bad path, text not found, rejected edit...)."""
