"""A tool registry on a temporary workspace, and a one-line way to call a tool in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent_core.approvals import Approvals
from agent_core.config import AgentConfig
from agent_core.messages import ToolCall
from agent_core.tools import ToolOutcome, ToolRegistry
from tests.fakes.doubles import RecordingHost


class Tools:
    """``await tools.run("read_file", path="a")`` runs one call through the real registry."""

    def __init__(self, workspace: Path, config: AgentConfig | None = None, host: RecordingHost | None = None) -> None:
        self.config = config or AgentConfig()
        self.host = host or RecordingHost()
        self.registry = ToolRegistry(workspace, self.host, self.config, Approvals(self.config.approval, self.host))
        #: Names of the calls that passed approval and started, in order.
        self.started: list[str] = []
        self._calls = 0

    async def run(self, name: str, **arguments: Any) -> ToolOutcome:
        self._calls += 1
        call = ToolCall(id=f"call{self._calls}", name=name, arguments=arguments)
        return await self.registry.run(call, "turn1", on_start=lambda: self.started.append(name))


def allow_all(**settings: Any) -> AgentConfig:
    """A config whose edits and commands need no approval."""
    return AgentConfig.model_validate({"approval": {"editFile": "allow", "runCommand": "allow"}, **settings})
