"""One MCP server as the agent will start it, read from one entry of any config dialect.

Users already describe MCP servers in JSON for other tools, in two dialects that differ only in
where the servers sit (``"servers"`` in VS Code's ``.vscode/mcp.json``, ``"mcpServers"`` in
``.mcp.json``, Cline and Cursor) and in their variables. An entry is a program spoken to over stdio
(``command``, ``args``, ``env``, ``cwd``) or a streamable HTTP endpoint (``url``, ``headers``).
:func:`read_entry` turns one entry into a :class:`ServerSpec` with its variables substituted, or
says in one sentence why the server is skipped; fields it does not know are listed, not fatal.

Variables: ``${workspaceFolder}``, ``${workspaceFolderBasename}``, ``${userHome}``,
``${pathSeparator}`` (``${/}``) and ``${env:NAME}`` everywhere; Claude Code's ``${NAME}`` and
``${NAME:-default}`` in ``.mcp.json``. ``${input:...}`` (VS Code's prompts) is not supported: the
server is skipped with a notice saying so.

A workspace's files are written by whoever wrote the repository, so an entry from one may not hand
a provider API key variable to its server (as ``env`` or through ``${env:...}``): such a server is
skipped. Only the user's own settings may do that.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Transport = Literal["stdio", "http"]

#: Where a server was configured, most important first (see :mod:`agent_core.mcp.sources`).
SOURCE_CLIENT = "client"
SOURCE_SETTINGS = "settings"
SOURCE_VSCODE = ".vscode/mcp.json"
SOURCE_MCP_JSON = ".mcp.json"
WORKSPACE_SOURCES = (SOURCE_VSCODE, SOURCE_MCP_JSON)

#: The fields an entry may have; anything else is reported and ignored.
KNOWN_FIELDS = frozenset({"type", "command", "args", "env", "cwd", "url", "headers", "disabled"})
#: ``type`` values meaning streamable HTTP in the dialects in use.
HTTP_TYPES = frozenset({"http", "streamable-http", "streamableHttp", "streamable_http"})

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class SkipServer(Exception):
    """This entry cannot be used; the message says why, in words for the user."""


@dataclass(frozen=True)
class ServerSpec:
    """A server ready to start: every variable substituted."""

    name: str
    source: str
    transport: Transport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The entry as written (variables not substituted): what the trust question shows and hashes.
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def from_workspace(self) -> bool:
        """Configured by a file of the workspace (needs the user's trust before it starts)."""
        return self.source in WORKSPACE_SOURCES

    def describe(self) -> str:
        """The program or URL, as the user would type it."""
        if self.transport == "http":
            return f"{self.url}"
        return " ".join([self.command or "", *self.args])

    def key(self) -> str:
        """Identifies what would run: a change of any launch detail makes another key."""
        data = {"source": self.source, "name": self.name, "raw": self.raw}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Context:
    """What variables are substituted from, and which names must not reach a workspace server."""

    workspace: Path
    env: Mapping[str, str]
    #: Environment variables holding provider API keys.
    secrets: frozenset[str] = frozenset()


def read_entry(name: str, entry: Any, source: str, ctx: Context) -> tuple[ServerSpec | None, list[str]]:
    """The server of one entry and the names of the fields it ignored; ``None`` when the entry
    is disabled. Raises :class:`SkipServer` when the entry cannot be used."""
    if not isinstance(entry, dict):
        raise SkipServer(f"expected an object, got {_kind(entry)}")
    unknown = sorted(key for key in entry if key not in KNOWN_FIELDS)
    if entry.get("disabled") is True:
        return None, unknown
    kind = entry.get("type")
    if kind is not None and not isinstance(kind, str):
        raise SkipServer(f"type: expected a string, got {_kind(kind)}")
    if kind == "sse":
        raise SkipServer("type sse (the old HTTP+SSE transport) is not supported; use streamable HTTP (type http)")
    transport: Transport = "http" if kind in HTTP_TYPES or (kind is None and "url" in entry) else "stdio"
    if kind is not None and kind not in HTTP_TYPES and kind != "stdio":
        raise SkipServer(f"type: unknown transport {kind!r}; expected stdio or http")
    substitute = _Substitution(ctx, source)
    if transport == "stdio":
        command = _text(entry, "command", required=True)
        spec = ServerSpec(
            name=name,
            source=source,
            transport="stdio",
            command=substitute(command),
            args=tuple(substitute(arg) for arg in _texts(entry, "args")),
            env={key: substitute(value) for key, value in _table(entry, "env").items()},
            cwd=substitute(cwd) if (cwd := _text(entry, "cwd")) else None,
            raw=dict(entry),
        )
    else:
        url = _text(entry, "url", required=True)
        spec = ServerSpec(
            name=name,
            source=source,
            transport="http",
            url=substitute(url),
            headers={key: substitute(value) for key, value in _table(entry, "headers").items()},
            raw=dict(entry),
        )
    if source in WORKSPACE_SOURCES:
        _refuse_secrets(spec, substitute.used, ctx.secrets)
    return spec, unknown


def _refuse_secrets(spec: ServerSpec, used: set[str], secrets: frozenset[str]) -> None:
    named = sorted((used | set(spec.env)) & secrets)
    if named:
        raise SkipServer(
            f"it would pass {', '.join(named)} (a provider API key) to the server; a workspace file "
            "may not do that, only your own mcpServers setting"
        )


class _Substitution:
    """Substitutes variables in one entry's strings and remembers which variables it read."""

    def __init__(self, ctx: Context, source: str) -> None:
        self._ctx = ctx
        self._claude = source == SOURCE_MCP_JSON
        self.used: set[str] = set()

    def __call__(self, text: str) -> str:
        return _VARIABLE.sub(lambda match: self._value(match.group(1)), text)

    def _value(self, name: str) -> str:
        ctx = self._ctx
        fixed = {
            "workspaceFolder": str(ctx.workspace),
            "workspaceRoot": str(ctx.workspace),
            "workspaceFolderBasename": ctx.workspace.name,
            "userHome": ctx.env.get("HOME") or str(Path.home()),
            "pathSeparator": os.sep,
            "/": os.sep,
        }
        if name in fixed:
            return fixed[name]
        if name.startswith("input:"):
            raise SkipServer(
                f"it uses ${{{name}}}, and input prompts are not supported; put the value in an "
                "environment variable and use ${env:NAME}"
            )
        if name.startswith("env:"):
            return self._env(name[4:], None)
        if self._claude and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(:-.*)?", name, flags=re.S):
            variable, _, default = name.partition(":-")
            return self._env(variable, default if ":-" in name else None)
        raise SkipServer(f"it uses ${{{name}}}, a variable agent-lsp does not know")

    def _env(self, variable: str, default: str | None) -> str:
        self.used.add(variable)
        value = self._ctx.env.get(variable)
        return value if value is not None else (default or "")


def _text(entry: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = entry.get(key)
    if value is None:
        if required:
            raise SkipServer(f"it has no {key}")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise SkipServer(f"{key}: expected a non-empty string, got {_kind(value)}")
    return value


def _texts(entry: dict[str, Any], key: str) -> list[str]:
    value = entry.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, (str, int, float)) for item in value):
        raise SkipServer(f"{key}: expected a list of strings, got {_kind(value)}")
    return [str(item) for item in value]


def _table(entry: dict[str, Any], key: str) -> dict[str, str]:
    """A name -> string object (numbers are written as strings, ``null`` means not set)."""
    value = entry.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SkipServer(f"{key}: expected an object of strings, got {_kind(value)}")
    out: dict[str, str] = {}
    for name, item in value.items():
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise SkipServer(f"{key}.{name}: expected a string, got {_kind(item)}")
        out[name] = str(item)
    return out


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value),
        "null" if value is None else "a number" if isinstance(value, (int, float)) else type(value).__name__,
    )
