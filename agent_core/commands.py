"""Slash commands typed in a chat prompt, handled by the core so every front end has them.

A prompt that starts with ``/`` is a command and never reaches the model: ``/save [title]``,
``/session`` (list; ``load ID``, ``new``, ``rename [ID] TITLE``, ``delete ID``), ``/clear``,
``/compact``, ``/model [NAME]``, ``/help``. Session ids may be shortened to any unique prefix,
as in git. Each command returns one :class:`CommandOutput`, which the agent reports as a notice;
a mistake (unknown command, unknown id) is an ``error`` output with a message that says what
would work, never an exception and never a model call.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from agent_core import compaction
from agent_core.config import ConfigError
from agent_core.providers.base import ProviderError
from agent_core.sessions import SessionError, SessionInfo

if TYPE_CHECKING:
    from agent_core.agent import Agent

Level = Literal["info", "warning", "error"]


@dataclass(frozen=True)
class CommandOutput:
    text: str
    level: Level = "info"
    #: The command was stopped by a cancel (the turn ends ``cancelled``).
    cancelled: bool = False


class CommandError(Exception):
    """A command used wrongly; the message says how to use it."""


class CommandCancelled(Exception):
    """A command's model request was stopped by ``Agent.cancel``."""


HELP = """Commands:
  /save [TITLE]               name the current session (every message is already saved)
  /session                    list this workspace's sessions
  /session load ID            continue a session (an id prefix is enough)
  /session new                start a new session
  /session rename [ID] TITLE  rename a session (default: the current one)
  /session delete ID          delete a session
  /clear                      start a new empty session; the old one stays listed
  /compact                    summarise the conversation so far into one message
  /model [NAME]               show the provider and model, or switch the model
  /help                       this list"""


def is_command(text: str) -> bool:
    return text.lstrip().startswith("/")


async def run(agent: Agent, text: str) -> CommandOutput:
    """Run one command line against ``agent``; every failure becomes an ``error`` output."""
    name, rest = (text.strip()[1:].split(None, 1) + ["", ""])[:2]
    handler = _HANDLERS.get(name.lower())
    if handler is None:
        shown = f"/{name}" if name else "/"
        names = ", ".join(f"/{command}" for command in _LISTED)
        return CommandOutput(f"Unknown command {shown}; nothing was sent to the model. Commands: {names} (/help explains them).", "error")
    try:
        return await handler(agent, rest.strip())
    except (CommandError, SessionError, ConfigError, ProviderError, compaction.CompactionError) as error:
        return CommandOutput(str(error), "error")
    except OSError as error:  # the session folder cannot be read or written
        return CommandOutput(f"/{name} failed: {error}", "error")


async def _help(agent: Agent, args: str) -> CommandOutput:
    return CommandOutput(HELP)


async def _save(agent: Agent, args: str) -> CommandOutput:
    info = agent.save_session(args or None)
    return CommandOutput(f"Session {info.id} saved as \"{info.title}\" ({info.message_count} messages).")


async def _clear(agent: Agent, args: str) -> CommandOutput:
    if args:
        raise CommandError("/clear takes no arguments.")
    old = agent.session
    kept = f" The previous session {old.id} is still listed (/session)." if old.messages else ""
    session = agent.new_session()
    return CommandOutput(f"Started a new session {session.id}.{kept}")


async def _session(agent: Agent, args: str) -> CommandOutput:
    action, rest = (args.split(None, 1) + ["", ""])[:2]
    rest = rest.strip()
    if not action or action == "list":
        return CommandOutput(format_listing(agent.list_sessions(), agent.session.id))
    if action == "new":
        session = agent.new_session()
        return CommandOutput(f"Started a new session {session.id}.")
    if action == "load":
        session = agent.load_session(_resolve(agent, rest, "/session load ID"))
        title = f" \"{session.title}\"" if session.title else ""
        return CommandOutput(f"Loaded session {session.id}{title} ({len(session.messages)} messages).")
    if action == "delete":
        session_id = _resolve(agent, rest, "/session delete ID")
        agent.delete_session(session_id)
        return CommandOutput(f"Deleted session {session_id}.")
    if action == "rename":
        first, _, title = rest.partition(" ")
        named = _id_or_none(agent, first) if title.strip() else None
        new_title = title.strip() if named else rest
        if not new_title:
            raise CommandError("Usage: /session rename [ID] TITLE")
        info = agent.rename_session(named or agent.session.id, new_title)
        return CommandOutput(f"Renamed session {info.id} to \"{info.title}\".")
    raise CommandError(f"Unknown /session action {action!r}; use /session, /session load ID, /session new, /session rename [ID] TITLE or /session delete ID.")


