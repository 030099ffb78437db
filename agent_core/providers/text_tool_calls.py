"""Tool calls that a model wrote as text, turned into real tool calls.

Small local models (Qwen2.5-Coder-1.5B among them) pick the right tool with the right arguments
but write the call as JSON in their reply, often in a Markdown fence, instead of in the
``<tool_call>`` tags llama.cpp parses; the user would see raw JSON and nothing would run. A reply
becomes tool calls here when it is, apart from whitespace, nothing but calls in one of the shapes

* bare: ``{"name": ..., "arguments": {...}}``, a list of them, or several one after another;
* fenced: the same inside ```` ```json ```` (or a bare ```` ``` ````) fences;
* tagged: the same inside ``<tool_call>...</tool_call>`` (the last closing tag may be missing),

and every call names an offered tool. Anything else stays text: an unknown name, JSON inside a
longer answer, a call cut off by the output limit. The arguments are then validated by the tool
like those of any other call.

While streaming, a reply that starts like a call (``{``, ``[``, a json fence, ``<tool_call>``) is
held back until it is decided, so raw JSON never flashes by as the answer; as soon as it is clear
that it is not a call (prose after the JSON, an unknown tool) it is let through.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

from agent_core.events import (
    ProviderEvent,
    StreamFinished,
    TextDelta,
    ToolCallReady,
    ToolCallStarted,
)
from agent_core.messages import ToolCall, new_id
from agent_core.providers.base import ToolSpec
from agent_core.providers.closing import closing

_OPEN_TAG = "<tool_call>"
_CLOSE_TAG = "</tool_call>"
_FENCE = re.compile(r"```[ \t]*(json)?[ \t]*\n(.*?)\n?[ \t]*```", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
#: A delta holding one of these may complete a block, so the held text is checked again.
_CLOSERS = set("}]`>")

Call = tuple[str, dict[str, Any]]


def parse_text_tool_calls(text: str, offered: Collection[str]) -> list[Call] | None:
    """The calls ``text`` consists of, or None when it is anything else (see the module docstring)."""
    stripped = text.strip()
    if not stripped or not offered:
        return None
    if stripped.startswith(_OPEN_TAG):
        blocks = _blocks(stripped, _TAG)
    elif stripped.startswith("```"):
        blocks = _blocks(stripped, _FENCE, group=2)
    else:
        blocks = [stripped]
    if blocks is None:
        return None
    calls: list[Call] = []
    for block in blocks:
        found = _json_calls(_unfence(block.strip()), offered)
        if found is None:
            return None
        calls.extend(found)
    return calls or None


def _blocks(text: str, pattern: re.Pattern[str], group: int = 1) -> list[str] | None:
    """The contents of consecutive blocks that make up all of ``text`` (only whitespace between)."""
    blocks = []
    position = 0
    while position < len(text):
        match = pattern.match(text, position)
        if match is None:
            return None
        blocks.append(match.group(group))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return blocks


def _unfence(block: str) -> str:
    """A tagged block may itself hold a fenced one."""
    match = _FENCE.fullmatch(block)
    return match.group(2) if match else block


def _json_calls(block: str, offered: Collection[str]) -> list[Call] | None:
    """One or more JSON values, whitespace apart, each a call or a list of calls; else None."""
    decoder = json.JSONDecoder()
    calls: list[Call] = []
    position = 0
    while position < len(block):
        try:
            value, position = decoder.raw_decode(block, position)
        except ValueError:
            return None
        items = value if isinstance(value, list) else [value]
        for item in items:
            call = _call(item, offered)
            if call is None:
                return None
            calls.append(call)
        while position < len(block) and block[position].isspace():
            position += 1
    return calls or None


def _call(item: Any, offered: Collection[str]) -> Call | None:
    if not isinstance(item, dict) or set(item) != {"name", "arguments"}:
        return None
    name, arguments = item["name"], item["arguments"]
    if not isinstance(name, str) or name not in offered:
        return None
    if isinstance(arguments, str):  # the OpenAI wire form: the object encoded as a string
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return None
    return (name, arguments) if isinstance(arguments, dict) else None


class TextToolCallFilter:
    """Applies :func:`parse_text_tool_calls` to one streamed reply (see the module docstring)."""

    def __init__(self, offered: Collection[str]) -> None:
        self.offered = frozenset(offered)
        self._buffer = ""
        #: "undecided" (could still be a call), "held" (looks like one), "passing" (it is text).
        self._mode = "undecided"
        self._native_calls = 0
        #: The held reply's first complete block (a JSON value, a fence, a tagged call), once known.
        self._first: str | None = None

    def feed(self, event: ProviderEvent) -> list[ProviderEvent]:
        if isinstance(event, TextDelta):
            return self._text(event.text)
        if isinstance(event, ToolCallStarted):
            self._native_calls += 1
        if isinstance(event, StreamFinished):
            return self._finish(event)
        return [event]

    def _text(self, text: str) -> list[ProviderEvent]:
        if self._mode == "passing":
            return [TextDelta(text=text)]
        self._buffer += text
        if self._mode == "undecided":
            self._mode = self._decide(self._buffer.lstrip())
        if self._mode == "held" and self._ruled_out(text):
            self._mode = "passing"
        if self._mode == "passing":
            return self._release()
        return []

    def _decide(self, head: str) -> str:
        """From the start of the reply: passing, held, or still undecided."""
        if not head:
            return "undecided"
        if head[0] in "{[":
            return "held"
        if head.startswith("<"):
            if head.startswith(_OPEN_TAG):
                return "held"
            return "undecided" if _OPEN_TAG.startswith(head) else "passing"
        if head.startswith("`"):
            if "```".startswith(head):
                return "undecided"
            if not head.startswith("```"):
                return "passing"
            first_line, newline, rest = head[3:].partition("\n")
            info = first_line.strip().lower()
            if not newline:
                return "undecided" if "json".startswith(info) else "passing"
            if info not in ("", "json"):
                return "passing"
            rest = rest.lstrip()
            if not rest:
                return "undecided"
            return "held" if rest[0] in "{[" else "passing"
        return "passing"

    def _ruled_out(self, text: str) -> bool:
        """Whether the held reply can no longer be calls: its first complete block is not a call
        of an offered tool, or something other than another block of the same shape follows it."""
        head = self._buffer.lstrip()
        if self._first is None:
            if not _CLOSERS.intersection(text):
                return False
            self._first = _first_block(head)
            if self._first is None:
                return False
            if parse_text_tool_calls(self._first, self.offered) is None:
                return True
        rest = head[len(self._first) :].lstrip()
        return bool(rest) and rest[0] != self._first[0] and not (self._first[0] in "{[" and rest[0] in "{[")

    def _release(self) -> list[ProviderEvent]:
        text, self._buffer = self._buffer, ""
        return [TextDelta(text=text)] if text else []

    def _finish(self, finished: StreamFinished) -> list[ProviderEvent]:
        calls = None
        if self._mode == "held" and not self._native_calls and finished.stop_reason != "max_tokens":
            calls = parse_text_tool_calls(self._buffer, self.offered)
        if calls is None:
            self._mode = "passing"
            return [*self._release(), finished]
        self._buffer = ""
        out: list[ProviderEvent] = []
        for index, (name, arguments) in enumerate(calls):
            call = ToolCall(id="call_" + new_id(), name=name, arguments=arguments)
            out.append(ToolCallStarted(index=index, id=call.id, name=name))
            out.append(ToolCallReady(call=call))
        out.append(StreamFinished(stop_reason="tool_use"))
        return out


def _first_block(head: str) -> str | None:
    """The first complete block of a reply that starts like a call, or None while it is open."""
    if head.startswith(_OPEN_TAG):
        end = head.find(_CLOSE_TAG)
        return head[: end + len(_CLOSE_TAG)] if end >= 0 else None
    if head.startswith("```"):
        match = _FENCE.match(head)
        return match.group(0) if match else None
    try:
        _, end = json.JSONDecoder().raw_decode(head)
    except ValueError:
        return None
    return head[:end]


def call_schema(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The JSON schema of a reply that is exactly one call of one of ``tools`` in the bare shape,
    for servers that can constrain their output to a schema (llama.cpp's ``json_schema``)."""
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {"name": {"const": tool.name}, "arguments": tool.parameters},
                "required": ["name", "arguments"],
            }
            for tool in tools
        ]
    }


async def with_text_tool_calls(
    events: AsyncIterator[ProviderEvent], offered: Collection[str]
) -> AsyncIterator[ProviderEvent]:
    """``events`` with text-written tool calls turned into real ones (nothing to do without tools)."""
    calls = TextToolCallFilter(offered)
    async with closing(events):
        async for event in events:
            for out in calls.feed(event) if offered else [event]:
                yield out
