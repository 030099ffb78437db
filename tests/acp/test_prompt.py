"""A prompt over ACP: streamed as message chunks, ended with end_turn and usage; history kept."""

from __future__ import annotations

from pathlib import Path

from acp.schema import AgentMessageChunk, AvailableCommandsUpdate, UsageUpdate

from tests.acp.harness import run_agent
from tests.fakes.llm_server import FakeLLM


async def test_a_prompt_streams_chunks_and_ends_with_end_turn(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {
            "text": "Hello from the fake model, streamed in small pieces.",
            "chunk_bytes": 8,
            "usage": {"input_tokens": 12, "output_tokens": 9},
        }
    )
    async with run_agent(tmp_path, fake_llm) as agent:
        session_id = await agent.new_session()
        response = await agent.prompt(session_id, "Say hello")

        assert response.stop_reason == "end_turn"
        assert response.usage is not None
        assert (response.usage.input_tokens, response.usage.output_tokens) == (12, 9)
        chunks = agent.client.of(session_id, AgentMessageChunk)
        assert len(chunks) > 1, "the reply streams in pieces"
        assert agent.client.text(session_id) == "Hello from the fake model, streamed in small pieces."
        usage = agent.client.of(session_id, UsageUpdate)
        assert usage and usage[-1].used == 21 and usage[-1].size > 0
        commands = agent.client.of(session_id, AvailableCommandsUpdate)
        announced = {c.name for c in commands[0].available_commands}
        assert announced >= {"save", "session", "compact", "model", "rewind", "help"}
        assert fake_llm.requests[0]["messages"][-1]["content"] == "Say hello"
