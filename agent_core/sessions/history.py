"""A session's active history, replayed from its records: messages, rewinds and unrewinds.

A conversation restore never deletes anything from the session file: it appends a rewind record
naming the message the active history now stops before, and undoing it appends an unrewind
record naming that rewind. Replaying the records in order gives the active history, which is
what ``Session.messages`` holds, what the model sees and what listings count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agent_core.messages import Message


@dataclass
class History:
    """The active history and what each rewind replaced (so an unrewind can put it back)."""

    active: list[Message] = field(default_factory=list)
    #: The active history just before each rewind, by rewind id.
    _before_rewind: dict[str, list[Message]] = field(default_factory=dict)
    #: Rewind ids in the order they were applied (the last one is what an undo undoes).
    rewinds: list[str] = field(default_factory=list)

    def add(self, message: Message) -> None:
        self.active.append(message)

    def rewind(self, rewind_id: str, before: str) -> bool:
        """Make the active history the messages before ``before``; False (nothing changed) when
        that message is not in the active history."""
        at = next((i for i, message in enumerate(self.active) if message.id == before), None)
        if at is None:
            return False
        self._before_rewind[rewind_id] = list(self.active)
        del self.active[at:]
        self.rewinds.append(rewind_id)
        return True

    def unrewind(self, rewind_id: str) -> bool:
        """Make the active history what it was just before rewind ``rewind_id``; False when that
        rewind is unknown."""
        previous = self._before_rewind.get(rewind_id)
        if previous is None:
            return False
        self.active[:] = previous
        if rewind_id in self.rewinds:
            self.rewinds.remove(rewind_id)
        return True
