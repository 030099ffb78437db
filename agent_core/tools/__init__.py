"""The agent's tools, offered to the model and run on its behalf.

:class:`ToolRegistry` is all the loop needs: ``start_turn()`` once before a turn's first request
(it starts the workspace's MCP servers), ``specs()`` for each request and ``run(call)`` for each
call. The built-in tools come first; the tools of MCP servers (:mod:`agent_core.mcp`) follow
under their ``server__tool`` names. ``run`` never raises (except on cancellation): an unknown
tool, bad arguments, a path outside the workspace, a rejected edit or a crash inside a tool all
come back as a :class:`ToolOutcome` with ``is_error=True`` the model can read and act on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from agent_core.approvals import Approvals
from agent_core.checkpoints.recorder import TurnCheckpoint
from agent_core.config import AgentConfig
from agent_core.events import Notice
from agent_core.host import Host
from agent_core.mcp.manager import McpManager
from agent_core.messages import ToolCall
from agent_core.providers.base import ToolSpec
from agent_core.tools.base import Tool, ToolContext, ToolOutcome, cap_text
from agent_core.tools.command import RunCommand
from agent_core.tools.edit import EditFile
from agent_core.tools.errors import ToolError
from agent_core.tools.files import ListFiles, ReadFile
from agent_core.tools.search import SearchText
from agent_core.tools.workspace import Workspace

__all__ = ["ToolOutcome", "ToolRegistry"]

logger = logging.getLogger(__name__)

#: Characters a tool may add to its capped output for headers and notes ("[exit code 0]").
NOTE_ROOM = 500


class ToolRegistry:
    """The tools of one workspace, run with its host, config and approval policy."""

    def __init__(
        self,
        workspace: Path,
        host: Host,
        config: AgentConfig,
        approvals: Approvals,
        mcp: McpManager | None = None,
        checkpoint: TurnCheckpoint | None = None,
    ) -> None:
        self.workspace = Workspace(workspace, config.sessions.folder)
        self.host = host
        #: Replaceable: a settings change takes effect on the next call.
        self.config = config
        self.approvals = approvals
        self.mcp = mcp
        #: Where edit_file and run_command record the turn's checkpoint.
        self.checkpoint = checkpoint
        tools: list[Tool] = [ReadFile(), ListFiles(), SearchText(), EditFile(), RunCommand()]
        self._tools = {tool.name: tool for tool in tools}

    async def start_turn(self, turn_id: str) -> None:
        """Before a turn's first request: the MCP servers started (or found unusable, with a
        notice), so ``specs()`` offers their tools."""
        if self.mcp is None:
            return
        try:
            await self.mcp.prepare(self.host, turn_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug in the MCP client must not cost the user the turn
            logger.exception("starting the MCP servers failed")
            text = (
                f"MCP servers could not be started ({type(error).__name__}: {error}); "
                "the turn goes on without their tools."
            )
            self.host.report(Notice(level="error", text=text))

    def specs(self) -> list[ToolSpec]:
        built_in = [
            ToolSpec(name=tool.name, description=tool.description, parameters=tool.schema(), brief=tool.brief)
            for tool in self._tools.values()
        ]
        return built_in + (self.mcp.specs() if self.mcp is not None else [])

    async def run(self, call: ToolCall, turn_id: str, on_start: Callable[[], None] | None = None) -> ToolOutcome:
        """Run one call. ``on_start`` is called once, when the call passed approval (or needed
        none) and really starts; a call refused before that never calls it."""
        tool = self._tools.get(call.name)
        if tool is None and self.mcp is not None and self.mcp.owns(call.name):
            return await self._run_mcp(call, turn_id, on_start)
        if tool is None:
            names = ", ".join(spec.name for spec in self.specs())
            return ToolOutcome(f"Unknown tool {call.name!r}. The tools are: {names}.", True)
        started = False

        def mark_started() -> None:
            nonlocal started
            if not started:
                started = True
                if on_start is not None:
                    on_start()

        ctx = ToolContext(
            self.workspace, self.host, self.config, self.approvals, turn_id, mark_started, self.checkpoint
        )
        try:
            args = tool.parse(call.arguments)
            outcome = await tool.run(args, ctx)
        except ToolError as error:  # PathRefused too
            outcome = ToolOutcome(str(error), True)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug or an OS error inside a tool: the turn goes on
            outcome = ToolOutcome(f"{call.name} failed: {type(error).__name__}: {error}", True)
        # Tools keep their own output within output_cap; this hard bound leaves room for their notes.
        return ToolOutcome(cap_text(outcome.output, self.config.output_cap + NOTE_ROOM), outcome.is_error)

    async def _run_mcp(self, call: ToolCall, turn_id: str, on_start: Callable[[], None] | None) -> ToolOutcome:
        assert self.mcp is not None
        try:
            text, is_error = await self.mcp.run(call, self.approvals, turn_id, on_start or (lambda: None))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug in the client or the SDK: the turn goes on
            text, is_error = f"{call.name} failed: {type(error).__name__}: {error}", True
        finally:
            self.mcp.flush(self.host)  # a crash or restart noticed during the call
        return ToolOutcome(cap_text(text, self.config.output_cap, "MCP tool output"), is_error)