async def _compact(agent: Agent, args: str) -> CommandOutput:
    if args:
        raise CommandError("/compact takes no arguments.")
    messages = agent.history()
    if not any(m.role == "assistant" for m in messages):
        return CommandOutput("Nothing to compact yet.", "warning")
    if agent.session.read_only:
        raise CommandError("This session is read-only here (open in another window); nothing was compacted.")
    provider = agent.provider
    try:
        summary = await agent.run_cancellable(
            compaction.summarise(
                provider,
                messages,
                context_window=agent.context_window(provider),
                max_tokens=agent.config.max_tokens,
                report=agent.host.report,
            )
        )
    except CommandCancelled:
        return CommandOutput("Compaction cancelled; the conversation was left as it was.", "warning", cancelled=True)
    agent.record(summary)
    return CommandOutput(
        f"Compacted {len(messages)} messages into a summary; the full history stays in the session file."
    )


async def _model(agent: Agent, args: str) -> CommandOutput:
    if args:
        if any(char.isspace() for char in args):
            raise CommandError("Usage: /model [NAME] (a model name has no spaces)")
        provider = agent.switch_model(args)
        return CommandOutput(f"Switched to {provider.name} model {provider.model}.")
    try:
        provider = agent.provider
    except ConfigError as error:
        return CommandOutput(f"No provider is configured: {error}", "warning")
    return CommandOutput(f"Provider: {provider.name}, model: {provider.model}.")


def _id_or_none(agent: Agent, word: str) -> str | None:
    """``word`` as a session id when it is one, or a unique prefix of at least six characters
    (shorter words are more likely the start of a title)."""
    ids = {info.id for info in agent.list_sessions()} | {agent.session.id}
    if word in ids:
        return word
    matches = [i for i in ids if i.startswith(word)] if len(word) >= 6 else []
    return matches[0] if len(matches) == 1 else None


def _resolve(agent: Agent, prefix: str, usage: str) -> str:
    return resolve_id([info.id for info in agent.list_sessions()] + [agent.session.id], prefix, usage)


def resolve_id(ids: list[str], prefix: str, usage: str) -> str:
    """The id in ``ids`` that ``prefix`` names (exactly or as a unique prefix), or a
    :class:`CommandError` saying why not; ``usage`` is shown when no id was given."""
    if not prefix or " " in prefix:
        raise CommandError(f"Usage: {usage}")
    if prefix in ids:
        return prefix
    matches = sorted({i for i in ids if i.startswith(prefix)})
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CommandError(f"No session with id {prefix!r}; /session lists them.")
    raise CommandError(f"Id {prefix!r} matches several sessions ({', '.join(matches)}); give more of it.")


def format_listing(infos: list[SessionInfo], current_id: str) -> str:
    """One line per session, newest first, the open one marked with ``*``."""
    if not infos:
        return f"No saved sessions yet (the current session {current_id} is saved with its first message)."
    lines = ["Sessions (newest first, * = current):"]
    for info in infos:
        mark = "*" if info.id == current_id else " "
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated))
        title = info.title or info.preview or "(empty)"
        problem = f"  [unreadable: {info.error}]" if info.error else ""
        lines.append(f"{mark} {info.id}  {when}  {info.message_count:>4} msgs  {title}{problem}")
    return "\n".join(lines)


#: The commands named in messages, in the order of HELP (``/sessions`` is an accepted alias).
_LISTED = ("save", "session", "clear", "compact", "model", "help")

_HANDLERS: dict[str, Callable[[Agent, str], Awaitable[CommandOutput]]] = {
    "help": _help,
    "save": _save,
    "session": _session,
    "sessions": _session,
    "clear": _clear,
    "compact": _compact,
    "model": _model,
}
