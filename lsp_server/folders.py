"""One :class:`~agent_core.agent.Agent` per workspace folder.

Sessions are per workspace (users complained when the wrong project's chat opened), so a
multi-root workspace gets one agent, one host and one session history per folder. A request is
routed by the document URI it names (the deepest folder containing it), else to the first folder.
A server started without any folder (a single file opened in Neovim) uses its working directory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.exceptions import AgentError
from agent_core.paths import relative_path
from lsp_server.documents import path_to_uri, uri_to_path
from lsp_server.host import LspHost

logger = logging.getLogger(__name__)


class NotInitialized(AgentError):
    """A request came before ``initialize`` gave the server a workspace folder."""


@dataclass
class FolderAgent:
    uri: str
    root: Path
    host: LspHost
    agent: Agent

    def relative(self, path: Path) -> str:
        """``path`` as the user knows it: relative to this folder when inside it."""
        return relative_path(path.resolve(), self.root)


#: Builds the agent of one folder (the server passes one that uses its host and settings).
AgentFactory = Callable[[Path, LspHost], Agent]
#: Builds the host of one folder from its root and URI.
HostFactory = Callable[[Path, str], LspHost]


class FolderAgents:
    def __init__(self, make_host: HostFactory, make_agent: AgentFactory) -> None:
        self._make_host = make_host
        self._make_agent = make_agent
        self._folders: list[FolderAgent] = []

    def __iter__(self) -> Iterator[FolderAgent]:
        """A snapshot: handlers may add or remove folders while iterating."""
        return iter(list(self._folders))

    def __len__(self) -> int:
        return len(self._folders)

    def add(self, uri: str | None, fallback: Path | None = None) -> FolderAgent | None:
        """Add the folder at ``uri`` (or ``fallback`` when there is no usable URI); None when the
        URI is not a local folder (e.g. a virtual file system)."""
        root = uri_to_path(uri) if uri else fallback
        if root is None:
            logger.warning("workspace folder %s is not a local folder; no agent for it", uri)
            return None
        root = root.resolve()
        existing = next((f for f in self._folders if f.root == root), None)
        if existing is not None:
            return existing
        uri = uri or path_to_uri(root)
        host = self._make_host(root, uri)
        folder = FolderAgent(uri=uri, root=root, host=host, agent=self._make_agent(root, host))
        self._folders.append(folder)
        return folder

    def remove(self, uri: str) -> FolderAgent | None:
        root = uri_to_path(uri)
        folder = next((f for f in self._folders if root is not None and f.root == root.resolve()), None)
        if folder is not None:
            self._folders.remove(folder)
        return folder

    def for_uri(self, uri: str | None) -> FolderAgent:
        """The folder owning ``uri`` (deepest match), else the first folder.

        Raises :class:`NotInitialized` when the server has no folder at all (before ``initialize``).
        """
        if not self._folders:
            raise NotInitialized("the server is not initialized yet (no workspace folder)")
        return (self.containing(uri) if uri else None) or self._folders[0]

    def containing(self, uri: str) -> FolderAgent | None:
        """The deepest folder that really contains the ``file:`` URI ``uri``: its path with
        every symbolic link resolved is inside the folder (so a link inside that points out does
        not count). None for a path outside every folder, or a URI that is not a local file."""
        path = uri_to_path(uri)
        if path is None:
            return None
        path = path.resolve()
        owners = [f for f in self._folders if path == f.root or f.root in path.parents]
        return max(owners, key=lambda f: len(f.root.parts)) if owners else None

    def update_config(self, configs: Callable[[FolderAgent], AgentConfig]) -> None:
        for folder in self._folders:
            folder.agent.update_config(configs(folder))
