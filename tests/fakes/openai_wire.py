"""The OpenAI Chat Completions streaming wire format, as the fake server sends it.

Chunks follow what api.openai.com sends: a first chunk with the role, ``content`` deltas, tool-call
deltas keyed by ``index`` (id and name only in the first delta, arguments as string fragments,
the first one empty), a chunk with ``finish_reason``, then, when the request asked for
``stream_options.include_usage``, a usage chunk with ``choices: []``, then ``data: [DONE]``.
``shape`` reproduces the odd tool-call deltas seen from other OpenAI-compatible servers.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.stream_parts import (
    PlanItem,
    argument_text,
    error_event,
    fragments,
    normalised_stop,
    tokens,
    usage_numbers,
)

_FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}

#: Tool-call delta shapes: ``standard`` (OpenAI), ``no_index`` (each call whole in one delta
#: without ``index``, as Ollama sends it), ``same_index`` (every call on index 0, told apart by its
#: id), ``interleaved`` (fragments of parallel calls alternate), ``id_every_delta`` (the id repeated
#: in every fragment).
SHAPES = ("standard", "no_index", "same_index", "interleaved", "id_every_delta")

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "not_found_error",
    408: "timeout",
    409: "conflict",
    413: "request_too_large",
    429: "rate_limit_exceeded",
}


def error_body(response: dict[str, Any]) -> str:
    """The JSON body of a non-200 answer, in OpenAI's ``{"error": {...}}`` shape."""
    status = int(response.get("status", 500))
    kind = response.get("error_type") or _ERROR_TYPES.get(status, "server_error")
    code = "invalid_api_key" if status == 401 else kind
    message = response.get("error_message") or f"Fake error {status}"
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return json.dumps(body, ensure_ascii=False)


class _Chunks:
    """Builds ``chat.completion.chunk`` events with the common fields filled in."""

    def __init__(self, model: str, newline: str, usage: dict[str, int] | None) -> None:
        self.model = model
        self.newline = newline
        self.usage = usage

    def event(self, payload: dict[str, Any] | str) -> bytes:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        return f"data: {data}{self.newline}{self.newline}".encode()

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self.usage is not None:
            body["usage"] = self.usage
        return self.event(body)


def _tool_deltas(calls: list[dict[str, Any]], shape: str) -> list[list[dict[str, Any]]]:
    """The ``tool_calls`` list of each successive delta, in the requested shape."""
    if shape == "no_index":
        return [
            [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": argument_text(c.get("arguments"))},
                }
            ]
            for c in calls
        ]
    per_call: list[list[dict[str, Any]]] = []
    for i, c in enumerate(calls):
        index = 0 if shape == "same_index" else i
        first = {"index": index, "id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": ""}}
        rest = []
        for piece in fragments(argument_text(c.get("arguments"))):
            delta: dict[str, Any] = {"index": index, "function": {"arguments": piece}}
            if shape == "id_every_delta":
                delta["id"] = c["id"]
            rest.append(delta)
        per_call.append([first, *rest])
    if shape != "interleaved":
        return [[d] for deltas in per_call for d in deltas]
    out: list[list[dict[str, Any]]] = []
    for step in range(max((len(d) for d in per_call), default=0)):
        out.extend([deltas[step]] for deltas in per_call if step < len(deltas))
    return out


def plan(response: dict[str, Any], request: dict[str, Any]) -> list[PlanItem]:
    """Every network write of one streamed answer to a ``/chat/completions`` request."""
    shape = response.get("shape", "standard")
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")
    newline = response.get("newline", "\n")
    input_tokens, output_tokens = usage_numbers(response, request)
    usage = {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }
    c = _Chunks(str(request.get("model", "fake-model")), newline, usage if response.get("repeat_usage") else None)
    out: list[PlanItem] = [c.chunk({"role": "assistant", "content": ""})]

    def in_stream_error() -> None:
        _, kind, message = error_event(response["error_event"])
        out.append(c.event({"error": {"message": message, "type": kind, "code": kind}}))

    if response.get("error_event") and not response.get("error_after_text"):
        in_stream_error()
        return out
    out.extend(c.chunk({"content": piece}) for piece in tokens(response.get("text", "")))
    out.extend(c.chunk({"tool_calls": d}) for d in _tool_deltas(response.get("tool_calls", []), shape))
    if response.get("error_event"):
        in_stream_error()
        return out
    if response.get("hold"):
        out.append(None)
    if response.get("no_done"):
        return out
    stop = normalised_stop(response)
    out.append(c.chunk({}, finish=_FINISH.get(stop, stop)))
    if (request.get("stream_options") or {}).get("include_usage"):
        out.append(
            c.event(
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 1700000000,
                    "model": c.model,
                    "choices": [],
                    "usage": usage,
                }
            )
        )
    out.append(c.event("[DONE]"))
    return out
