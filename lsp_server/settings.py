"""Editor settings -> :class:`AgentConfig`, with every bad field named and the rest kept.

Settings reach a language server in three ways: ``initializationOptions``, the answer to a
``workspace/configuration`` request (section ``agent``), and ``workspace/didChangeConfiguration``.
Clients disagree on the shape: Neovim sends a plain dict, VS Code wraps it in its section name
(``{"agent": {...}}``) and ``workspace/configuration`` answers with a list (one entry per item
asked). :func:`parse_settings` accepts all of them.

A wrong value must never stop the server: :func:`agent_core.config_parse.parse_config` drops only
the offending fields and names each one, for the server to show with ``window/showMessage``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent_core.config import AgentConfig
from agent_core.config_parse import parse_config

#: The settings section name (``workspace/configuration`` and VS Code's ``agent.*`` keys).
SECTION = "agent"


@dataclass(frozen=True)
class ParsedSettings:
    """The configuration to use plus what was wrong with the input (empty when all was fine)."""

    config: AgentConfig
    problems: list[str] = field(default_factory=list)
    #: False when the client sent nothing (None / empty list): the caller keeps what it had.
    given: bool = True


def unwrap(raw: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """Find the settings object in whatever shape a client sent.

    Returns ``(None, [])`` when the client sent no settings at all, and a problem when the value
    is not an object.
    """
    if raw is None:
        return None, []
    if isinstance(raw, list):
        if not raw:
            return None, []
        return unwrap(raw[0])
    if not isinstance(raw, dict):
        return None, [f"settings: expected an object, got {type(raw).__name__}; using the defaults"]
    inner = raw.get(SECTION)
    if isinstance(inner, dict):
        return inner, []
    if inner is None and SECTION in raw:
        return None, []
    return raw, []


def parse_settings(raw: Any) -> ParsedSettings:
    """Validate client settings into an :class:`AgentConfig` (see
    :func:`agent_core.config_parse.parse_config`: each bad field named and dropped, the rest kept)."""
    data, problems = unwrap(raw)
    if data is None:
        return ParsedSettings(AgentConfig(), problems, given=bool(problems))
    config, found = parse_config(data)
    return ParsedSettings(config, problems + found)
