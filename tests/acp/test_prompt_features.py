"""What a prompt can carry and how its turn can end: mentioned files rendered like the editor
context, slash commands, retries, failures as error responses, settings, the client's MCP servers."""

from __future__ import annotations

import sys
from pathlib import Path

from acp import RequestError
from acp.schema import (
    EmbeddedResourceContentBlock,
    McpServerStdio,
    ResourceContentBlock,
    SseMcpServer,
    TextContentBlock,
    TextResourceContents,
)

from tests.acp.harness import run_agent
from tests.fakes.llm_server import FakeLLM
from tests.mcp.servers import FAKE as FAKE_MCP
from tests.mcp.servers import START


async def test_mentioned_files_reach_the_model_like_the_editor_context(tmp_path: Path, fake_llm: FakeLLM) -> None:
    async with run_agent(tmp_path, fake_llm) as agent:
        session_id = await agent.new_session()
        app = agent.workspace / "src" / "app.py"
        blocks = [
            TextContentBlock(type="text", text="Why does "),
            EmbeddedResourceContentBlock(
                type="resource",
                resource=TextResourceContents(
                    uri=f"{app.as_uri()}#L3:4", text="def f():\n    return 1\n", mime_type="text/x-python"
                ),
            ),
            TextContentBlock(type="text", text=" fail? See also "),
            ResourceContentBlock(type="resource_link", uri=(agent.workspace / "README.md").as_uri(), name="README.md"),
        ]
        response = await agent.conn.prompt(session_id=session_id, prompt=blocks)
        assert response.stop_reason == "end_turn"
        sent = fake_llm.requests[0]["messages"][-1]["content"]
        assert sent.startswith("Why does `src/app.py` fail? See also `README.md`")
        assert "Selected text in `src/app.py` lines 3-4:\n```py\ndef f():\n    return 1\n```" in sent
        assert "Current file: `README.md`" in sent


async def test_slash_commands_answer_in_the_thread(tmp_path: Path, fake_llm: FakeLLM) -> None:
    async with run_agent(tmp_path, fake_llm) as agent:
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "/help")).stop_reason == "end_turn"
        assert "/compact" in agent.client.text(session_id)
        for refused in ("/clear", "/session new", "/session load abc"):
            try:
                await agent.prompt(session_id, refused)
                raise AssertionError(f"{refused} must be refused")
            except RequestError as error:
                assert "not available in this editor" in str(error) and "new thread" in str(error)
        try:
            await agent.prompt(session_id, "/frobnicate")
            raise AssertionError("an unknown command is an error")
        except RequestError as error:
            assert "Unknown command /frobnicate" in str(error)
        assert fake_llm.requests == []


async def test_a_retry_is_shown_as_a_thought_and_a_failure_as_an_error(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {"status": 429, "headers": {"retry-after-ms": "10"}},
        {"text": "after the retry"},
        {"status": 401, "error_message": "invalid api key"},
    )
    async with run_agent(tmp_path, fake_llm) as agent:
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "hello")).stop_reason == "end_turn"
        thoughts = agent.client.thoughts(session_id)
        assert "Retrying in" in thoughts and "attempt 2 of 3" in thoughts and "429" in thoughts
        assert agent.client.text(session_id) == "after the retry"
        try:
            await agent.prompt(session_id, "again")
            raise AssertionError("a 401 ends the prompt with an error")
        except RequestError as error:
            assert "401" in str(error) or "api key" in str(error).lower(), str(error)


async def test_initialize_meta_settings_win_over_the_file_and_problems_are_shown(
    tmp_path: Path, fake_llm: FakeLLM
) -> None:
    settings = {"provider": "openai", "baseUrl": fake_llm.base_url + "/v1", "model": "from-file", "maxTokens": "lots"}
    meta = {"agentLsp": {"model": "from-meta"}}
    async with run_agent(tmp_path, fake_llm, settings=settings, meta=meta) as agent:
        session_id = await agent.new_session()
        assert (await agent.prompt(session_id, "hi")).stop_reason == "end_turn"
        assert fake_llm.requests[0]["model"] == "from-meta"
        assert fake_llm.requests[0]["max_tokens"] == 4096, "the bad value fell back to its default"
        assert "Settings problem: maxTokens" in agent.client.text(session_id)
        assert "maxTokens" in agent.log_text()


async def test_the_clients_mcp_servers_are_started_and_their_tools_called(tmp_path: Path, fake_llm: FakeLLM) -> None:
    fake_llm.script(
        {"tool_calls": [{"id": "m1", "name": "fake__echo", "arguments": {"text": "over acp"}}]}, {"text": "Echoed."}
    )
    async with run_agent(tmp_path, fake_llm) as agent:
        fake = McpServerStdio(name="fake", command=sys.executable, args=[str(FAKE_MCP)], env=[])
        old = SseMcpServer(type="sse", name="old", url="http://127.0.0.1:9/sse", headers=[])
        session_id = (await agent.conn.new_session(cwd=str(agent.workspace), mcp_servers=[fake, old])).session_id
        await agent.client.wait_for(lambda: "'old' skipped" in agent.client.text(session_id), "the SSE note")
        assert "type sse" in agent.client.text(session_id)
        response = await agent.prompt(session_id, "echo it", timeout=START)
        assert response.stop_reason == "end_turn"
        [(asked, _options)] = agent.client.permission_requests
        assert asked.title == "MCP fake: echo"
        [result] = [m for m in fake_llm.requests[1]["messages"] if m.get("role") == "tool"]
        assert result["content"] == "echo: over acp"
        assert agent.initialized.agent_capabilities.mcp_capabilities.http is True
