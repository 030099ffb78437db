"""Trust in a workspace's MCP config: asked once per config, remembered outside the repository.

A ``.mcp.json`` or ``.vscode/mcp.json`` in a repository names programs to run, so before the first
of its servers starts (and again whenever the config changes) the user is asked through the same
path as every approval (``Host.ask_permission``: the editor's dialog or its
``showMessageRequest`` fallback, the terminal prompt). *Allow for this session* is remembered for
this workspace and exactly this config (a hash of every entry as written); *Allow once* starts the
servers until the agent stops; *Reject* keeps them stopped until the agent stops, and is asked
again next time (a dismissed dialog is not a permanent answer).

The record of trusted configs lives in the user's state folder (``$XDG_STATE_HOME/agent-lsp``,
else ``~/.local/state/agent-lsp``), never in the workspace: a repository cannot ship a record
that trusts itself. The file is created 0600 in a 0700 folder, read without following a symlink
(``O_NOFOLLOW``) and replaced atomically (a symlink put in its place is replaced, not followed).
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from agent_core.atomic import write_atomic
from agent_core.host import PermissionRequest
from agent_core.mcp.spec import ServerSpec
from agent_core.visible_text import visible

logger = logging.getLogger(__name__)

VERSION = 1
#: The ``tool`` of the trust question's permission request.
TRUST_TOOL = "mcp_servers"
#: Configs remembered per workspace (the oldest are forgotten first).
KEEP_PER_WORKSPACE = 20


def state_folder(env: Mapping[str, str]) -> Path:
    """Where agent-lsp keeps per-user state."""
    base = env.get("XDG_STATE_HOME") or ""
    if not base or not Path(base).is_absolute():
        home = env.get("HOME") or str(Path.home())
        base = str(Path(home) / ".local" / "state")
    return Path(base) / "agent-lsp"


def config_hash(workspace: Path, specs: Sequence[ServerSpec]) -> str:
    """One hash for the workspace's whole MCP config as written."""
    digest = hashlib.sha256(str(workspace).encode())
    for key in sorted(spec.key() for spec in specs):
        digest.update(key.encode())
    return digest.hexdigest()


class TrustStore:
    """The trusted (workspace, config hash) pairs, in one small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def is_trusted(self, workspace: Path, digest: str) -> bool:
        return digest in self._read().get(str(workspace), [])

    def trust(self, workspace: Path, digest: str) -> None:
        """Remember ``digest`` for ``workspace``; raises OSError when the file cannot be written."""
        data = self._read()
        kept = [d for d in data.get(str(workspace), []) if d != digest][-(KEEP_PER_WORKSPACE - 1) :]
        data[str(workspace)] = [*kept, digest]
        folder = self.path.parent
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = json.dumps({"version": VERSION, "trusted": data}, indent=1, sort_keys=True)
        write_atomic(self.path, body.encode(), mode=0o600)

    def _read(self) -> dict[str, list[str]]:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return {}
        except OSError as error:
            if error.errno == errno.ELOOP:
                logger.warning("%s is a symlink; it is not read (nothing is trusted from it)", self.path)
            else:
                logger.warning("cannot read %s: %s", self.path, error)
            return {}
        try:
            with os.fdopen(fd, "rb") as file:
                data = json.loads(file.read())
        except (OSError, ValueError) as error:
            logger.warning("%s is unreadable (%s); treating every workspace config as untrusted", self.path, error)
            return {}
        trusted = data.get("trusted") if isinstance(data, dict) and data.get("version") == VERSION else None
        if not isinstance(trusted, dict):
            return {}
        return {k: [d for d in v if isinstance(d, str)] for k, v in trusted.items() if isinstance(v, list)}


def question(workspace: Path, specs: Sequence[ServerSpec], turn_id: str) -> PermissionRequest:
    """The trust question for ``specs`` (every server the workspace's files would start)."""
    files = sorted({spec.source for spec in specs})
    lines = [f"The workspace {workspace} configures these MCP servers ({', '.join(files)}):", ""]
    for spec in specs:
        what = "connect to" if spec.transport == "http" else "run"
        lines.append(f"- {spec.name} ({spec.source}): {what} {spec.describe()}")
        if spec.cwd:
            lines.append(f"  in {spec.cwd}")
        if spec.env:
            lines.append(f"  with environment: {', '.join(sorted(spec.env))}")
        if spec.headers:
            lines.append(f"  with headers: {', '.join(sorted(spec.headers))}")
    lines += [
        "",
        "Start them only if you trust this repository. Allow for this session: start them and "
        "remember this trust for this workspace until its MCP config changes. Allow once: start "
        "them until the agent stops. Reject: do not start them.",
    ]
    return PermissionRequest(
        tool=TRUST_TOOL,
        title=visible(f"Start {len(specs)} MCP server(s) configured by this workspace?", multiline=False),
        detail=visible("\n".join(lines)),
        turn_id=turn_id,
    )
