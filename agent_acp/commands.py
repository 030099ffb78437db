"""Slash commands in an ACP client: which are announced, and which are refused here.

The core handles every slash command (``/save``, ``/session``, ``/compact``, ``/model``, ``/help``)
for every front end; this module only says which of them an ACP client lists in its command menu
(``available_commands_update``). Commands that switch the open session (``/clear``,
``/session new``, ``/session load``) are refused with a message saying what to do instead: an ACP
thread *is* a session, named by the id the client holds, and only the client can open another
one (a new thread is ``session/new``, an earlier one ``session/load`` from its history).
``/rewind`` restores files only here: ACP has no update that takes messages out of a thread the
client shows, so a conversation rewind would leave the thread on screen and the model's history
disagreeing.
"""

from __future__ import annotations

from acp.schema import AvailableCommand, AvailableCommandInput, AvailableCommandsUpdate, UnstructuredCommandInput

#: (name, description, input hint or None), in the order of the core's /help.
_ANNOUNCED = [
    ("save", "Name this session (every message is already saved)", "title (optional)"),
    ("session", "List this workspace's sessions; also: rename [ID] TITLE, delete ID", "rename TITLE | delete ID"),
    ("compact", "Summarise the conversation so far into one message", None),
    ("model", "Show the provider and model, or switch the model", "model name (optional)"),
    ("rewind", "List the checkpoints; put a turn's files back as they were before it", "N files | undo"),
    ("help", "List the commands", None),
]


def available_commands() -> AvailableCommandsUpdate:
    """The ``available_commands_update`` sent when a session opens."""
    commands = [
        AvailableCommand(
            name=name,
            description=description,
            input=AvailableCommandInput(root=UnstructuredCommandInput(hint=hint)) if hint else None,
        )
        for name, description, hint in _ANNOUNCED
    ]
    return AvailableCommandsUpdate(session_update="available_commands_update", available_commands=commands)


def refusal(text: str) -> str | None:
    """Why the command line ``text`` is refused in an ACP session, or None when it may run."""
    words = text.strip()[1:].split()
    name = words[0].lower() if words else ""
    action = words[1].lower() if len(words) > 1 else ""
    if name == "clear" or (name in ("session", "sessions") and action in ("new", "load")):
        shown = "/" + " ".join(words[:2] if name != "clear" else words[:1])
        return (
            f"{shown} is not available in this editor: a thread here is one session. Start a new "
            "thread for a new session, or open an earlier one from the editor's thread history."
        )
    if name == "rewind" and action.isdigit() and "files" not in (word.lower() for word in words[2:]):
        return (
            f"/rewind {action} would also take the conversation back, which this editor's thread cannot "
            f"show. Use /rewind {action} files to put the files back; start a new thread to leave the "
            "conversation behind."
        )
    return None
