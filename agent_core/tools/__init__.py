"""The agent's tools, offered to the model and run on its behalf.

:class:`ToolRegistry` is all the loop needs: ``specs()`` for the request and ``run(call)`` for
each call. ``run`` never raises (except on cancellation): an unknown tool, bad arguments, a path
outside the workspace, a rejected edit or a crash inside a tool all come back as a
:class:`ToolOutcome` with ``is_error=True`` the model can read and act on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from agent_core.approvals import Approvals
from agent_core.config import AgentConfig
from agent_core.host import Host
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

#: Characters a tool may add to its capped output for headers and notes ("[exit code 0]").
NOTE_ROOM = 500


class ToolRegistry:
    """The tools of one workspace, run with its host, config and approval policy."""

    def __init__(self, workspace: Path, host: Host, config: AgentConfig, approvals: Approvals) -> None:
        self.workspace = Workspace(workspace, config.sessions.folder)
        self.host = host
        #: Replaceable: a settings change takes effect on the next call.
        self.config = config
        self.approvals = approvals
        tools: list[Tool] = [ReadFile(), ListFiles(), SearchText(), EditFile(), RunCommand()]
        self._tools = {tool.name: tool for tool in tools}

    def specs(self) -> list[ToolSpec]:
        return [
            ToolSpec(name=tool.name, description=tool.description, parameters=tool.schema(), brief=tool.brief)
            for tool in self._tools.values()
        ]

    async def run(self, call: ToolCall, turn_id: str, on_start: Callable[[], None] | None = None) -> ToolOutcome:
        """Run one call. ``on_start`` is called once, when the call passed approval (or needed
        none) and really starts; a call refused before that never calls it."""
        tool = self._tools.get(call.name)
        if tool is None:
            names = ", ".join(self._tools)
            return ToolOutcome(f"Unknown tool {call.name!r}. The tools are: {names}.", True)
        started = False

        def mark_started() -> None:
            nonlocal started
            if not started:
                started = True
                if on_start is not None:
                    on_start()

        ctx = ToolContext(self.workspace, self.host, self.config, self.approvals, turn_id, mark_started)
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
