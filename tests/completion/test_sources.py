"""Each source and endpoint, against the fake LLM server on loopback: what is sent, what comes back."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_core.completion.config import CompletionConfig
from agent_core.completion.context import build_context
from agent_core.completion.local import ModelServer
from agent_core.completion.ring import Chunk
from agent_core.completion.select import choose_source, create_source, make_engine
from agent_core.completion.sources import CompletionProblem, ModelLoading, ServerSource
from agent_core.config import AgentConfig
from tests.fakes.llm_server import FakeLLM

DOC = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
CTX = build_context(DOC, DOC.index("    \n") + 4, prefix_lines=10, suffix_lines=10, path="calc.py", language="python")


class StubServer:
    """A :class:`ModelServer` whose URL is the fake's (or that is still loading)."""

    def __init__(self, url: str | None, model: str = "Qwen2.5-Coder-1.5B-Instruct") -> None:
        self.model = model
        self.state = "ready" if url else "loading"
        self.problem: str | None = None
        self._url = url
        self.starts = 0

    def url_if_ready(self) -> str | None:
        if self._url is None:
            self.starts += 1
        return self._url

    async def ensure_started(self) -> str:
        assert self._url is not None
        return self._url

    async def aclose(self) -> None:
        pass


def source(
    name: str,
    llm: FakeLLM,
    chat: AgentConfig | None = None,
    env: dict[str, str] | None = None,
    local: ModelServer | None = None,
    **completion: object,
) -> ServerSource:
    config = CompletionConfig.model_validate(completion)
    return create_source(name, config, chat or AgentConfig(), env or {}, local or StubServer(llm.base_url))


async def test_local_source_asks_infill_with_windows_extra_cache_and_budget(fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "return a + b"})
    src = source("local", fake_llm, maxTokens=32, timeBudgetMs=700)
    ctx = replace(CTX, extra=(Chunk("util.py", "def helper():\n    pass\n"),))
    assert await src.complete(ctx) == "return a + b"
    body = fake_llm.requests[-1]
    assert body["_path"] == "/infill"
    assert body["input_prefix"] == "def add(a, b):\n" and body["prompt"] == "    "
    assert body["input_suffix"] == "\n\nprint(add(1, 2))\n"
    assert body["input_extra"] == [{"filename": "util.py", "text": "def helper():\n    pass\n"}]
    assert body["cache_prompt"] is True and body["n_indent"] == 4
    assert body["n_predict"] == 32 and body["t_max_predict_ms"] == 700
    assert src.describe() == {
        "source": "local",
        "model": "Qwen2.5-Coder-1.5B-Instruct",
        "endpoint": "infill",
        "state": "ready",
    }
    await src.aclose()


async def test_a_loading_local_model_answers_at_once(fake_llm: FakeLLM) -> None:
    server = StubServer(None)
    src = source("local", fake_llm, local=server)
    with pytest.raises(ModelLoading):
        await src.complete(CTX)
    assert server.starts == 1 and fake_llm.requests == []
    await src.aclose()


async def test_openai_server_without_infill_uses_completions_with_fim_tokens(fake_llm: FakeLLM) -> None:
    fake_llm.missing_routes.add("/infill")
    fake_llm.script({"text": "return a + b"}, {"text": "return a - b"})
    src = source("openai", fake_llm, baseUrl=fake_llm.base_url + "/v1", model="qwen2.5-coder:1.5b")
    assert await src.complete(CTX) == "return a + b"
    body = fake_llm.requests[-1]
    assert body["_path"] == "/v1/completions" and body["model"] == "qwen2.5-coder:1.5b"
    assert body["prompt"] == ("<|fim_prefix|>def add(a, b):\n    <|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>")
    assert "<|endoftext|>" in body["stop"]
    # The endpoint found is remembered: no second probe of /infill.
    assert await src.complete(CTX) == "return a - b"
    assert [r["_path"] for r in fake_llm.requests] == ["/v1/completions", "/v1/completions"]
    await src.aclose()


