"""The Anthropic Messages streaming wire format, as the fake server sends it.

Events follow api.anthropic.com: ``message_start`` (input tokens), a ``ping``, per content block
``content_block_start`` / ``content_block_delta`` (``text_delta`` or ``input_json_delta`` whose
first ``partial_json`` is "") / ``content_block_stop``, then ``message_delta`` (stop reason and
cumulative usage) and ``message_stop``. An in-stream failure is ``event: error``.
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

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def error_body(response: dict[str, Any]) -> str:
    """The JSON body of a non-200 answer, in Anthropic's ``{"type": "error", ...}`` shape."""
    status = int(response.get("status", 500))
    kind = response.get("error_type") or _ERROR_TYPES.get(status, "api_error")
    message = response.get("error_message") or f"Fake error {status}"
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return json.dumps(body, ensure_ascii=False)


def plan(response: dict[str, Any], request: dict[str, Any]) -> list[PlanItem]:
    """Every network write of one streamed answer to a ``/v1/messages`` request."""
    newline = response.get("newline", "\n")

    def event(name: str, payload: dict[str, Any]) -> bytes:
        data = json.dumps(payload, ensure_ascii=False)
        return f"event: {name}{newline}data: {data}{newline}{newline}".encode()

    input_tokens, output_tokens = usage_numbers(response, request)
    out: list[PlanItem] = [
        event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": request.get("model", "fake-model"),
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": input_tokens, "output_tokens": 1},
                },
            },
        ),
        event("ping", {"type": "ping"}),
    ]

    def in_stream_error() -> None:
        kind, _, message = error_event(response["error_event"])
        out.append(event("error", {"type": "error", "error": {"type": kind, "message": message}}))

    if response.get("error_event") and not response.get("error_after_text"):
        in_stream_error()
        return out
    index = 0
    pieces = tokens(response.get("text", ""))
    if pieces:
        out.append(
            event(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
            )
        )
        out.extend(
            event(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}},
            )
            for p in pieces
        )
        out.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    for call in response.get("tool_calls", []):
        out.append(
            event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "tool_use", "id": call["id"], "name": call["name"], "input": {}},
                },
            )
        )
        for piece in ["", *fragments(argument_text(call.get("arguments")))]:
            out.append(
                event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
            )
        if response.get("error_event"):
            break  # the error arrives while this tool call is still open
        out.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    if response.get("error_event"):
        in_stream_error()
        return out
    if response.get("hold"):
        out.append(None)
    if response.get("no_done"):
        return out
    usage: dict[str, int] = {"output_tokens": output_tokens}
    if response.get("repeat_usage"):
        usage["input_tokens"] = input_tokens  # the current API repeats it here, cumulatively
    out.append(
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": normalised_stop(response), "stop_sequence": None},
                "usage": usage,
            },
        )
    )
    out.append(event("message_stop", {"type": "message_stop"}))
    return out
