"""Editor settings -> :class:`AgentConfig`, with every bad field named and the rest kept.

Settings reach a language server in three ways: ``initializationOptions``, the answer to a
``workspace/configuration`` request (section ``agent``), and ``workspace/didChangeConfiguration``.
Clients disagree on the shape: Neovim sends a plain dict, VS Code wraps it in its section name
(``{"agent": {...}}``) and ``workspace/configuration`` answers with a list (one entry per item
asked). :func:`parse_settings` accepts all of them.

A wrong value must never stop the server or silently change unrelated settings, so validation
drops only the offending fields (falling back to their defaults), keeps every valid one, and
returns one readable problem per dropped field for the server to show with ``window/showMessage``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel, to_snake

from agent_core.config import AgentConfig

#: The settings section name (``workspace/configuration`` and VS Code's ``agent.*`` keys).
SECTION = "agent"

#: Enough passes to drop every bad field of a deeply wrong settings object one level at a time.
_MAX_PASSES = 20


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
    """Validate client settings into an :class:`AgentConfig`.

    Each invalid or unknown field is removed and reported as ``"<camelCase.path>: <why>"``; the
    remaining fields are validated again, so one typo never discards the user's other settings.
    """
    data, problems = unwrap(raw)
    if data is None:
        return ParsedSettings(AgentConfig(), problems, given=bool(problems))
    data = _without_nulls(copy.deepcopy(data))
    for _ in range(_MAX_PASSES):
        try:
            return ParsedSettings(AgentConfig.model_validate(data), problems)
        except ValidationError as exc:
            removed = False
            for error in exc.errors():
                loc = tuple(error["loc"])
                problems.append(_describe(loc, error))
                removed = _remove(data, loc) or removed
            if not removed:
                break
    problems.append("settings: could not be repaired; using the defaults")
    return ParsedSettings(AgentConfig(), problems)


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    """``null`` means "not set" (VS Code sends it for a cleared setting): the default applies."""
    return {
        key: _without_nulls(value) if isinstance(value, dict) else value
        for key, value in data.items()
        if value is not None
    }


def _display_path(loc: tuple[Any, ...]) -> str:
    return ".".join(to_camel(part) if isinstance(part, str) else str(part) for part in loc)


def _describe(loc: tuple[Any, ...], error: Any) -> str:
    name = _display_path(loc) or "settings"
    if error["type"] == "extra_forbidden":
        return f"{name}: unknown setting; ignored"
    shown = repr(error.get("input"))
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{name}: {error['msg']} (got {shown}); using the default"


def _remove(data: Any, loc: tuple[Any, ...]) -> bool:
    """Delete the key at ``loc`` (matching camelCase or snake_case spelling); True if found.

    When ``loc`` reaches inside a value that is not an object, the deepest key that exists is
    removed instead, which drops the whole bad value.
    """
    if not loc or not isinstance(data, dict):
        return False
    key = _find_key(data, loc[0])
    if key is None:
        return False
    if len(loc) > 1 and isinstance(data[key], dict) and _remove(data[key], loc[1:]):
        return True
    del data[key]
    return True


def _find_key(data: dict[str, Any], part: Any) -> str | None:
    if not isinstance(part, str):
        return None
    for candidate in (part, to_camel(part), to_snake(part)):
        if candidate in data:
            return candidate
    return None
