"""Pieces both fake wire formats share: how a scripted response becomes tokens, fragments, usage.

A wire module turns one scripted response into a *plan*: a list of byte strings, each one network
write, with ``None`` marking the point where a ``hold`` response waits for ``FakeLLM.release()``.
Keeping the plan as data (instead of writing while building) lets the server apply chunking,
pacing and connection drops uniformly to both formats.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: One network write, or ``None`` for "hold here until released".
PlanItem = bytes | None

_TOKEN = re.compile(r"\S+\s*|\s+")


def tokens(text: str) -> list[str]:
    """Split text into word-sized deltas (a word with its trailing space), like a real model."""
    return _TOKEN.findall(text)


def argument_text(arguments: Any) -> str:
    """A tool call's arguments as the model would stream them: a dict becomes JSON, a string is
    sent as-is (so a test can send malformed or partial JSON)."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments if arguments is not None else {}, ensure_ascii=False)


def fragments(text: str, parts: int = 3) -> list[str]:
    """Cut an argument string into up to ``parts`` pieces at arbitrary points (never empty ones)."""
    if not text:
        return []
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def usage_numbers(response: dict[str, Any], request: dict[str, Any]) -> tuple[int, int]:
    """Input and output tokens to report: the scripted ones, else an estimate from the request size
    and the number of deltas (the same bytes/4 idea real clients use)."""
    usage = response.get("usage") or {}
    if "input_tokens" in usage or "output_tokens" in usage:
        return int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    sent = len(json.dumps(request.get("messages", []))) + len(json.dumps(request.get("system", "")))
    produced = len(tokens(response.get("text", ""))) + sum(
        1 + len(argument_text(c.get("arguments"))) // 4 for c in response.get("tool_calls", [])
    )
    return max(1, sent // 4), max(1, produced)


def normalised_stop(response: dict[str, Any]) -> str:
    """The scripted stop reason in neutral terms (``end_turn``, ``tool_use``, ``max_tokens`` or raw)."""
    if response.get("stop_reason"):
        return str(response["stop_reason"])
    return "tool_use" if response.get("tool_calls") else "end_turn"


#: In-stream error events by name: (Anthropic error type, OpenAI error type, message).
ERROR_EVENTS: dict[str, tuple[str, str, str]] = {
    "overloaded": ("overloaded_error", "server_error", "Overloaded"),
    "rate_limit": ("rate_limit_error", "rate_limit_exceeded", "Rate limit reached"),
    "api_error": ("api_error", "server_error", "Internal server error"),
    "invalid_request": ("invalid_request_error", "invalid_request_error", "Invalid request"),
}


def error_event(name: str) -> tuple[str, str, str]:
    """The error triple for a scripted ``error_event`` name (unknown names become api errors)."""
    return ERROR_EVENTS.get(name, ("api_error", "server_error", name))