async def test_openai_server_with_an_unknown_model_family_uses_a_chat_prompt(fake_llm: FakeLLM) -> None:
    fake_llm.missing_routes.add("/infill")
    fake_llm.script({"text": "```python\nreturn a + b\n```"})
    src = source("openai", fake_llm, baseUrl=fake_llm.base_url + "/v1", model="some-chat-model")
    assert await src.complete(CTX) == "```python\nreturn a + b\n```"  # cleaned later by quality
    body = fake_llm.requests[-1]
    assert body["_path"] == "/v1/chat/completions"
    user = body["messages"][-1]["content"]
    assert "File: calc.py (python)" in user and "def add(a, b):\n    <CURSOR>\n\nprint" in user
    assert src.endpoint == "chat"
    await src.aclose()


async def test_anthropic_source_uses_the_chat_prompt(fake_llm: FakeLLM) -> None:
    fake_llm.script({"text": "return a + b"})
    chat = AgentConfig(provider="anthropic", base_url=fake_llm.base_url, model="claude-test")
    src = source("anthropic", fake_llm, chat=chat, env={"ANTHROPIC_API_KEY": "sk-ant-test-key"})
    assert await src.complete(CTX) == "return a + b"
    assert fake_llm.requests[-1]["_path"] == "/v1/messages"
    assert fake_llm.requests[-1]["model"] == "claude-test"
    await src.aclose()


async def test_an_endpoint_named_in_the_settings_is_used_alone(fake_llm: FakeLLM) -> None:
    fake_llm.missing_routes.add("/infill")
    src = source("openai", fake_llm, baseUrl=fake_llm.base_url + "/v1", model="m", endpoint="infill")
    with pytest.raises(CompletionProblem, match="has no infill endpoint"):
        await src.complete(CTX)
    await src.aclose()


async def test_server_errors_become_readable_problems(fake_llm: FakeLLM) -> None:
    fake_llm.script({"status": 401, "error_message": "bad key sk-secret-value-123"})
    src = source(
        "openai",
        fake_llm,
        baseUrl=fake_llm.base_url + "/v1",
        model="m",
        endpoint="infill",
        env={"OPENAI_API_KEY": "sk-secret-value-123"},
    )
    with pytest.raises(CompletionProblem) as caught:
        await src.complete(CTX)
    assert "401" in str(caught.value) and "sk-secret-value-123" not in str(caught.value)
    assert fake_llm.requests[-1]["_headers"]["authorization"] == "Bearer sk-secret-value-123"
    await src.aclose()


async def test_garbage_answers_are_problems_not_crashes(fake_llm: FakeLLM) -> None:
    fake_llm.script({"status": 200, "body": "not json at all"}, {"status": 200, "body": '{"unexpected": 1}'})
    src = source("local", fake_llm)
    for _ in range(2):
        with pytest.raises(CompletionProblem):
            await src.complete(CTX)
    await src.aclose()


def test_auto_source_choice() -> None:
    assert choose_source(CompletionConfig(base_url="http://127.0.0.1:9/v1"), {}).name == "openai"
    assert choose_source(CompletionConfig(source="anthropic"), {}).name == "anthropic"
    off = make_engine(AgentConfig(completion=CompletionConfig(enabled=False, source="openai")), {}, StubServer(None))
    assert not off.enabled and off.status()["source"] == "openai" and "enabled" in off.status()["reason"]


def test_a_source_that_cannot_be_built_is_reported_once_and_off() -> None:
    problems: list[str] = []
    chat = AgentConfig(completion=CompletionConfig(source="anthropic"))
    engine = make_engine(chat, {}, StubServer(None), on_problem=problems.append)
    assert not engine.enabled and len(problems) == 1 and "ANTHROPIC_API_KEY" in problems[0]
    assert engine.status()["enabled"] is False and "ANTHROPIC_API_KEY" in engine.status()["reason"]
