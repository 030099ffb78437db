"""Per-workspace chat sessions: append-only JSONL files that survive crashes and second windows.

Front ends use :class:`SessionStore` (through the ``Agent`` facade); see ``docs/sessions.md`` for
where the files live, their format and the recovery rules.
"""

from agent_core.sessions.errors import SessionError
from agent_core.sessions.format import FORMAT_VERSION
from agent_core.sessions.session import Session, SessionInfo
from agent_core.sessions.store import SessionStore

__all__ = ["FORMAT_VERSION", "Session", "SessionError", "SessionInfo", "SessionStore"]
