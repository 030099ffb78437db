"""How much the provider layer costs per token, against raw httpx reading the same stream.

The fake LLM server serves one scripted answer of N tokens (one SSE event each, written in 64 KiB
network writes so the server is not the bottleneck). The same stream is read three ways, after a
warm-up, in interleaved rounds (raw bytes, raw client, provider, then again), so a busy machine
slows every reader alike; the figures are the medians of the rounds:

* raw bytes: ``httpx`` ``aiter_bytes`` and nothing else (the transport's ceiling);
* raw client: ``httpx`` ``aiter_lines`` + ``json.loads`` of every ``data:`` line, the least any
  client must do to get the text;
* provider: ``OpenAIProvider`` / ``AnthropicProvider`` (SSE framing, classification, events).

It prints tokens/s for each and the ratio provider / raw client (1.0 would be free; the issue's
target is 0.90), the median of the per-round ratios.

    python3 bench/stream_overhead.py [--tokens 20000] [--rounds 7] [--wire openai|anthropic|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere in the checkout

from agent_core.events import TextDelta
from agent_core.messages import Message
from agent_core.providers.anthropic import AnthropicProvider
from agent_core.providers.base import ChatRequest, Provider
from agent_core.providers.openai import OpenAIProvider
from tests.fakes.llm_server import FakeLLM

REQUEST = ChatRequest(messages=[Message(role="user", content="go")])


async def raw_bytes(http: httpx.AsyncClient, url: str, body: dict[str, object]) -> int:
    size = 0
    async with http.stream("POST", url, json=body) as response:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    return size


async def raw_client(http: httpx.AsyncClient, url: str, body: dict[str, object], wire: str) -> int:
    """Count text deltas the minimal way: split lines, decode each data payload."""
    count = 0
    async with http.stream("POST", url, json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[6:])
            if wire == "openai":
                choices = data.get("choices") or []
                if choices and choices[0].get("delta", {}).get("content"):
                    count += 1
            elif data.get("type") == "content_block_delta" and data["delta"].get("type") == "text_delta":
                count += 1
    return count


async def through_provider(provider: Provider) -> int:
    return len([event async for event in provider.stream(REQUEST) if isinstance(event, TextDelta)])


async def timed(label: str, tokens: int, run: Awaitable[int]) -> float:
    """Seconds ``run`` takes; it must count exactly ``tokens`` text deltas (raw bytes counts bytes)."""
    start = time.perf_counter()
    counted = await run
    seconds = time.perf_counter() - start
    if label != "raw bytes" and counted != tokens:
        raise SystemExit(f"{label}: expected {tokens} text deltas, got {counted}")
    return seconds


async def bench(wire: str, tokens: int, rounds: int) -> float:
    with FakeLLM() as llm:
        llm.default = {"text": "tok " * tokens, "chunk_bytes": 65536}
        if wire == "openai":
            url = llm.base_url + "/v1/chat/completions"
            provider: Provider = OpenAIProvider(llm.base_url + "/v1", None, "bench")
        else:
            url = llm.base_url + "/v1/messages"
            provider = AnthropicProvider(llm.base_url, None, "bench")
        body = provider.request_body(REQUEST)  # type: ignore[attr-defined]
        async with httpx.AsyncClient(timeout=60) as http:
            readers: dict[str, Callable[[], Awaitable[int]]] = {
                "raw bytes": lambda: raw_bytes(http, url, body),
                "raw client": lambda: raw_client(http, url, body, wire),
                "provider": lambda: through_provider(provider),
            }
            await raw_client(http, url, body, wire)  # warm-up: connections, imports, caches
            await through_provider(provider)
            seconds: dict[str, list[float]] = {label: [] for label in readers}
            for _ in range(rounds):
                for label, read in readers.items():
                    seconds[label].append(await timed(label, tokens, read()))
        await provider.aclose()
    print(f"{wire}: {tokens:,} tokens, one SSE event each, median of {rounds} interleaved rounds")
    for label, times in seconds.items():
        median = statistics.median(times)
        print(f"  {label:<12} {tokens / median:>12,.0f} tokens/s  ({median * 1000:,.0f} ms)")
    ratio = statistics.median(
        raw / layered for raw, layered in zip(seconds["raw client"], seconds["provider"], strict=True)
    )
    print(f"  ratio provider / raw client: {ratio:.2f}  (target 0.90)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--wire", choices=["openai", "anthropic", "both"], default="both")
    args = parser.parse_args()
    wires = ["openai", "anthropic"] if args.wire == "both" else [args.wire]
    for wire in wires:
        asyncio.run(bench(wire, args.tokens, args.rounds))


if __name__ == "__main__":
    main()
