"""User settings (a JSON object from an editor, a file, a protocol message) -> :class:`AgentConfig`,
with every bad field named and the rest kept.

A wrong value must never stop a front end or silently change unrelated settings, so validation
drops only the offending fields (falling back to their defaults), keeps every valid one, and
returns one readable problem per dropped field, named by its camelCase path as users write it.
Every front end reads settings through :func:`parse_config`; where the object comes from (and in
which wrapper) is the front end's business.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel, to_snake

from agent_core.config import AgentConfig

#: Enough passes to drop every bad field of a deeply wrong settings object one level at a time.
_MAX_PASSES = 20


def parse_config(data: Mapping[str, Any]) -> tuple[AgentConfig, list[str]]:
    """Validate ``data`` into an :class:`AgentConfig` and the problems found.

    Each invalid or unknown field is removed and reported as ``"<camelCase.path>: <why>"``; the
    remaining fields are validated again, so one typo never discards the user's other settings.
    ``null`` means "not set": the default applies.
    """
    settings = _without_nulls(copy.deepcopy(dict(data)))
    problems: list[str] = []
    for _ in range(_MAX_PASSES):
        try:
            return AgentConfig.model_validate(settings), problems
        except ValidationError as exc:
            removed = False
            for error in exc.errors():
                loc = tuple(error["loc"])
                problems.append(_describe(loc, error))
                removed = _remove(settings, loc) or removed
            if not removed:
                break
    problems.append("settings: could not be repaired; using the defaults")
    return AgentConfig(), problems


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
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
