"""One ACP session: an :class:`~agent_core.agent.Agent` on one saved session, and its prompt turn.

An ACP session id *is* the core's session id, so the thread an editor shows and the file in the
workspace's session folder are the same thing: a session written by the LSP front end loads here,
and the other way round. Each session has its own agent (its own "allow for this session"
answers, its own usage), and runs one prompt at a time; a second prompt while one runs is refused
with an error, as is a prompt after the connection began shutting down.

Cancelling is two-step so that it is always prompt: the agent stops its HTTP stream or running
command itself (the turn ends ``cancelled`` and the partial reply is saved); if the turn has not
reached the agent loop yet, the task running it is cancelled instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from acp import RequestError
from acp.interfaces import Client
from acp.schema import AgentMessageChunk, PromptResponse, TextContentBlock

from agent_acp import commands, errors
from agent_acp.client_files import ClientFiles
from agent_acp.outbox import Outbox
from agent_acp.prompt import Block, EmptyPrompt, read_prompt
from agent_acp.replay import replay
from agent_acp.turn_host import TurnHost
from agent_core.agent import Agent
from agent_core.commands import is_command
from agent_core.config import ConfigError
from agent_core.events import Event, Notice, TurnEnded
from agent_core.exceptions import AgentError
from agent_core.host import Decision, EditResult, PermissionRequest, PermissionResult
from agent_core.messages import Usage

logger = logging.getLogger(__name__)


class SessionHost:
    """The agent's own host: what happens outside a prompt turn (a warning while a session opens
    is kept for its greeting, one later is said in the thread). A turn's events never come here:
    each prompt submits its own :class:`~agent_acp.turn_host.TurnHost`."""

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self.session_id: str | None = None
        #: Notices reported before the session had an id (while it was being opened).
        self.opening: list[Notice] = []

    async def read_file(self, path: Path) -> str | None:
        return None

    async def apply_edit(self, path: Path, original: str | None, new_text: str) -> EditResult:
        return EditResult(False, "no prompt turn is running")

    async def ask_permission(self, request: PermissionRequest) -> PermissionResult:
        return PermissionResult(Decision.REJECT, "no prompt turn is running to ask in")

    def report(self, event: Event) -> None:
        if isinstance(event, Notice) and self.session_id is None:
            self.opening.append(event)
        elif isinstance(event, Notice) and self.session_id is not None:
            say(self._outbox, self.session_id, f"**{event.level.capitalize()}:** {event.text}")
        else:
            logger.debug("event outside a turn: %s", event.type)


class AcpSession:
    """An open ACP session (see the module docstring)."""

    def __init__(self, agent: Agent, host: SessionHost, client: Client, outbox: Outbox, files: ClientFiles) -> None:
        self.agent = agent
        self.id = agent.session.id
        self.workspace = agent.workspace
        self._host = host
        self._client = client
        self._outbox = outbox
        self._files = files
        self._task: asyncio.Task[TurnEnded] | None = None
        host.session_id = self.id

    @property
    def busy(self) -> bool:
        return self._task is not None

    def show_history(self) -> None:
        """Queue the replay of the whole saved conversation (``session/load``)."""
        for update in replay(self.agent.session.messages, self.workspace):
            self._outbox.send(self.id, update)

    def opening_notices(self) -> list[str]:
        """What the core said while the session opened (a repaired file, read-only access)."""
        notices, self._host.opening = self._host.opening, []
        return [f"{notice.level.capitalize()}: {notice.text}" for notice in notices]

    def announce_commands(self) -> None:
        self._outbox.send(self.id, commands.available_commands())

    async def prompt(self, blocks: Sequence[Block]) -> PromptResponse:
        """Run one prompt turn to its end; raises ``RequestError`` for a bad prompt, a busy
        session or a failed turn."""
        if self.busy:
            raise errors.busy(self.id)
        try:
            prompt = read_prompt(blocks, self.workspace)
        except EmptyPrompt as error:
            raise errors.invalid_params(str(error)) from None
        command = is_command(prompt.text)
        if command and (refused := commands.refusal(prompt.text)) is not None:
            raise RequestError(errors.REQUEST_FAILED, refused)
        turn = TurnHost(
            self.id,
            self.workspace,
            self._client,
            self._outbox,
            self._files,
            command=command,
            approval_timeout=self.agent.config.approval_timeout,
        )
        task = asyncio.ensure_future(self._run(prompt.text if command else prompt.message, turn))
        self._task = task
        try:
            ended = await task
        except asyncio.CancelledError:
            if not task.cancelled():  # this request itself was cancelled (the connection closes)
                self.cancel()
                raise
            ended = TurnEnded(turn_id="", stop_reason="cancelled", usage=Usage())
        finally:
            self._task = None
        return turn.finish(ended, self._context_window)

    async def _run(self, text: str, turn: TurnHost) -> TurnEnded:
        try:
            return await self.agent.submit(text, host=turn)
        except AgentError as error:  # busy: a turn started another way (none does today)
            raise errors.invalid_request(str(error)) from None

    def cancel(self) -> None:
        """``session/cancel``: end the running turn as ``cancelled`` now; nothing if idle."""
        task = self._task
        if task is None or task.done():
            return
        if not self.agent.cancel():
            task.cancel()

    async def wait_idle(self, timeout: float) -> None:
        task = self._task
        if task is not None:
            await asyncio.wait([task], timeout=timeout)

    def _context_window(self) -> int | None:
        try:
            return self.agent.context_window(self.agent.provider)
        except ConfigError:
            return None


def say(outbox: Outbox, session_id: str, text: str) -> None:
    """Show ``text`` in the session as the agent's message (notes, warnings)."""
    outbox.send(
        session_id,
        AgentMessageChunk(
            session_update="agent_message_chunk", content=TextContentBlock(type="text", text=text.rstrip("\n") + "\n\n")
        ),
    )
