"""The one table that classifies provider failures: what kind, whether to retry, what to tell the user.

Both providers (and the transport layer under them) turn every failure into a
:class:`~agent_core.providers.base.ProviderError` through this module, so "is a 409 retryable?"
or "what does a 401 tell the user?" is answered in exactly one place (aider keeps such a table
too; the retry rules follow openai-python and anthropic-sdk-python):

* 408, 409, 429 and every 5xx (Anthropic's 529 "overloaded" included) are retried, as are
  connection failures, timeouts, a connection dropped mid-stream and a stream that ended early.
* 400, 401, 403, 404, 413 are never retried, and neither is a context overflow (resending the same
  conversation cannot fit it) nor an exhausted quota (a 429 that no amount of waiting fixes).
* ``x-should-retry: true|false`` is the server's explicit word and overrides the status code, as in
  both SDKs, except for a context overflow.

Messages say what to do: a 401 names the environment variable holding the key, a 404 the model and
base URL. API keys never appear in messages: anything the server echoes back is redacted, and so
are credentials written into a URL (``http://user:pass@host``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

from agent_core.events import ProviderEvent, TextDelta, ToolCallReady, ToolCallStarted
from agent_core.providers.base import ProviderError
from agent_core.providers.closing import closing


@dataclass(frozen=True)
class Rule:
    """How one kind of failure is handled: retried or not, and the message template.

    Templates may use ``{provider}``, ``{model}``, ``{base_url}``, ``{http}`` (" (HTTP 429)", or
    nothing for failures without a status), ``{key_hint}`` and ``{detail}`` (the server's own words,
    prefixed with ": " when there are any).
    """

    retryable: bool
    message: str


#: The classification table, keyed by kind.
RULES: dict[str, Rule] = {
    "bad_request": Rule(False, "{provider} rejected the request{http}{detail}"),
    "auth": Rule(False, "{provider} rejected the API key{http}{detail}. {key_hint}"),
    "permission": Rule(
        False, "{provider} refused access to model '{model}'{http}{detail}. Check that your key may use this model."
    ),
    "not_found": Rule(
        False,
        "{provider} does not know model '{model}'{http}{detail}. Check the model name and the base URL ({base_url}).",
    ),
    "too_large": Rule(
        False, "The request is too large for {provider}{http}{detail}. Use /compact or start a new session."
    ),
    "context_overflow": Rule(
        False,
        "The conversation no longer fits the context window of '{model}'{detail}. Use /compact or start a new session.",
    ),
    "quota": Rule(
        False, "Your {provider} account has no quota left{detail}. Check its plan and billing; retrying will not help."
    ),
    "rate_limit": Rule(True, "{provider} is rate limiting requests{http}{detail}"),
    "timeout": Rule(True, "{provider} did not answer in time{http}{detail}"),
    "conflict": Rule(True, "{provider} reported a conflict{http}{detail}"),
    "server": Rule(True, "{provider} had a server error{http}{detail}"),
    "overloaded": Rule(True, "{provider} is overloaded{http}{detail}"),
    "connect": Rule(True, "Could not connect to {provider}{detail}"),
    "connection_lost": Rule(True, "The connection to {provider} broke during the response{detail}"),
    "truncated": Rule(True, "{provider} ended the stream before the response was complete{detail}"),
    "bad_response": Rule(True, "{provider} sent something that is not a valid response stream{detail}"),
    "other": Rule(False, "{provider} answered with an unexpected status{http}{detail}"),
    "local_start": Rule(False, "The local model could not start{detail}"),
    "local_stopped": Rule(
        False, "The local model server stopped during the reply{detail}. Send your message again to restart it."
    ),
}

#: HTTP status -> kind (5xx not listed here are ``server``; anything else unlisted is ``other``).
STATUS_KINDS: dict[int, str] = {
    400: "bad_request",
    401: "auth",
    403: "permission",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    413: "too_large",
    422: "bad_request",
    429: "rate_limit",
    529: "overloaded",
}

#: Error ``type`` / ``code`` strings from either wire format -> kind (in-stream errors and bodies).
TYPE_KINDS: dict[str, str] = {
    "overloaded_error": "overloaded",
    "rate_limit_error": "rate_limit",
    "rate_limit_exceeded": "rate_limit",
    "insufficient_quota": "quota",
    "api_error": "server",
    "server_error": "server",
    "internal_error": "server",
    "timeout": "timeout",
    "invalid_request_error": "bad_request",
    "authentication_error": "auth",
    "invalid_api_key": "auth",
    "permission_error": "permission",
    "permission_denied": "permission",
    "not_found_error": "not_found",
    "model_not_found": "not_found",
    "request_too_large": "too_large",
    "context_length_exceeded": "context_overflow",
}

#: What servers say when the prompt does not fit (OpenAI, Anthropic, vLLM, llama.cpp, Ollama).
_OVERFLOW = re.compile(
    r"context[_ ]length|context window|maximum context|prompt is too long|"
    r"exceeds? the (?:available )?context|input is too long|too many tokens",
    re.IGNORECASE,
)


#: The shortest key that is redacted from error messages (real API keys are 20+ characters).
MIN_REDACTED_KEY = 8
#: ``scheme://user:password@``: credentials written into a URL (up to the authority's last @).
_URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*://)[^/?#\s]+@", re.IGNORECASE)


def redact(text: str, secret: str | None = None) -> str:
    """``text`` without the key ``secret`` and without credentials written into any URL in it.

    Keys shorter than :data:`MIN_REDACTED_KEY` are left alone: no real key is that short, and
    replacing a one-letter "key" would mangle every word containing that letter. A URL's user and
    password are always cut (``http://[redacted]@host``): they are only ever secrets there.
    """
    if secret and len(secret) >= MIN_REDACTED_KEY:
        text = text.replace(secret, "[redacted]")
    return _URL_CREDENTIALS.sub(r"\1[redacted]@", text)


@dataclass(frozen=True)
class ErrorContext:
    """Who failed, for the message: the provider, its model and URL, and where its key lives."""

    #: How the user knows the service, mid-sentence: "OpenAI", "the local model server", ...
    provider: str
    model: str
    base_url: str
    #: The environment variable the key came from (None: no key, e.g. a local server).
    key_env: str | None = None
    #: The key itself, only so it can be cut out of anything the server echoes back.
    secret: str | None = field(default=None, repr=False)

    def redact(self, text: str) -> str:
        """Cut the key and any URL credentials out of ``text`` (see :func:`redact`)."""
        return redact(text, self.secret)


def make_error(
    kind: str,
    ctx: ErrorContext,
    *,
    status: int | None = None,
    detail: str = "",
    retry_after: float | None = None,
    should_retry: bool | None = None,
) -> ProviderError:
    """Build the ProviderError for ``kind`` from the table; ``should_retry`` is the server's
    ``x-should-retry`` answer when it sent one."""
    rule = RULES[kind]
    retryable = rule.retryable
    if should_retry is not None and kind != "context_overflow":
        retryable = should_retry
    if ctx.key_env:
        key_hint = f"Check the {ctx.key_env} environment variable."
    else:
        key_hint = "No API key was sent; set one with apiKeyEnv or the provider's usual variable."
    detail = detail.strip().rstrip(". ")
    message = rule.message.format(
        provider=ctx.provider,
        model=ctx.model,
        base_url=ctx.base_url,
        http=f" (HTTP {status})" if status is not None else "",
        key_hint=key_hint,
        detail=f": {detail}" if detail else "",
    )
    # The one place a provider failure becomes text: the server's echo, the provider's label and
    # the base URL may all carry a secret.
    message = ctx.redact(message[:1].upper() + message[1:])
    return ProviderError(message, kind=kind, retryable=retryable, status=status, retry_after=retry_after)


def classify_status(
    status: int, body: str, headers: Mapping[str, str], ctx: ErrorContext, wall: Callable[[], float]
) -> ProviderError:
    """A non-200 answer: kind from the body's error type when it is more specific, else the status."""
    err_type, detail = error_fields(body)
    kind = STATUS_KINDS.get(status) or ("server" if status >= 500 else "other")
    typed = TYPE_KINDS.get(err_type or "")
    if typed in ("quota", "context_overflow"):
        kind = typed
    if status in (400, 413, 422) and (_OVERFLOW.search(detail) or _OVERFLOW.search(err_type or "")):
        kind = "context_overflow"
    if not detail and body.strip() and not body.lstrip().startswith(("{", "<")):
        detail = body.strip()
    return make_error(
        kind,
        ctx,
        status=status,
        detail=detail[:500],
        retry_after=parse_retry_after(headers, wall),
        should_retry=_should_retry(headers),
    )


def classify_stream_error(err_type: str | None, message: str, ctx: ErrorContext) -> ProviderError:
    """An ``error`` inside a 200 stream (Anthropic ``event: error``, an OpenAI ``{"error": ...}``)."""
    kind = TYPE_KINDS.get(err_type or "", "server")
    if kind == "bad_request" and _OVERFLOW.search(message):
        kind = "context_overflow"
    return make_error(kind, ctx, detail=message[:500])


def classify_transport(exc: httpx.HTTPError | httpx.InvalidURL, ctx: ErrorContext) -> ProviderError:
    """Connection-level failures are transient, so retryable; a malformed base URL is not."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return make_error("connect", ctx, detail=f"{detail} (check the base URL)", should_retry=False)
    if isinstance(exc, httpx.ConnectError):
        kind = "connect"
    elif isinstance(exc, httpx.TimeoutException):
        kind = "timeout"
    else:
        kind = "connection_lost"
    return make_error(kind, ctx, detail=detail)


def error_fields(body: str) -> tuple[str | None, str]:
    """The error type (or code) and message from either provider's JSON error body."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, ""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str):
        return None, error
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    err_type = code if isinstance(code, str) and code in TYPE_KINDS else error.get("type")
    return (str(err_type) if err_type else None), str(error.get("message") or "")


def parse_retry_after(headers: Mapping[str, str], wall: Callable[[], float]) -> float | None:
    """The server's requested wait in seconds: ``retry-after-ms`` first, then ``retry-after`` as
    seconds or an HTTP date (relative to ``wall()``, epoch seconds). Garbage is ignored (None)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = _finite(lowered.get("retry-after-ms"))
    if ms is not None:
        return max(0.0, ms / 1000)
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _finite(raw)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - wall())


def _finite(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _should_retry(headers: Mapping[str, str]) -> bool | None:
    value = {k.lower(): v for k, v in headers.items()}.get("x-should-retry", "").strip().lower()
    return {"true": True, "false": False}.get(value)


async def mark_output_started(events: AsyncIterator[ProviderEvent]) -> AsyncIterator[ProviderEvent]:
    """Pass events through; a ProviderError raised after text or a tool call was yielded gets
    ``output_started=True``, so the retry layer never replays a reply the user already saw."""
    output_started = False
    async with closing(events):
        try:
            async for event in events:
                if isinstance(event, (TextDelta, ToolCallStarted, ToolCallReady)):
                    output_started = True
                yield event
        except ProviderError as err:
            err.output_started = err.output_started or output_started
            raise
