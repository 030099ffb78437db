"""Assembling OpenAI-style streamed tool calls from their deltas, robust to every server's quirks.

The OpenAI wire format keys tool-call deltas by ``index``; the id and name come in the first delta
and the arguments follow as string fragments. OpenAI-compatible servers bend this (see the
reliability notes), so a delta is matched to a call by these rules, in order:

1. an ``id`` already seen continues that call (some servers repeat the id in every delta);
2. a new ``id`` starts a new call, even on an index already in use (servers that put every
   parallel call on index 0);
3. no ``id``: the call at that ``index``; with no index either, the most recent call (Ollama sends
   each call whole, without an index).

Arguments are parsed only once the stream says the response is complete (:meth:`finish`), never
from a fragment; an empty argument string means ``{}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agent_core.events import ToolCallReady, ToolCallStarted
from agent_core.messages import ToolCall, new_id

#: Key under which unparseable arguments are handed to the tool layer, which reports the problem
#: to the model as a tool error (so the model can correct itself) instead of failing the turn.
INVALID_ARGUMENTS_KEY = "_invalid_arguments"


@dataclass
class _PartialCall:
    position: int
    id: str | None = None
    name: str | None = None
    fragments: list[str] = field(default_factory=list)
    started: bool = False


class ToolCallAssembler:
    """Collects tool-call deltas of one response; emits Started events early, Ready at the end."""

    def __init__(self) -> None:
        self._calls: list[_PartialCall] = []
        self._by_index: dict[int, _PartialCall] = {}
        self._by_id: dict[str, _PartialCall] = {}

    @property
    def any(self) -> bool:
        return bool(self._calls)

    def add(self, delta: dict[str, Any]) -> list[ToolCallStarted]:
        """Take one entry of a delta's ``tool_calls`` list; returns a Started event the first
        time a call's name is known."""
        index = delta.get("index") if isinstance(delta.get("index"), int) else None
        call_id = delta.get("id") if isinstance(delta.get("id"), str) and delta.get("id") else None
        call = self._match(index, call_id)
        if index is not None:
            self._by_index[index] = call
        if call_id and call.id is None:
            call.id = call_id
            self._by_id[call_id] = call
        function = delta.get("function") or {}
        name = function.get("name")
        if isinstance(name, str) and name and not call.name:
            call.name = name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call.fragments.append(arguments)
        elif isinstance(arguments, dict):  # some servers send the object itself
            call.fragments = [json.dumps(arguments)]
        if call.name and not call.started:
            call.started = True
            if call.id is None:
                call.id = "call_" + new_id()
                self._by_id[call.id] = call
            return [ToolCallStarted(index=call.position, id=call.id, name=call.name)]
        return []

    def _match(self, index: int | None, call_id: str | None) -> _PartialCall:
        if call_id and call_id in self._by_id:
            return self._by_id[call_id]
        if call_id is None:
            if index is not None and index in self._by_index:
                return self._by_index[index]
            if index is None and self._calls:
                return self._calls[-1]
        elif index is not None and index in self._by_index and self._by_index[index].id is None:
            return self._by_index[index]  # the id arrived after a fragment without one
        call = _PartialCall(position=len(self._calls))
        self._calls.append(call)
        return call

    def finish(self) -> list[ToolCallReady]:
        """The response is complete: parse every named call's arguments, in order of appearance.
        A call that never got a name cannot be run and is dropped."""
        ready = []
        for call in self._calls:
            if not call.name or call.id is None:
                continue
            ready.append(
                ToolCallReady(
                    call=ToolCall(id=call.id, name=call.name, arguments=parse_arguments("".join(call.fragments)))
                )
            )
        return ready


def parse_arguments(text: str) -> dict[str, Any]:
    """Complete argument JSON -> dict; "" -> {}; anything else is kept under
    :data:`INVALID_ARGUMENTS_KEY` so the tool layer can tell the model what went wrong."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {INVALID_ARGUMENTS_KEY: text}
    return value if isinstance(value, dict) else {INVALID_ARGUMENTS_KEY: text}
