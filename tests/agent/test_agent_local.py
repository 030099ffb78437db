"""The agent on the local provider: the compact prefix stays byte-identical, warm-up, status.

The model server is played by the fake LLM (see :mod:`tests.fakes.local_model`), so the request
bodies compared here are exactly the bytes llama.cpp would receive.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from agent_core.agent import Agent
from agent_core.compact_prompt import COMPACT_SYSTEM_PROMPT
from agent_core.config import AgentConfig
from agent_core.events import ToolFinished
from agent_core.providers import local_models
from agent_core.providers.local import LocalProvider
from agent_core.providers.model_server import ModelServer, ModelStatus
from tests.fakes.doubles import RecordingHost
from tests.fakes.llm_server import FakeLLM
from tests.fakes.local_model import FakeLauncher, make_parts


@pytest.fixture
def provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_llm: FakeLLM) -> LocalProvider:
    monkeypatch.setattr(local_models, "server_installed", lambda: True)
    model = make_parts(tmp_path / "site", monkeypatch, [b"GGUF small"])
    server = ModelServer(model, tmp_path / "cache", launcher=FakeLauncher(fake_llm))
    return LocalProvider(model, server=server)


def make_agent(root: Path, provider: LocalProvider) -> tuple[Agent, RecordingHost]:
    root.mkdir(exist_ok=True)
    (root / "alpha_widget.py").write_text("def spin():\n    return 1\n")
    host = RecordingHost()
    agent = Agent(root, AgentConfig(), host, provider=provider, env={})
    agent.restore()
    return agent, host


def bodies(llm: FakeLLM) -> list[dict[str, Any]]:
    return [r for r in llm.requests if r["_path"] == "/v1/chat/completions"]


def dumped(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def test_the_prefix_is_byte_identical_across_rounds_and_turns(
    tmp_path: Path, provider: LocalProvider, fake_llm: FakeLLM
) -> None:
    fake_llm.script(
        {"text": "."},  # the warm-up
        {"text": '```json\n{"name": "list_files", "arguments": {"path": "."}}\n```'},
        {"text": "There is alpha_widget.py."},
        {"text": "It returns 1."},
    )
    agent, host = make_agent(tmp_path / "ws", provider)
    assert await agent.warm()
    await agent.submit("What files are in this project?")
    await agent.submit("What does spin return?")
    await agent.aclose()
    warm, *chats = bodies(fake_llm)
    assert len(chats) == 3
    assert [e.name for e in host.events if isinstance(e, ToolFinished)] == ["list_files"]
    # System prompt and tools: the same bytes in the warm-up and every round of every turn.
    assert warm["messages"][0] == {"role": "system", "content": COMPACT_SYSTEM_PROMPT}
    assert {dumped(body["tools"]) for body in [warm, *chats]} == {dumped(warm["tools"])}
    assert {dumped(body["messages"][0]) for body in [warm, *chats]} == {dumped(warm["messages"][0])}
    # And each request only appends to the one before it, so the cache covers all of it.
    for before, after in itertools.pairwise(chats):
        known = len(before["messages"])
        assert dumped(after["messages"][:known]) == dumped(before["messages"])
    assert all(body["cache_prompt"] is True for body in chats)


async def test_the_prefix_does_not_depend_on_the_workspace(
    tmp_path: Path, provider: LocalProvider, fake_llm: FakeLLM
) -> None:
    fake_llm.script({"text": "."}, {"text": "a"}, {"text": "b"})
    first, _ = make_agent(tmp_path / "one", provider)
    second, _ = make_agent(tmp_path / "two", provider)
    await first.submit("hi")
    await second.submit("hi")
    await first.aclose()
    await second.aclose()
    _warm, one, two = bodies(fake_llm)
    assert dumped(one["messages"][0]) == dumped(two["messages"][0])
    assert dumped(one["tools"]) == dumped(two["tools"])


async def test_a_configured_system_prompt_still_wins(
    tmp_path: Path, provider: LocalProvider, fake_llm: FakeLLM
) -> None:
    fake_llm.script({"text": "."}, {"text": "a"})
    agent, _ = make_agent(tmp_path / "ws", provider)
    agent.update_config(AgentConfig(system_prompt="Answer in French."))
    await agent.submit("hi")
    await agent.aclose()
    assert bodies(fake_llm)[-1]["messages"][0]["content"] == "Answer in French."


async def test_status_names_the_local_model_its_file_and_state(
    tmp_path: Path, provider: LocalProvider, fake_llm: FakeLLM
) -> None:
    fake_llm.script({"text": "."}, {"text": "a"})
    agent, _ = make_agent(tmp_path / "ws", provider)
    file = tmp_path / "cache" / "fake-model.gguf"
    assert agent.status().local_model == ModelStatus("fake", "Fake-Model", str(file), "not_started", None)
    await agent.submit("hi")
    local = agent.status().local_model
    assert local is not None and local.state == "ready" and file.is_file()
    await agent.aclose()


async def test_warm_is_a_no_op_for_other_providers(tmp_path: Path, fake_llm: FakeLLM) -> None:
    agent = Agent(
        tmp_path, AgentConfig(provider="openai", base_url=fake_llm.base_url + "/v1", model="m"), RecordingHost(), env={}
    )
    assert not await agent.warm()
    assert agent.status().local_model is None
    await agent.aclose()
    assert fake_llm.requests == []
