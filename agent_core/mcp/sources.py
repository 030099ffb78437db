"""Where MCP servers are configured, and how the sources are merged.

Four sources, most important first; a server name given by two of them is taken from the first:

1. ``client``: the list a front end hands in for its session (ACP's ``session/new``
   ``mcpServers``, see :func:`from_acp`), the user's editor config;
2. ``settings``: the ``mcpServers`` setting, the user's own;
3. ``.vscode/mcp.json``: VS Code's dialect (``{"servers": {...}, "inputs": [...]}``);
4. ``.mcp.json``: the ``mcpServers`` dialect of Claude Code, Cline and Cursor.

The two files belong to the workspace (a repository can ship them), so their servers start only
once the user trusted them (:mod:`agent_core.mcp.trust`). Both files may hold comments and trailing
commas (VS Code writes JSON with comments). ``mcp.disabled`` removes servers by name, whichever
source has them. Every problem (bad JSON, an unknown field, a skipped server) is one line naming
the file and the field; the rest of the file still loads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_core.config import AgentConfig, McpServerSetting
from agent_core.mcp.spec import (
    SOURCE_CLIENT,
    SOURCE_MCP_JSON,
    SOURCE_SETTINGS,
    SOURCE_VSCODE,
    Context,
    ServerSpec,
    SkipServer,
    read_entry,
)

#: The two workspace files, in order of precedence, and the key holding their servers.
WORKSPACE_FILES = ((SOURCE_VSCODE, "servers"), (SOURCE_MCP_JSON, "mcpServers"))
#: Fields Cline and Roo use to pre-approve tools: a workspace file may not approve anything.
_APPROVAL_FIELDS = frozenset({"autoApprove", "alwaysAllow"})
#: A config file larger than this is not read (a config is a few kilobytes).
MAX_FILE_BYTES = 1_000_000


@dataclass
class Configured:
    """The merged servers, the ones left out, and every problem found on the way."""

    servers: list[ServerSpec] = field(default_factory=list)
    #: Servers turned off by ``mcp.disabled`` or ``"disabled": true``: (name, source).
    disabled: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_all(
    workspace: Path,
    config: AgentConfig,
    env: Mapping[str, str],
    secrets: frozenset[str],
    client: Sequence[ServerSpec] = (),
) -> Configured:
    """Every configured server, merged by precedence (see the module docstring)."""
    ctx = Context(workspace=workspace, env=env, secrets=secrets)
    out = Configured()
    layers: list[list[ServerSpec]] = [list(client), _from_settings(config.mcp_servers, ctx, out)]
    if config.mcp.workspace_files:
        for source, key in WORKSPACE_FILES:
            layers.append(_from_file(workspace / source, source, key, ctx, out))
    disabled = set(config.mcp.disabled)
    seen: dict[str, ServerSpec] = {}
    for layer in layers:
        for spec in layer:
            if spec.name in seen:
                winner = seen[spec.name]
                if winner.source != spec.source:
                    out.problems.append(
                        f"{spec.source}: server {spec.name!r} is also configured in {winner.source}, which wins"
                    )
                continue
            seen[spec.name] = spec
            if spec.name in disabled:
                out.disabled.append((spec.name, spec.source))
            else:
                out.servers.append(spec)
    return out


def _from_settings(settings: Mapping[str, McpServerSetting], ctx: Context, out: Configured) -> list[ServerSpec]:
    specs = []
    for name, setting in settings.items():
        entry = setting.model_dump(exclude_none=True, exclude_defaults=True)
        specs.extend(_entry(name, entry, SOURCE_SETTINGS, f"mcpServers.{name}", ctx, out))
    return specs


def _from_file(path: Path, source: str, key: str, ctx: Context, out: Configured) -> list[ServerSpec]:
    data = _load(path, source, out)
    if data is None:
        return []
    for extra in sorted(set(data) - {key, "inputs"}):
        out.problems.append(f"{source}: {extra}: unknown field; ignored (servers go in {key!r})")
    servers = data.get(key, {})
    if not isinstance(servers, dict):
        out.problems.append(f"{source}: {key}: expected an object of servers; nothing loaded from it")
        return []
    specs = []
    for name, entry in servers.items():
        specs.extend(_entry(name, entry, source, f"{key}.{name}", ctx, out))
    return specs


def _entry(name: str, entry: Any, source: str, where: str, ctx: Context, out: Configured) -> list[ServerSpec]:
    try:
        spec, unknown = read_entry(name, entry, source, ctx)
    except SkipServer as why:
        out.problems.append(f"{source}: server {name!r} skipped: {why}")
        return []
    for extra in unknown:
        if extra in _APPROVAL_FIELDS and source != SOURCE_SETTINGS:
            out.problems.append(
                f"{source}: {where}.{extra}: ignored; tool approvals come only from your own settings "
                "(approval.mcpAllow)"
            )
        else:
            out.problems.append(f"{source}: {where}.{extra}: unknown field; ignored")
    if spec is None:
        out.disabled.append((name, source))
        return []
    return [spec]


def _load(path: Path, source: str, out: Configured) -> dict[str, Any] | None:
    """The file's JSON object, or None when it is missing or unusable (a problem says why)."""
    try:
        if not path.is_file():
            return None
        if path.stat().st_size > MAX_FILE_BYTES:
            out.problems.append(f"{source}: larger than {MAX_FILE_BYTES // 1000} KB; not read")
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        out.problems.append(f"{source}: cannot be read ({error}); no server loaded from it")
        return None
    try:
        data = json.loads(strip_jsonc(text))
    except json.JSONDecodeError as error:
        out.problems.append(
            f"{source}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
            "no server loaded from it"
        )
        return None
    if not isinstance(data, dict):
        out.problems.append(f"{source}: expected a JSON object; no server loaded from it")
        return None
    return data


_JSONC = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.S)


def strip_jsonc(text: str) -> str:
    """JSON with comments (``//``, ``/* */``) and trailing commas, as plain JSON. Strings are
    kept as they are; positions of later errors stay on the same line (comments become spaces)."""

    def keep(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith('"'):
            return token
        return re.sub(r"[^\n]", " ", token)

    return _JSONC.sub(keep, text)


def from_acp(servers: Iterable[Any], workspace: Path, env: Mapping[str, str]) -> tuple[list[ServerSpec], list[str]]:
    """The ``mcpServers`` of ACP's ``session/new``: ``[{name, command, args, env: [{name, value}]}
    | {type: "http", name, url, headers: [{name, value}]}]``, the user's own editor config."""
    ctx = Context(workspace=workspace, env=env)
    specs: list[ServerSpec] = []
    problems: list[str] = []
    for index, server in enumerate(servers):
        if not isinstance(server, dict) or not isinstance(server.get("name"), str) or not server["name"]:
            problems.append(f"{SOURCE_CLIENT}: server #{index + 1} skipped: it has no name")
            continue
        entry = {key: value for key, value in server.items() if key != "name"}
        for key in ("env", "headers"):
            pairs = entry.get(key)
            if isinstance(pairs, list):
                entry[key] = {
                    p.get("name"): p.get("value")
                    for p in pairs
                    if isinstance(p, dict) and isinstance(p.get("name"), str)
                }
        holder = Configured()
        specs.extend(_entry(server["name"], entry, SOURCE_CLIENT, server["name"], ctx, holder))
        problems.extend(holder.problems)
    return specs, problems
