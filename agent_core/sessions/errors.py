"""The one error type of the session store, in a leaf module so every part of it can raise it."""

from __future__ import annotations


class SessionError(Exception):
    """Something about a session the user must read: what happened, and that nothing was lost."""
