"""Slash commands typed in a chat prompt, handled by the core so every front end has them.

A prompt that starts with ``/`` is a command and never reaches the model: ``/save [title]``,
``/session`` (list; ``load ID``, ``new``, ``rename [ID] TITLE``, ``delete ID``), ``/clear``,
``/compact``, ``/model [NAME]``, ``/mcp`` (list; ``restart [NAME]``), ``/rewind`` (list; ``N [files|
conversation|both] [--force|--skip-conflicts]``, ``undo``), ``/help``. Session ids may
be shortened to any unique prefix, as in git. Each command returns one :class:`CommandOutput`,
which the agent reports as a notice; a mistake (unknown command, unknown id) is an ``error``
output with a message that says what would work, never an exception and never a model call.

Commands see the agent only through :class:`AgentControls` (the agent passes itself), and report
through the host of the turn they run in.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from agent_core import compaction
from agent_core.checkpoints import CheckpointInfo, RestoreMode, RestoreResult
from agent_core.checkpoints.report import format_checkpoints, format_restore
from agent_core.config import AgentConfig, ConfigError
from agent_core.events import NoticeLevel
from agent_core.exceptions import AgentError, CommandCancelled, CommandError
from agent_core.host import Host
from agent_core.mcp.manager import McpManager, ServerStatus
from agent_core.messages import Message
from agent_core.providers.base import Provider
from agent_core.sessions import Session, SessionInfo

T = TypeVar("T")


class AgentControls(Protocol):
    """What a slash command may do to the agent (:class:`agent_core.agent.Agent` is one).

    Operations that switch the session take the ``host`` of the command's turn, which hears
    about the switch."""

    config: AgentConfig
    mcp: McpManager

    @property
    def session(self) -> Session: ...

    @property
    def provider(self) -> Provider: ...

    def history(self) -> list[Message]: ...

    def context_window(self, provider: Provider | None) -> int: ...

    def list_sessions(self) -> list[SessionInfo]: ...

    def load_session(self, session_id: str, *, host: Host | None = None) -> Session: ...

    def new_session(self, *, host: Host | None = None) -> Session: ...

    def save_session(self, title: str | None = None) -> SessionInfo: ...

    def rename_session(self, session_id: str, title: str) -> SessionInfo: ...

    def delete_session(self, session_id: str) -> None: ...

    def record(self, message: Message) -> None: ...

    def switch_model(self, model: str) -> Provider: ...

    async def run_cancellable(self, work: Coroutine[Any, Any, T]) -> T: ...

    async def list_checkpoints(self, *, host: Host | None = None) -> list[CheckpointInfo]: ...

    async def restore_checkpoint(
        self,
        checkpoint_id: str,
        mode: RestoreMode,
        *,
        force: bool = False,
        skip_conflicts: bool = False,
        host: Host | None = None,
    ) -> RestoreResult: ...

    async def undo_restore(self, *, host: Host | None = None) -> RestoreResult: ...


@dataclass(frozen=True)
class CommandOutput:
    text: str
    level: NoticeLevel = "info"
    #: The command was stopped by a cancel (the turn ends ``cancelled``).
    cancelled: bool = False


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
  /mcp                        list the MCP servers, their state and tools
  /mcp restart [NAME]         restart MCP servers (and ask again about a rejected workspace config)
  /rewind                     list the checkpoints: each turn and the files it changed
  /rewind N [files|conversation|both] [--force|--skip-conflicts]
                              go back to before turn N (default both); --force overwrites files
                              changed since, --skip-conflicts leaves them
  /rewind undo                undo the last /rewind
  /help                       this list"""


def is_command(text: str) -> bool:
    return text.lstrip().startswith("/")


async def run(agent: AgentControls, text: str, host: Host) -> CommandOutput:
    """Run one command line against ``agent`` in a turn reporting to ``host``; every error meant
    for the user becomes an ``error`` output (anything else is a bug and propagates)."""
    name, rest = ([*text.strip()[1:].split(None, 1), "", ""])[:2]
    handler = _HANDLERS.get(name.lower())
    if handler is None:
        shown = f"/{name}" if name else "/"
        names = ", ".join(f"/{command}" for command in _LISTED)
        return CommandOutput(
            f"Unknown command {shown}; nothing was sent to the model. Commands: {names} (/help explains them).", "error"
        )
    try:
        return await handler(agent, rest.strip(), host)
    except AgentError as error:
        return CommandOutput(str(error), "error")
    except OSError as error:  # the session folder cannot be read or written
        return CommandOutput(f"/{name} failed: {error}", "error")


async def _help(agent: AgentControls, args: str, host: Host) -> CommandOutput:
    return CommandOutput(HELP)


async def _save(agent: AgentControls, args: str, host: Host) -> CommandOutput:
    info = agent.save_session(args or None)
    return CommandOutput(f'Session {info.id} saved as "{info.title}" ({info.message_count} messages).')


async def _clear(agent: AgentControls, args: str, host: Host) -> CommandOutput:
    if args:
        raise CommandError("/clear takes no arguments.")
    old = agent.session
    kept = f" The previous session {old.id} is still listed (/session)." if old.messages else ""
    session = agent.new_session(host=host)
    return CommandOutput(f"Started a new session {session.id}.{kept}")


