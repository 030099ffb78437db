"""The classification table: every status and error type, x-should-retry, retry-after, messages."""

from __future__ import annotations

import json

import httpx
import pytest

from agent_core.errors import (
    RULES,
    ErrorContext,
    classify_status,
    classify_stream_error,
    classify_transport,
    make_error,
    parse_retry_after,
)

CTX = ErrorContext(
    provider="OpenAI",
    model="gpt-4o-mini",
    base_url="https://api.openai.com/v1",
    key_env="OPENAI_API_KEY",
    secret="sk-secret-123",
)
WALL = 1_700_000_000.0


def classify(status: int, body: str = "", headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return classify_status(status, body, headers or {}, CTX, lambda: WALL)


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, "bad_request", False),
        (401, "auth", False),
        (403, "permission", False),
        (404, "not_found", False),
        (408, "timeout", True),
        (409, "conflict", True),
        (413, "too_large", False),
        (429, "rate_limit", True),
        (500, "server", True),
        (502, "server", True),
        (503, "server", True),
        (504, "server", True),
        (529, "overloaded", True),
        (418, "other", False),
    ],
)
def test_status_table(status: int, kind: str, retryable: bool) -> None:
    err = classify(status)
    assert (err.kind, err.retryable, err.status) == (kind, retryable, status)
    assert f"HTTP {status}" in err.message


def test_x_should_retry_overrides_the_status_both_ways() -> None:
    assert classify(503, headers={"x-should-retry": "false"}).retryable is False
    assert classify(400, headers={"X-Should-Retry": "true"}).retryable is True
    assert classify(429, headers={"x-should-retry": "maybe"}).retryable is True


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens.",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            }
        ),
        json.dumps(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "prompt is too long: 210000 tokens > 200000 maximum",
                },
            }
        ),
        json.dumps(
            {
                "error": {
                    "message": "the request exceeds the available context size, try increasing it",
                    "type": "exceed_context_size_error",
                }
            }
        ),
    ],
)
def test_context_overflow_is_never_retried_even_when_the_server_says_so(body: str) -> None:
    err = classify(400, body, {"x-should-retry": "true"})
    assert (err.kind, err.retryable) == ("context_overflow", False)
    assert "/compact" in err.message


def test_insufficient_quota_is_a_permanent_429() -> None:
    body = json.dumps(
        {
            "error": {
                "message": "You exceeded your current quota",
                "type": "insufficient_quota",
                "code": "insufficient_quota",
            }
        }
    )
    err = classify(429, body)
    assert (err.kind, err.retryable) == ("quota", False)
    assert "billing" in err.message


def test_401_names_the_variable_and_never_shows_the_key() -> None:
    body = json.dumps({"error": {"message": "Incorrect API key provided: sk-secret-123.", "code": "invalid_api_key"}})
    err = classify(401, body)
    assert "OPENAI_API_KEY" in err.message
    assert "sk-secret-123" not in err.message and "[redacted]" in err.message


def test_404_names_model_and_base_url() -> None:
    err = classify(404, json.dumps({"error": {"message": "The model does not exist"}}))
    assert "gpt-4o-mini" in err.message and "https://api.openai.com/v1" in err.message


def test_plain_text_body_becomes_the_detail_but_html_does_not() -> None:
    assert "upstream connect error" in classify(503, "upstream connect error").message
    assert "<html>" not in classify(502, "<html><body>Bad gateway</body></html>").message


@pytest.mark.parametrize(
    ("err_type", "kind", "retryable"),
    [
        ("overloaded_error", "overloaded", True),
        ("rate_limit_error", "rate_limit", True),
        ("api_error", "server", True),
        ("server_error", "server", True),
        ("invalid_request_error", "bad_request", False),
        ("authentication_error", "auth", False),
        ("something_new", "server", True),
        (None, "server", True),
    ],
)
def test_in_stream_error_types(err_type: str | None, kind: str, retryable: bool) -> None:
    err = classify_stream_error(err_type, "details here", CTX)
    assert (err.kind, err.retryable, err.status) == (kind, retryable, None)
    assert "HTTP" not in err.message and "details here" in err.message


def test_transport_errors_are_retryable() -> None:
    request = httpx.Request("POST", "http://x")
    cases = [
        (httpx.ConnectError("refused", request=request), "connect"),
        (httpx.ReadTimeout("slow", request=request), "timeout"),
        (httpx.RemoteProtocolError("peer closed", request=request), "connection_lost"),
        (httpx.ReadError("reset", request=request), "connection_lost"),
    ]
    for exc, kind in cases:
        err = classify_transport(exc, CTX)
        assert (err.kind, err.retryable) == (kind, True)


def test_every_kind_has_a_message_that_formats() -> None:
    for kind, rule in RULES.items():
        rule.message.format(provider="P", model="m", base_url="u", http="", key_hint="k", detail="")
        assert kind


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"Retry-After": "3600"}, 3600.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "Tue, 14 Nov 2023 22:13:50 GMT"}, 30.0),  # WALL + 30 s
        ({"retry-after": "Tue, 14 Nov 2023 22:00:00 GMT"}, 0.0),  # already past
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "nan", "retry-after": "garbage"}, None),
        ({"retry-after": "inf"}, None),
        ({}, None),
    ],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, lambda: WALL) == expected


async def test_a_base_url_without_scheme_or_host_is_a_clear_non_retryable_error() -> None:
    from agent_core.providers.openai import OpenAIProvider
    from tests.providers.collect import collect

    for base_url in ("localhost:11434/v1", "http://"):
        provider = OpenAIProvider(base_url, None, "m")
        _, err = await collect(provider)
        await provider.aclose()
        assert err is not None and (err.kind, err.retryable) == ("connect", False)
        assert "check the base URL" in err.message


def test_a_one_letter_key_does_not_mangle_the_message() -> None:
    ctx = ErrorContext(provider="OpenAI", model="m", base_url="http://127.0.0.1:1/v1", key_env="K", secret="k")
    err = make_error("auth", ctx, status=401, detail="Fake server kept the key")
    assert "Fake server kept the key" in err.message
