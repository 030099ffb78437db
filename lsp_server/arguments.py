"""Checking ``workspace/executeCommand`` arguments, with errors that name the bad field.

Every command takes one JSON object. A malformed one gets a JSON-RPC ``InvalidParams`` error that
says which field is wrong and what was expected; the server keeps serving. The helpers return
plain Python values and lsprotocol types so handlers never touch raw JSON twice.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

#: LSP's "the request was valid but failed" code (LSP 3.17 ``RequestFailed``).
REQUEST_FAILED = -32803
#: The largest LSP ``uinteger`` (2^31 - 1): line and character numbers above it are invalid.
MAX_UINTEGER = 2**31 - 1


class RequestFailed(JsonRpcException):
    """A well-formed request that cannot be done now (busy, unknown session, bad settings)."""

    CODE = REQUEST_FAILED
    MESSAGE = "Request failed"


def invalid(command: str, message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(f"{command}: {message}")


def single_object(command: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The one argument object (missing means ``{}``)."""
    if not args:
        return {}
    if len(args) > 1 or not isinstance(args[0], dict):
        raise invalid(command, "expected one argument object, e.g. arguments: [{...}]")
    return args[0]


def require_str(command: str, obj: dict[str, Any], key: str, *, allow_empty: bool = False) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise invalid(command, f"'{key}' must be a non-empty string")
    return value


def optional_str(command: str, obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(command, f"'{key}' must be a string")
    return value


def parse_position(command: str, value: Any, name: str) -> types.Position:
    if not isinstance(value, dict):
        raise invalid(command, f"'{name}' must be an object {{line, character}}")
    numbers: dict[str, int] = {}
    for part in ("line", "character"):
        number = value.get(part)
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= MAX_UINTEGER:
            raise invalid(command, f"'{name}.{part}' must be an integer from 0 to {MAX_UINTEGER}")
        numbers[part] = number
    return types.Position(line=numbers["line"], character=numbers["character"])


def parse_range(command: str, value: Any, name: str = "range") -> types.Range:
    if not isinstance(value, dict):
        raise invalid(command, f"'{name}' must be an object {{start, end}}")
    start = parse_position(command, value.get("start"), f"{name}.start")
    end = parse_position(command, value.get("end"), f"{name}.end")
    if (end.line, end.character) < (start.line, start.character):
        raise invalid(command, f"'{name}' ends before it starts")
    return types.Range(start=start, end=end)


def range_to_json(range_: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": range_.start.line, "character": range_.start.character},
        "end": {"line": range_.end.line, "character": range_.end.character},
    }


def string_list(command: str, value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(command, f"'{name}' must be a list of strings")
    return list(value)
