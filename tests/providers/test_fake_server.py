"""The fake LLM server itself: both wire formats, every fault knob, the process mode.

Other test folders rely on it, so each knob is checked against raw HTTP here, without the
providers in between.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.llm_server import FakeLLM

OPENAI_BODY = {
    "model": "m",
    "messages": [{"role": "user", "content": "hi"}],
    "stream": True,
    "stream_options": {"include_usage": True},
}
ANTHROPIC_BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def openai_data(raw: str) -> list[Any]:
    """The ``data:`` payloads of an OpenAI stream, JSON-decoded except ``[DONE]``."""
    out: list[Any] = []
    for line in raw.splitlines():
        if line.startswith("data: "):
            payload = line[6:]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def anthropic_events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if line)
        if lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def post(client: httpx.Client, llm: FakeLLM, path: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(llm.base_url + path, json=body)


def test_openai_stream_has_role_content_finish_usage_and_done(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.script({"text": "Hello there world", "usage": {"input_tokens": 7, "output_tokens": 3}})
    response = post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    data = openai_data(response.text)
    assert data[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(d["choices"][0]["delta"].get("content", "") for d in data[1:-2])
    assert text == "Hello there world"
    assert data[-3]["choices"][0]["finish_reason"] == "stop"
    assert data[-2]["choices"] == []
    assert data[-2]["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert data[-1] == "[DONE]"


def test_openai_usage_chunk_only_when_asked(fake_llm: FakeLLM, client: httpx.Client) -> None:
    body = dict(OPENAI_BODY)
    del body["stream_options"]
    data = openai_data(post(client, fake_llm, "/v1/chat/completions", body).text)
    assert all(d == "[DONE]" or d["choices"] for d in data)


def test_anthropic_event_sequence_with_text_and_tool(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.script(
        {
            "text": "Let me look",
            "tool_calls": [{"id": "t1", "name": "read_file", "arguments": {"path": "a.py"}}],
            "usage": {"input_tokens": 12, "output_tokens": 9},
        }
    )
    events = anthropic_events(post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY).text)
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert events[0][1]["message"]["usage"]["input_tokens"] == 12
    tool_start = next(d for n, d in events if n == "content_block_start" and d["index"] == 1)
    assert tool_start["content_block"] == {"type": "tool_use", "id": "t1", "name": "read_file", "input": {}}
    partial = [
        d["delta"]["partial_json"]
        for n, d in events
        if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta"
    ]
    assert partial[0] == ""
    assert json.loads("".join(partial)) == {"path": "a.py"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert events[-2][1]["usage"] == {"output_tokens": 9}


@pytest.mark.parametrize("shape", ["standard", "no_index", "same_index", "interleaved", "id_every_delta"])
def test_openai_tool_call_shapes(fake_llm: FakeLLM, client: httpx.Client, shape: str) -> None:
    calls = [
        {"id": "a", "name": "one", "arguments": {"x": "first value"}},
        {"id": "b", "name": "two", "arguments": {"y": "second value"}},
    ]
    fake_llm.script({"tool_calls": calls, "shape": shape})
    data = openai_data(post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY).text)
    deltas = [
        tc for d in data if d != "[DONE]" and d["choices"] for tc in d["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert data[-3]["choices"][0]["finish_reason"] == "tool_calls"
    if shape == "no_index":
        assert [("index" in d, d["id"]) for d in deltas] == [(False, "a"), (False, "b")]
        return
    ids_in_order = [d.get("id") for d in deltas]
    if shape == "same_index":
        assert {d["index"] for d in deltas} == {0}
    if shape == "interleaved":
        indexes = [d["index"] for d in deltas]
        assert indexes[:4] == [0, 1, 0, 1]
    if shape == "id_every_delta":
        assert None not in ids_in_order
    if shape in ("standard", "same_index", "interleaved"):
        assert [i for i in ids_in_order if i] == ["a", "b"]
    firsts = [d for d in deltas if d.get("function", {}).get("name")]
    assert [f["function"]["arguments"] for f in firsts] == ["", ""]


def test_status_headers_and_error_bodies(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.script(
        {"status": 429, "headers": {"retry-after-ms": "1500"}},
        {"status": 529},
        {"status": 400, "error_message": "prompt is too long"},
        {"status": 503, "body": "<html>bad gateway</html>"},
    )
    r = post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY)
    assert (r.status_code, r.headers["retry-after-ms"]) == (429, "1500")
    assert r.json()["error"]["type"] == "rate_limit_exceeded"
    r = post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY)
    assert r.status_code == 529 and r.json()["error"]["type"] == "overloaded_error"
    r = post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY)
    assert r.json() == {"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}}
    r = post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY)
    assert (r.status_code, r.text) == (503, "<html>bad gateway</html>")


def test_one_byte_chunks_arrive_one_by_one_and_reassemble(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.script({"text": "héllo 😀", "newline": "\r\n"}, {"text": "héllo 😀", "newline": "\r\n", "chunk_bytes": 1})
    whole = post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY).content
    with client.stream("POST", fake_llm.base_url + "/v1/messages", json=ANTHROPIC_BODY) as r:
        pieces = list(r.iter_raw())
    assert {len(p) for p in pieces} == {1}
    assert b"".join(pieces) == whole
    assert b"\r\n\r\n" in whole and "😀".encode() in whole


def test_drop_after_bytes_cuts_the_connection(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.script({"text": "a long answer " * 20, "drop_after_bytes": 300})
    received = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", fake_llm.base_url + "/v1/chat/completions", json=OPENAI_BODY) as r,
    ):
        for piece in r.iter_raw():
            received += piece
    assert len(received) == 300


def test_no_done_ends_cleanly_without_end_markers(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.script({"text": "cut short", "no_done": True}, {"text": "cut short", "no_done": True})
    data = openai_data(post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY).text)
    assert "[DONE]" not in data
    assert all(d["choices"][0]["finish_reason"] is None for d in data)
    names = [n for n, _ in anthropic_events(post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY).text)]
    assert "message_stop" not in names and "message_delta" not in names


@pytest.mark.parametrize("after_text", [False, True])
def test_error_event_inside_a_200_stream(fake_llm: FakeLLM, client: httpx.Client, after_text: bool) -> None:
    response = {"text": "some text", "error_event": "overloaded", "error_after_text": after_text}
    fake_llm.script(response, response)
    events = anthropic_events(post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY).text)
    assert events[-1] == ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    assert any(n == "content_block_delta" for n, _ in events) == after_text
    data = openai_data(post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY).text)
    assert data[-1]["error"]["message"] == "Overloaded"
    assert any(d.get("choices") and d["choices"][0]["delta"].get("content") for d in data) == after_text


def test_hold_keeps_the_stream_open_until_release(fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "waiting", "hold": True}, {"text": "waiting", "hold": True})
    # A short read timeout proves the server holds: the finish never comes on its own.
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=0.3)) as c,
        pytest.raises(httpx.ReadTimeout),
        c.stream("POST", fake_llm.base_url + "/v1/chat/completions", json=OPENAI_BODY) as r,
    ):
        for _ in r.iter_lines():
            pass
    fake_llm.wait_for_disconnects(1)
    with (
        httpx.Client(timeout=10) as c,
        c.stream("POST", fake_llm.base_url + "/v1/chat/completions", json=OPENAI_BODY) as r,
    ):
        lines = r.iter_lines()
        for line in lines:
            if "waiting" in line:
                break
        fake_llm.release()
        rest = list(lines)
    assert "data: [DONE]" in rest


def test_release_before_hold_lets_the_next_hold_pass(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.release()
    fake_llm.script({"text": "x", "hold": True})
    assert "message_stop" in post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY).text


def test_reset_drops_the_queue_and_forgets_a_stored_release(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.default = {"text": "fallback"}
    fake_llm.script({"text": "stale one"}, {"text": "stale two"})
    fake_llm.release()  # nothing holds: stored for the next hold, unless reset forgets it
    assert fake_llm.reset() == 2
    assert "fallback" in post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY).text
    fake_llm.script({"text": "waiting", "hold": True})
    # As in the hold test: a short read timeout proves the response holds (the release is gone).
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=0.3)) as c,
        pytest.raises(httpx.ReadTimeout),
        c.stream("POST", fake_llm.base_url + "/v1/chat/completions", json=OPENAI_BODY) as r,
    ):
        for _ in r.iter_lines():
            pass


def test_raw_sse_is_sent_as_is(fake_llm: FakeLLM, client: httpx.Client) -> None:
    raw = ': keep-alive\r\ndata: {"a":\r\ndata: 1}\r\r'
    fake_llm.script({"raw_sse": raw, "chunk_bytes": 3})
    assert post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY).text == raw


def test_requests_are_recorded_and_default_served(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.default = {"text": "fallback"}
    client.post(fake_llm.base_url + "/v1/messages", json=ANTHROPIC_BODY, headers={"X-Api-Key": "k"})
    requests = fake_llm.wait_for_requests(1)
    assert requests[0]["_path"] == "/v1/messages"
    assert requests[0]["_headers"]["x-api-key"] == "k"
    assert requests[0]["messages"] == ANTHROPIC_BODY["messages"]
    assert "fallback" in post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY).text
    with pytest.raises(TimeoutError, match="expected 5 requests"):
        fake_llm.wait_for_requests(5, timeout=0.1)


def test_bad_scripts_fail_in_the_test_not_on_the_wire(fake_llm: FakeLLM) -> None:
    with pytest.raises(ValueError, match="unknown response keys"):
        fake_llm.script({"txt": "typo"})
    with pytest.raises(ValueError, match="unknown shape"):
        fake_llm.script({"shape": "sideways"})


def test_process_mode_with_control_endpoints(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [{"text": "from file"}], "default": {"text": "dflt"}}))
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--port-file", str(port_file), "--script", str(script)],
        cwd=repo,
        stdin=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(timeout=10) as c:
            base = _wait_for_port(port_file, proc)
            assert "from " in c.post(base + "/v1/messages", json=ANTHROPIC_BODY).text
            assert c.post(base + "/_script", json=[{"text": "posted"}]).json() == {"queued": 1}
            assert "posted" in c.post(base + "/v1/chat/completions", json=OPENAI_BODY).text
            assert "dflt" in c.post(base + "/v1/chat/completions", json=OPENAI_BODY).text
            assert c.post(base + "/_script", json=[{"bogus": 1}]).status_code == 400
            assert c.post(base + "/_release").json() == {"released": True}
            assert c.post(base + "/_script", json=[{"text": "left over"}]).json() == {"queued": 1}
            assert c.post(base + "/_reset").json() == {"dropped": 1}
            recorded = c.get(base + "/_requests").json()
            assert [r["_path"] for r in recorded] == ["/v1/messages"] + ["/v1/chat/completions"] * 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def _wait_for_port(port_file: Path, proc: subprocess.Popen[bytes]) -> str:
    """Poll (bounded) for the port file the child writes atomically once it listens."""
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if port_file.exists():
            return f"http://127.0.0.1:{int(port_file.read_text())}"
        assert proc.poll() is None, "fake server exited early"
        time.sleep(0.02)
    raise AssertionError(f"no port file after 10 s (pid {proc.pid}, cwd {os.getcwd()})")


def test_chunk_delay_paces_the_stream_and_a_200_body_is_sent_as_is(fake_llm: FakeLLM, client: httpx.Client) -> None:
    import time

    fake_llm.script(
        {"text": "one two three four five", "chunk_delay": 0.02},
        {"body": '{"choices": []}', "headers": {"Content-Type": "application/json"}},
    )
    start = time.monotonic()
    data = openai_data(post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY).text)
    assert time.monotonic() - start >= 0.02 * (len(data) - 1)  # a pause after every write
    assert data[-1] == "[DONE]"
    plain = post(client, fake_llm, "/v1/chat/completions", OPENAI_BODY)
    assert (plain.status_code, plain.headers["content-type"], plain.text) == (
        200,
        "application/json",
        '{"choices": []}',
    )


def test_a_non_json_request_is_recorded_and_keeps_the_script(fake_llm: FakeLLM, client: httpx.Client) -> None:
    fake_llm.script({"text": "for the real request"})
    bad = client.post(fake_llm.base_url + "/v1/messages", content=b"not json")
    assert bad.status_code == 400 and fake_llm.requests[0]["_raw"] == "not json"
    assert "real " in post(client, fake_llm, "/v1/messages", ANTHROPIC_BODY).text
