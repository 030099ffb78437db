"""How an MCP server's tools are offered to the model, and how their results come back as text.

Names: each tool is offered as ``server__tool``. Providers accept ``^[a-zA-Z0-9_-]{1,64}$``
(OpenAI's rule, the strictest of ours), so other characters become ``_`` and a name that would be
longer keeps its head and gets a short hash of the whole, staying unique. Two servers whose tools
end up with the same name (``my.db`` and ``my_db``) cannot both be offered: the second is left out
with a notice naming both.

Schemas are passed through as the server wrote them, after the repairs providers need: the top
level must be an object schema (a missing ``type`` is added; ``anyOf``/``oneOf``/``allOf``/``not``/
``enum`` at the top level, which OpenAI refuses, are dropped), and an array without ``items`` gets
``items: {}``. A schema that is not valid JSON Schema at all leaves the tool out, with a notice.

Results: text content as it is; images, audio and binary resources summarised in a line (type and
size: the model cannot see them here); structured content when there is nothing else. The whole is
capped like command output by the tool registry.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

#: What every provider accepts as a tool name.
NAME_LIMIT = 64
SEPARATOR = "__"
#: Longest description passed on (a hostile server must not fill the context with one).
DESCRIPTION_LIMIT = 2000

_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9_-]")
_TOP_LEVEL_REFUSED = ("anyOf", "oneOf", "allOf", "not", "enum")


class BadSchema(Exception):
    """The tool's input schema cannot be offered; the message says why."""


def offered_name(server: str, tool: str) -> str:
    """The name the model calls ``tool`` of ``server`` by."""
    name = f"{_NOT_ALLOWED.sub('_', server)}{SEPARATOR}{_NOT_ALLOWED.sub('_', tool)}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[: NAME_LIMIT - 9]}_{digest}"


def description(server: str, text: str | None) -> str:
    """The tool's description, cut to :data:`DESCRIPTION_LIMIT`, saying which server it is from."""
    body = (text or "").strip() or "(no description)"
    if len(body) > DESCRIPTION_LIMIT:
        body = body[: DESCRIPTION_LIMIT - 1] + "…"
    return f"{body}\n(MCP server {server!r}.)"


def input_schema(schema: Any) -> dict[str, Any]:
    """The schema to send for a tool, repaired where providers need it; raises
    :class:`BadSchema` when it cannot be offered."""
    if not isinstance(schema, dict):
        raise BadSchema(f"its input schema is {type(schema).__name__}, not an object")
    kind = schema.get("type", "object")
    if kind != "object":
        raise BadSchema(f"its input schema has type {kind!r}; tools take an object of arguments")
    _check(schema)
    out = {key: value for key, value in schema.items() if key not in _TOP_LEVEL_REFUSED}
    out["type"] = "object"
    out.setdefault("properties", {})
    fixed = _with_items(out)
    assert isinstance(fixed, dict)
    return fixed


def _check(schema: dict[str, Any]) -> None:
    from jsonschema import exceptions, validators  # a dependency of the mcp package

    try:
        validators.validator_for(schema, default=validators.Draft202012Validator).check_schema(schema)
    except exceptions.SchemaError as error:
        where = "/".join(str(part) for part in error.path) or "the top level"
        raise BadSchema(f"its input schema is invalid at {where}: {error.message}") from None
    except Exception as error:  # a $ref loop or a schema too deep to check
        raise BadSchema(f"its input schema cannot be checked ({type(error).__name__})") from None


def _with_items(node: Any) -> Any:
    """Every array schema below ``node`` with an ``items`` (OpenAI refuses arrays without)."""
    if isinstance(node, list):
        return [_with_items(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _with_items(value) for key, value in node.items()}
    if out.get("type") == "array" and "items" not in out and "prefixItems" not in out:
        out["items"] = {}
    return out


def result_text(content: list[Any], structured: Any) -> str:
    """A ``tools/call`` result's content as the text the model reads."""
    parts = [_content_text(item) for item in content]
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    return "\n".join(parts) if parts else "(the tool returned nothing)"


def _content_text(item: Any) -> str:
    kind = getattr(item, "type", None)
    if kind == "text":
        return str(item.text)
    if kind in ("image", "audio"):
        size = len(item.data) * 3 // 4  # base64
        return f"[{kind} content: {item.mime_type}, about {size} bytes; not shown to the model]"
    if kind == "resource_link":
        return f"[resource link: {item.uri}{' (' + item.name + ')' if getattr(item, 'name', None) else ''}]"
    if kind == "resource":
        resource = item.resource
        text = getattr(resource, "text", None)
        if text is not None:
            return f"[resource {resource.uri}]\n{text}"
        blob = getattr(resource, "blob", "") or ""
        mime = getattr(resource, "mime_type", None) or "binary"
        return f"[resource {resource.uri}: {mime}, about {len(blob) * 3 // 4} bytes; not shown to the model]"
    return f"[{kind or type(item).__name__} content; not shown to the model]"
