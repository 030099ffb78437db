"""A scripted LLM server on real loopback HTTP that speaks both wire formats and injects faults.

Tests queue responses with :meth:`FakeLLM.script`; each request to ``/v1/chat/completions``
(OpenAI SSE), ``/v1/messages`` (Anthropic events), ``/infill`` (llama.cpp's fill-in-the-middle) or
``/v1/completions`` (one JSON answer each) consumes the next one, and the path decides the wire
format; :attr:`FakeLLM.missing_routes` makes a server without some of them. The server writes
raw bytes with chunked transfer encoding, so a test controls exactly
what reaches the client: every network write becomes one HTTP chunk, which httpx hands over as one
piece even when TCP coalesces writes. That makes "one byte per chunk" deterministic.

A scripted response is a dict; every key is optional:

``text``, ``tool_calls`` (``[{"id", "name", "arguments": dict or raw string}]``), ``usage``
(``{"input_tokens", "output_tokens"}``), ``stop_reason`` (neutral: ``end_turn``/``tool_use``/
``max_tokens``, else sent raw), ``status`` and ``headers`` and ``body`` (an HTTP error answer;
``error_type``/``error_message`` fill the default error body), ``error_event`` (``overloaded``,
``rate_limit``, ``api_error``, ``invalid_request``: an error inside the 200 stream, before any
content unless ``error_after_text``), ``drop_after_bytes`` (close the connection after that many
stream bytes), ``chunk_bytes`` (size of each network write), ``chunk_delay`` (seconds between
writes), ``no_done`` (end cleanly without the finish chunk / ``[DONE]`` / ``message_stop``),
``hold`` (send the content, then wait until :meth:`FakeLLM.release` or the client disconnects),
``raw_sse`` (send these bytes as the stream), ``shape`` (odd OpenAI tool-call delta shapes, see
:data:`tests.fakes.openai_wire.SHAPES`), ``repeat_usage`` (cumulative usage repeated in every
OpenAI chunk / in Anthropic's ``message_delta``), ``newline`` (SSE line ending, e.g. ``"\\r\\n"``).

Run as a process for tests in other languages::

    python3 -m tests.fakes.llm_server --port-file F [--script F.json]

``POST /_script`` (a JSON list, or ``{"responses": [...], "default": {...}}``) appends to the queue,
``GET /_requests`` returns the received requests, ``POST /_release`` releases holds,
``POST /_reset`` empties the queue and forgets a stored release (see :meth:`FakeLLM.reset`).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.fakes import anthropic_wire, openai_wire
from tests.fakes.stream_parts import PlanItem

RESPONSE_KEYS = frozenset(
    {
        "text",
        "tool_calls",
        "usage",
        "stop_reason",
        "status",
        "headers",
        "body",
        "error_type",
        "error_message",
        "error_event",
        "error_after_text",
        "drop_after_bytes",
        "chunk_bytes",
        "no_done",
        "hold",
        "chunk_delay",
        "raw_sse",
        "shape",
        "repeat_usage",
        "newline",
    }
)

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "Overloaded",
}


def check_response(response: Any) -> dict[str, Any]:
    """Reject a malformed scripted response at once, in the test, instead of serving defaults."""
    if not isinstance(response, dict):
        raise ValueError(f"a scripted response must be a dict, got {type(response).__name__}")
    unknown = set(response) - RESPONSE_KEYS
    if unknown:
        raise ValueError(f"unknown response keys {sorted(unknown)}; known: {sorted(RESPONSE_KEYS)}")
    shape = response.get("shape", "standard")
    if shape not in openai_wire.SHAPES:
        raise ValueError(f"unknown shape {shape!r}; expected one of {openai_wire.SHAPES}")
    return copy.deepcopy(response)


class _ClientGone(Exception):
    """The client closed the connection (cancelled); stop writing quietly."""


class FakeLLM:
    """The scripted server; a context manager that serves on 127.0.0.1 in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._queue: deque[dict[str, Any]] = deque()
        self._default: dict[str, Any] = {"text": "ok"}
        self.requests: list[dict[str, Any]] = []
        #: Paths answered 404 without using a scripted response (e.g. ``/infill``: not llama.cpp).
        self.missing_routes: set[str] = set()
        #: How many streams ended because the client went away (e.g. a cancelled turn).
        self.disconnects = 0
        self._cond = threading.Condition()
        self._holding = 0
        self._release_gen = 0
        self._pending_release = False
        self._closing = threading.Event()
        self._server = _QuietServer((host, port), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeLLM:
        # A short poll interval keeps stop() (and so every test teardown) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut every open connection, so no handler thread outlives the test."""
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        with self._cond:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------------------------------
    def script(self, *responses: dict[str, Any]) -> None:
        """Queue responses; each request consumes the next one, in order."""
        checked = [check_response(r) for r in responses]
        with self._cond:
            self._queue.extend(checked)

    @property
    def default(self) -> dict[str, Any]:
        """What is served once the queue is empty."""
        return self._default

    @default.setter
    def default(self, response: dict[str, Any]) -> None:
        self._default = check_response(response)

    def wait_for_requests(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Block until ``n`` requests arrived (raises TimeoutError naming how many did)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= n, timeout=timeout):
                raise TimeoutError(f"expected {n} requests within {timeout}s, got {len(self.requests)}")
            return list(self.requests)

    def wait_for_disconnects(self, n: int, timeout: float = 10) -> None:
        """Block until ``n`` streams were abandoned by the client."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.disconnects >= n, timeout=timeout):
                raise TimeoutError(f"expected {n} client disconnects within {timeout}s, got {self.disconnects}")

    def release(self) -> None:
        """Let every holding response finish; with none holding, the next hold passes at once."""
        with self._cond:
            if self._holding:
                self._release_gen += 1
            else:
                self._pending_release = True
            self._cond.notify_all()

    def reset(self) -> int:
        """Forget the queue and any stored release, so a test that failed half-way cannot feed
        the next one. Received requests are kept; a response holding now is left alone (it ends
        when its client hangs up). Returns how many queued responses were dropped."""
        with self._cond:
            dropped = len(self._queue)
            self._queue.clear()
            self._pending_release = False
        return dropped

    # -- used by the handler ---------------------------------------------------------------------
    def _record(self, request: dict[str, Any]) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _next_response(self) -> dict[str, Any]:
        with self._cond:
            return self._queue.popleft() if self._queue else copy.deepcopy(self._default)

    def _hold(self, conn: socket.socket) -> None:
        """Wait for release(), the client going away, or the server stopping."""
        with self._cond:
            if self._pending_release:
                self._pending_release = False
                return
            self._holding += 1
            gen = self._release_gen
        try:
            while True:
                with self._cond:
                    if self._cond.wait_for(lambda: self._release_gen != gen or self._closing.is_set(), timeout=0.02):
                        return
                if _client_closed(conn):
                    raise _ClientGone
        finally:
            with self._cond:
                self._holding -= 1

    def _note_disconnect(self) -> None:
        with self._cond:
            self.disconnects += 1
            self._cond.notify_all()


def _client_closed(conn: socket.socket) -> bool:
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops a kept-alive connection is normal here (cancel tests do it)."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (tests read ``requests`` instead)."""

    @property
    def fake(self) -> FakeLLM:
        return self.server.fake  # type: ignore[attr-defined,no-any-return]

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.fake._cond:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._cond:
            self.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    # -- routing ---------------------------------------------------------------------------------
    def do_GET(self) -> None:
        if self.path == "/_requests":
            with self.fake._cond:
                self._send_json(200, self.fake.requests)
        elif self.path in ("/_health", "/health"):
            self._send_json(200, {"status": "ok"})
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        if self.path == "/_script":
            self._control_script(body)
        elif self.path == "/_release":
            self.fake.release()
            self._send_json(200, {"released": True})
        elif self.path == "/_reset":
            self._send_json(200, {"dropped": self.fake.reset()})
        elif self.path in self.fake.missing_routes:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
        elif self.path.endswith("/chat/completions"):
            self._serve(body, raw, openai_wire.plan, openai_wire.error_body)
        elif self.path == "/infill" or self.path.endswith("/completions"):
            self._serve_completion(body, raw)
        elif self.path.endswith("/messages"):
            self._serve(body, raw, anthropic_wire.plan, anthropic_wire.error_body)
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def _control_script(self, body: Any) -> None:
        try:
            if isinstance(body, dict):
                self.fake.script(*body.get("responses", []))
                if "default" in body:
                    self.fake.default = body["default"]
            elif isinstance(body, list):
                self.fake.script(*body)
            else:
                raise ValueError("POST /_script takes a JSON list or {responses, default}")
        except ValueError as exc:
            self._send_json(400, {"error": {"message": str(exc)}})
            return
        self._send_json(200, {"queued": len(self.fake._queue)})

    def _serve(self, body: Any, raw: bytes, plan_for: Any, error_body_for: Any) -> None:
        request = dict(body) if isinstance(body, dict) else {"_raw": raw.decode("utf-8", "replace")}
        request["_path"] = self.path
        request["_headers"] = {k.lower(): v for k, v in self.headers.items()}
        self.fake._record(request)
        if not isinstance(body, dict):  # recorded, but the scripted responses are kept for real requests
            self._send_json(400, {"error": {"message": "request body is not a JSON object"}})
            return
        response = self.fake._next_response()
        extra = response.get("headers", {})
        status = int(response.get("status", 200))
        if status != 200 or "body" in response:
            payload = response.get("body")
            if payload is None:
                payload = error_body_for(response)
            self._send_raw(status, payload.encode(), extra)
            return
        items: list[PlanItem] = [response["raw_sse"].encode()] if "raw_sse" in response else plan_for(response, request)
        try:
            self._stream(items, response, extra)
        except (_ClientGone, OSError):
            self.close_connection = True
            self.fake._note_disconnect()

    def _serve_completion(self, body: Any, raw: bytes) -> None:
        """llama.cpp's ``/infill`` (``{"content"}``) or ``/v1/completions`` (``choices[0].text``),
        one JSON answer (no stream); ``hold`` waits before answering, like a slow model."""
        request = dict(body) if isinstance(body, dict) else {"_raw": raw.decode("utf-8", "replace")}
        request["_path"] = self.path
        request["_headers"] = {k.lower(): v for k, v in self.headers.items()}
        self.fake._record(request)
        response = self.fake._next_response()
        status = int(response.get("status", 200))
        if status != 200 or "body" in response:
            payload = response.get("body")
            self._send_raw(
                status,
                (payload if payload is not None else openai_wire.error_body(response)).encode(),
                response.get("headers", {}),
            )
            return
        try:
            if response.get("hold"):
                self.fake._hold(self.connection)
        except _ClientGone:
            self.close_connection = True
            self.fake._note_disconnect()
            return
        text = str(response.get("text", ""))
        if self.path == "/infill":
            answer: dict[str, Any] = {
                "content": text,
                "stop": True,
                "tokens_predicted": len(text.split()),
                "timings": {"prompt_n": 1, "predicted_n": len(text.split())},
            }
        else:
            answer = {
                "id": "cmpl-fake",
                "object": "text_completion",
                "model": request.get("model"),
                "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
            }
        self._send_json(200, answer)

    # -- writing ---------------------------------------------------------------------------------
    def _head(self, status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _send_json(self, status: int, payload: Any) -> None:
        self._send_raw(status, json.dumps(payload).encode(), {})

    def _send_raw(self, status: int, payload: bytes, extra: dict[str, str]) -> None:
        headers = {"Content-Type": "application/json", "Content-Length": str(len(payload)), **extra}
        self.wfile.write(self._head(status, headers) + payload)

    def _stream(self, items: list[PlanItem], response: dict[str, Any], extra: dict[str, str]) -> None:
        headers = {
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "Transfer-Encoding": "chunked",
            **extra,
        }
        self.wfile.write(self._head(200, headers))
        chunk_bytes = response.get("chunk_bytes")
        delay = float(response.get("chunk_delay", 0))
        budget = response.get("drop_after_bytes")
        for segment in _segments(items, chunk_bytes):
            if segment is None:
                self.fake._hold(self.connection)
                continue
            if budget is not None and len(segment) >= budget:
                if budget:
                    self._write_chunk(segment[:budget])
                self._drop()
                return
            if budget is not None:
                budget -= len(segment)
            self._write_chunk(segment)
            if delay:
                time.sleep(delay)  # pacing a realistic token rate, not synchronisation
                if _client_closed(self.connection):
                    raise _ClientGone
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

    def _drop(self) -> None:
        """Cut the connection mid-body, as a crashed proxy or a network failure does."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _segments(items: list[PlanItem], chunk_bytes: int | None) -> list[PlanItem]:
    """The network writes: each plan item as-is, or the bytes between holds re-cut into
    ``chunk_bytes`` pieces (so a CRLF or a UTF-8 character can straddle two writes)."""
    if not chunk_bytes:
        return list(items)
    out: list[PlanItem] = []
    run: list[bytes] = []
    for item in [*items, None]:
        if item is not None:
            run.append(item)
            continue
        joined = b"".join(run)
        out.extend(joined[i : i + chunk_bytes] for i in range(0, len(joined), chunk_bytes))
        out.append(None)
        run = []
    return out[:-1]


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGTERM/SIGINT; the port is written to ``--port-file`` once listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port-file", required=True, type=Path)
    parser.add_argument("--script", type=Path, help="JSON list of responses, or {responses, default}")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = FakeLLM(port=args.port)
    if args.script:
        loaded = json.loads(args.script.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            fake.script(*loaded.get("responses", []))
            if "default" in loaded:
                fake.default = loaded["default"]
        else:
            fake.script(*loaded)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with fake:
        tmp = args.port_file.with_name(args.port_file.name + f".{os.getpid()}.tmp")
        tmp.write_text(str(fake.port), encoding="utf-8")
        os.replace(tmp, args.port_file)
        stop.wait()


if __name__ == "__main__":
    main()