async def _session(agent: AgentControls, args: str, host: Host) -> CommandOutput:
    action, rest = ([*args.split(None, 1), "", ""])[:2]
    rest = rest.strip()
    if not action or action == "list":
        return CommandOutput(format_listing(agent.list_sessions(), agent.session.id))
    if action == "new":
        session = agent.new_session(host=host)
        return CommandOutput(f"Started a new session {session.id}.")
    if action == "load":
        session = agent.load_session(_resolve(agent, rest, "/session load ID"), host=host)
        title = f' "{session.title}"' if session.title else ""
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
        return CommandOutput(f'Renamed session {info.id} to "{info.title}".')
    raise CommandError(
        f"Unknown /session action {action!r}; use /session, /session load ID, /session new, "
        "/session rename [ID] TITLE or /session delete ID."
    )


async def _compact(agent: AgentControls, args: str, host: Host) -> CommandOutput:
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
                report=host.report,
            )
        )
    except CommandCancelled:
        return CommandOutput("Compaction cancelled; the conversation was left as it was.", "warning", cancelled=True)
    agent.record(summary)
    return CommandOutput(
        f"Compacted {len(messages)} messages into a summary; the full history stays in the session file."
    )


async def _model(agent: AgentControls, args: str, host: Host) -> CommandOutput:
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


async def _mcp(agent: AgentControls, args: str, host: Host) -> CommandOutput:
    action, name = ([*args.split(None, 1), "", ""])[:2]
    if action == "restart":
        restarted = await agent.mcp.restart(name.strip() or None)
        if name.strip() and not restarted:
            raise CommandError(f"No running MCP server {name.strip()!r}; /mcp lists them.")
        shown = ", ".join(restarted) or "none running"
        return CommandOutput(f"Stopped {shown}; MCP servers start again with the next prompt.")
    if action:
        raise CommandError("Usage: /mcp, or /mcp restart [NAME]")
    return CommandOutput(format_servers(agent.mcp.status(), agent.mcp.problems))


async def _rewind(agent: AgentControls, args: str, host: Host) -> CommandOutput:
    words = args.split()
    if not words:
        return CommandOutput(format_checkpoints(await agent.list_checkpoints(host=host)))
    if words == ["undo"]:
        return CommandOutput(format_restore(await agent.undo_restore(host=host), "Undone"))
    usage = "Usage: /rewind, /rewind N [files|conversation|both] [--force|--skip-conflicts], or /rewind undo"
    number, *options = words
    modes = [w for w in options if w in ("files", "conversation", "both")]
    flags = [w for w in options if w in ("--force", "--skip-conflicts")]
    if not number.isdigit() or len(modes) > 1 or len(flags) > 1 or len(modes) + len(flags) != len(options):
        raise CommandError(usage)
    infos = await agent.list_checkpoints(host=host)
    if not 1 <= int(number) <= len(infos):
        raise CommandError(f"No checkpoint {number}; /rewind lists {len(infos)}.")
    mode: RestoreMode = modes[0] if modes else "both"  # type: ignore[assignment]
    result = await agent.restore_checkpoint(
        infos[int(number) - 1].id, mode, force="--force" in flags, skip_conflicts="--skip-conflicts" in flags, host=host
    )
    return CommandOutput(format_restore(result, "Restored"), "warning" if result.conflicts else "info")


def format_servers(servers: list[ServerStatus], problems: list[str]) -> str:
    """One line per MCP server, then the config problems."""
    if not servers and not problems:
        return (
            "No MCP servers are configured (the mcpServers setting, .mcp.json or .vscode/mcp.json). "
            "Servers start with the first prompt that needs them."
        )
    lines = ["MCP servers:"] if servers else []
    for server in servers:
        error = f"  ({server.error})" if server.error else ""
        lines.append(f"  {server.name}  [{server.source}]  {server.state}, {server.tools} tool(s){error}")
    lines += [f"Config problem: {problem}" for problem in problems]
    return "\n".join(lines)


def _id_or_none(agent: AgentControls, word: str) -> str | None:
    """``word`` as a session id when it is one, or a unique prefix of at least six characters
    (shorter words are more likely the start of a title)."""
    ids = {info.id for info in agent.list_sessions()} | {agent.session.id}
    if word in ids:
        return word
    matches = [i for i in ids if i.startswith(word)] if len(word) >= 6 else []
    return matches[0] if len(matches) == 1 else None


def _resolve(agent: AgentControls, prefix: str, usage: str) -> str:
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
_LISTED = ("save", "session", "clear", "compact", "model", "mcp", "rewind", "help")

_HANDLERS: dict[str, Callable[[AgentControls, str, Host], Awaitable[CommandOutput]]] = {
    "help": _help,
    "save": _save,
    "session": _session,
    "sessions": _session,
    "clear": _clear,
    "compact": _compact,
    "model": _model,
    "mcp": _mcp,
    "rewind": _rewind,
}
