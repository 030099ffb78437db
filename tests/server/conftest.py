"""Fixtures of the end-to-end tests: servers started and stopped per test (see harness.py)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.server.harness import CLIENTS, AgentClient, StartServer, hold_configuration_answers, server_env, stop


@pytest_asyncio.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[StartServer]:
    """``await start_server(client_name, settings=..., root=...)`` -> an initialized AgentClient
    (``server_command`` replaces ``python -m lsp_server``, e.g. to inject a fault; ``server_args``
    are added to it).

    Every server started is shut down (``shutdown`` + ``exit``) at the end of the test.
    """
    started: list[AgentClient] = []

    async def start(
        client_name: str,
        *,
        settings: Any = None,
        root: Path | None = None,
        permission_request: bool = False,
        configuration: Any = None,
        extra_folders: list[Path] | None = None,
        hold_configuration: asyncio.Event | None = None,
        server_args: tuple[str, ...] = (),
        server_command: list[str] | None = None,
    ) -> AgentClient:
        root = root or tmp_path / "workspace"
        root.mkdir(parents=True, exist_ok=True)
        command = server_command or [sys.executable, "-m", "lsp_server"]
        config = ClientServerConfig(server_command=[*command, *server_args], server_env=server_env())
        client = await config.start()
        assert isinstance(client, LanguageClient)
        agent_client = AgentClient(client, root)
        if configuration is not None:
            client.set_configuration(configuration, section="agent")
        if hold_configuration is not None:
            hold_configuration_answers(client, hold_configuration)
        capabilities = client_capabilities(client_name)
        if permission_request:
            capabilities.experimental = {"agentLsp": {"permissionRequest": True}}
        folders = [root, *(extra_folders or [])]
        agent_client.initialize_result = await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders],
                initialization_options=settings,
            )
        )
        started.append(agent_client)
        return agent_client

    yield start
    for agent_client in started:
        await stop(agent_client)


@pytest.fixture(params=CLIENTS)
def client_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)
