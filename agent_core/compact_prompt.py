"""The compact prompt small local models get: the same tools in fewer tokens, and never changing.

On two CPU cores a 1.5B model reads about 30 prompt tokens a second, so the agent's usual first
request (system prompt plus five tool definitions, about 1,200 tokens once the chat template has
wrapped them) costs 35-40 s before the first token. For providers whose ``prompt_style`` is
``"compact"`` the system prompt is a few lines and each tool keeps its name, a one-line ``brief``
and an argument schema without descriptions or limits (the tool still validates every call).

Both are byte-identical across rounds, turns and workspaces (no timestamps, no folder name), so
llama.cpp reuses the cached prefix every time, and one saved prefix
(:mod:`agent_core.providers.prompt_cache`) serves every workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent_core.providers.base import ToolSpec

COMPACT_SYSTEM_PROMPT = (
    "You are agent-lsp, a coding agent working in the user's project. Paths are relative to the "
    "project root, which is '.'. For questions about the project, first call a tool: list_files to "
    "see the files, read_file to read one, search_text to find code. Read a file before you edit it. "
    "When a tool result arrives, answer the user in plain words from it; never call the same tool "
    "twice with the same arguments."
)

#: Schema keys kept in the compact form: what a model needs to write a valid call.
_KEPT = ("type", "properties", "required", "items", "enum")


def compact_tools(specs: Sequence[ToolSpec]) -> list[ToolSpec]:
    """The same tools with their brief descriptions and bare argument schemas."""
    return [
        ToolSpec(
            name=spec.name,
            description=spec.brief or spec.description,
            parameters=_bare(spec.parameters),
            brief=spec.brief,
        )
        for spec in specs
    ]


def _bare(schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _KEPT:
        if key not in schema:
            continue
        value = schema[key]
        if key == "properties":
            value = {name: _bare(prop) for name, prop in value.items()}
        elif key == "items" and isinstance(value, dict):
            value = _bare(value)
        out[key] = value
    return out
