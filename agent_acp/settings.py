"""Where ``agent-lsp acp`` reads its settings: a settings file, ``initialize``'s ``_meta``, and the
environment.

* A JSON settings file (the same keys as the editor settings of docs/protocol.md, camelCase or
  snake_case), named by ``--settings FILE`` or the ``AGENT_LSP_SETTINGS`` variable. Editors that
  launch agents from a command line (Zed's ``agent_servers``, JetBrains' ``acp.json``) set one of
  the two there.
* ``initialize``'s ``_meta.agentLsp`` object (same keys), for clients that can send it; its
  values win over the file's, key by key.
* The environment, as in every front end: ``OPENAI_API_KEY`` / ``ANTHROPIC_API_KEY`` (or the
  variable ``apiKeyEnv`` names), ``OPENAI_BASE_URL`` / ``ANTHROPIC_BASE_URL``. Keys are never read
  from a file or a message.

No settings are read from the workspace: a repository must not be able to turn approvals off.
A bad value is named and dropped (its default applies), never fatal; the problems are logged and
shown in the first session opened.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_core.config import AgentConfig
from agent_core.config_parse import parse_config

SETTINGS_ENV = "AGENT_LSP_SETTINGS"
META_KEY = "agentLsp"


@dataclass(frozen=True)
class Settings:
    config: AgentConfig
    problems: list[str] = field(default_factory=list)


def read_file(path: Path | None) -> tuple[dict[str, Any], list[str]]:
    """The settings object in ``path`` (empty when no file is named) and what was wrong with it."""
    if path is None:
        return {}, []
    try:
        data = json.loads(path.expanduser().read_text(encoding="utf-8"))
    except OSError as error:
        return {}, [f"settings file {path}: cannot be read ({error.strerror or error}); using the defaults"]
    except ValueError as error:
        return {}, [f"settings file {path}: not valid JSON ({error}); using the defaults"]
    if not isinstance(data, dict):
        return {}, [f"settings file {path}: expected a JSON object, got {type(data).__name__}; using the defaults"]
    return data, []


def settings_path(flag: str | None, env: Mapping[str, str]) -> Path | None:
    """``--settings`` wins over ``AGENT_LSP_SETTINGS``; neither means no file."""
    named = flag or env.get(SETTINGS_ENV)
    return Path(named) if named else None


def combine(file_data: Mapping[str, Any], meta: Any) -> Settings:
    """The file's settings overlaid with ``_meta.agentLsp`` (``meta``), validated."""
    problems: list[str] = []
    data: dict[str, Any] = dict(file_data)
    if meta is not None:
        if isinstance(meta, dict):
            data = _overlay(data, meta)
        else:
            problems.append(f"initialize _meta.{META_KEY}: expected an object, got {type(meta).__name__}; ignored")
    config, found = parse_config(data)
    return Settings(config, problems + found)


def _overlay(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        merged[key] = _overlay(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged
