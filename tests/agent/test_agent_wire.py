"""The Agent with the real providers against the fake LLM server: truncated requests (tool calls
and results cut only between groups, the omission note folded into a user turn), a /compact
summary and an interrupted turn all produce requests both APIs would accept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent_core.agent import Agent
from agent_core.config import AgentConfig
from agent_core.events import TextDelta
from tests.cli.wire_checks import check_anthropic, check_openai
from tests.fakes.doubles import RecordingHost
from tests.fakes.llm_server import FakeLLM

CHECKS = {"openai": check_openai, "anthropic": check_anthropic}


def wire_agent(llm: FakeLLM, workspace: Path, provider: str, **settings: object) -> tuple[Agent, RecordingHost]:
    env = {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": llm.base_url + "/v1",
        "ANTHROPIC_API_KEY": "ak-test",
        "ANTHROPIC_BASE_URL": llm.base_url,
    }
    host = RecordingHost()
    config = AgentConfig.model_validate({"provider": provider, "model": "fake", **settings})
    agent = Agent(workspace, config, host, env=env)
    agent.restore()
    return agent, host


def read_call(n: int) -> dict:
    return {
        "tool_calls": [
            {"id": f"call_{n}a", "name": "read_file", "arguments": {"path": "big.txt"}},
            {"id": f"call_{n}b", "name": "list_files", "arguments": {}},
        ]
    }


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_truncated_requests_are_valid_for_the_provider(fake_llm: FakeLLM, tmp_path: Path, provider: str) -> None:
    (tmp_path / "big.txt").write_text("data line\n" * 150)  # about 400 tokens per read
    for n in range(4):
        fake_llm.script(read_call(n), {"text": f"answer {n}"})
    agent, _ = wire_agent(
        fake_llm, tmp_path, provider, truncation={"contextWindow": 3800, "reserveTokens": 300, "minRecentMessages": 2}
    )
    for n in range(4):
        ended = await agent.submit(f"question {n}")
        assert ended.stop_reason == "end_turn", ended.error
    bodies = list(fake_llm.requests)
    assert len(bodies) == 8
    for body in bodies:
        CHECKS[provider](body)
    last = str(bodies[-1]["messages"])
    assert "earlier messages were omitted" in last and "question 0" in last and "question 3" in last
    await agent.aclose()


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_compact_and_an_interrupted_turn_stay_valid(fake_llm: FakeLLM, tmp_path: Path, provider: str) -> None:
    fake_llm.script(
        {"text": "first answer"},
        {"text": "- the user said hello"},  # the /compact summary
        {"text": "partial rep", "hold": True},
        {"text": "after the interruption"},
    )
    agent, host = wire_agent(fake_llm, tmp_path, provider)
    await agent.submit("hello")
    assert (await agent.submit("/compact")).stop_reason == "end_turn"
    turn = asyncio.create_task(agent.submit("write a long reply"))
    await host.wait_for(lambda e: isinstance(e, TextDelta) and "rep" in e.text)  # all of it arrived
    agent.cancel()
    assert (await asyncio.wait_for(turn, 5)).stop_reason == "cancelled"
    assert (await agent.submit("go on")).stop_reason == "end_turn"
    final = fake_llm.requests[-1]
    CHECKS[provider](final)
    text = str(final["messages"])
    assert "the user said hello" in text and "partial rep" in text and "first answer" not in text
    await agent.aclose()
