"""The local provider and its shared model server, with the model server played by the fake LLM.

The launcher that would start llama.cpp's process is replaced by one that "starts" a stand-in
child answering at the fake LLM's address, so these tests cover everything around the model:
one server per process for every folder, the compact request, text tool calls, the warm-up and
its saved prefix, the notices of a request that waits, and every fault ending with one clear
message while the next request tries again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent_core.events import Notice, StreamFinished, TextDelta, ToolCallReady
from agent_core.messages import Message, ToolCall
from agent_core.providers import local_models
from agent_core.providers.base import ChatRequest, ToolSpec
from agent_core.providers.local import LocalProvider
from agent_core.providers.local_models import LocalModel
from agent_core.providers.model_server import ModelServer
from tests.fakes.llm_server import FakeLLM
from tests.fakes.local_model import FakeChild, FakeLauncher, make_parts
from tests.providers.collect import collect

TOOLS = [
    ToolSpec(
        name="list_files",
        description="List a folder of the workspace, long text.",
        parameters={
            "type": "object",
            "properties": {"path": {"type": "string", "description": "Folder.", "default": "."}},
            "additionalProperties": False,
        },
        brief="List a folder.",
    )
]
SYSTEM = Message(role="system", content="You are terse.")


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalModel:
    monkeypatch.setattr(local_models, "server_installed", lambda: True)
    return make_parts(tmp_path / "site", monkeypatch, [b"GGUF part one ", b"and part two"])


@pytest.fixture
def launcher(fake_llm: FakeLLM) -> FakeLauncher:
    return FakeLauncher(fake_llm)


@pytest.fixture
def server(model: LocalModel, launcher: FakeLauncher, tmp_path: Path) -> ModelServer:
    return ModelServer(model, tmp_path / "cache", launcher=launcher, startup_timeout=10)


def chat(text: str = "What files are there?", tools: list[ToolSpec] | None = None) -> ChatRequest:
    return ChatRequest(
        messages=[SYSTEM, Message(role="user", content=text)], tools=TOOLS if tools is None else tools, max_tokens=64
    )


def chat_requests(llm: FakeLLM) -> list[dict[str, Any]]:
    return [r for r in llm.requests if r["_path"] == "/v1/chat/completions"]


async def test_first_use_prepares_the_model_then_streams_a_compact_cached_request(
    fake_llm: FakeLLM, server: ModelServer, launcher: FakeLauncher, tmp_path: Path
) -> None:
    assert server.status().state == "not_started"
    fake_llm.script({"text": "."}, {"text": "Two files."})  # the warm-up, then the answer
    provider = LocalProvider(server.model, server=server)
    events, err = await collect(provider, chat())
    assert err is None
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "Preparing the local model Fake-Model for its first use" in notices[0]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Two files."
    status = server.status()
    assert (status.state, status.file) == ("ready", str(tmp_path / "cache" / "fake-model.gguf"))
    assert launcher.params[0]["model"] == status.file and launcher.params[0]["n_ctx"] == 2048
    warm, answer = chat_requests(fake_llm)
    assert answer["cache_prompt"] is True and answer["stream"] is True
    assert answer["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "list_files",
                "description": "List a folder.",
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
            },
        }
    ]
    assert warm["stream"] is False and warm["max_tokens"] == 1
    assert warm["messages"] == [{"role": "system", "content": "You are terse."}, {"role": "user", "content": ""}]
    assert json.dumps(warm["tools"]) == json.dumps(answer["tools"])
    await provider.aclose()
    assert launcher.children[0].stopped == 1 and server.status().state == "not_started"


async def test_one_server_serves_every_folder_and_the_warm_up_happens_once(
    fake_llm: FakeLLM, server: ModelServer, launcher: FakeLauncher
) -> None:
    fake_llm.script({"text": "."}, {"text": "a"}, {"text": "b"}, {"text": "c"})
    first, second = LocalProvider(server.model, server=server), LocalProvider(server.model, server=server)
    for provider in (first, second, first):
        _, err = await collect(provider, chat())
        assert err is None
    assert len(launcher.children) == 1
    assert [r["stream"] for r in chat_requests(fake_llm)] == [False, True, True, True]
    await first.aclose()
    assert launcher.children[0].stopped == 0  # the second folder still uses it
    await second.aclose()
    assert launcher.children[0].stopped == 1


async def test_requests_without_tools_are_not_warmed(fake_llm: FakeLLM, server: ModelServer) -> None:
    provider = LocalProvider(server.model, server=server)
    _, err = await collect(provider, chat(tools=[]))
    await provider.aclose()
    assert err is None and [r["stream"] for r in chat_requests(fake_llm)] == [True]


async def test_a_tool_call_written_as_json_runs_as_a_tool_call(fake_llm: FakeLLM, server: ModelServer) -> None:
    fake_llm.script({"text": "."}, {"text": '```json\n{"name": "list_files", "arguments": {"path": "src"}}\n```'})
    provider = LocalProvider(server.model, server=server)
    events, err = await collect(provider, chat())
    await provider.aclose()
    assert err is None and not [e for e in events if isinstance(e, TextDelta)]
    ready = [e.call for e in events if isinstance(e, ToolCallReady)]
    assert [(c.name, c.arguments) for c in ready] == [("list_files", {"path": "src"})]
    assert isinstance(events[-1], StreamFinished) and events[-1].stop_reason == "tool_use"


async def test_text_tool_calls_can_be_turned_off(fake_llm: FakeLLM, server: ModelServer) -> None:
    call = '{"name": "list_files", "arguments": {}}'
    fake_llm.script({"text": "."}, {"text": call})
    provider = LocalProvider(server.model, server=server, text_tool_calls=False)
    events, _ = await collect(provider, chat())
    await provider.aclose()
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == call


async def test_a_server_that_dies_mid_reply_ends_the_turn_and_starts_again(
    fake_llm: FakeLLM, server: ModelServer, launcher: FakeLauncher
) -> None:
    fake_llm.script(
        {"text": "."},
        {"text": "ok"},
        {"text": "a long answer that breaks", "drop_after_bytes": 80},
        {"text": "."},
        {"text": "back"},
    )  # the new server is warmed again
    provider = LocalProvider(server.model, server=server)
    await collect(provider, chat())
    # Killed (out of memory, a crash) while it answers the next request.
    launcher.children[0].dies_when = lambda: len(fake_llm.requests) >= 3
    _, err = await collect(provider, chat())
    assert err is not None and err.kind == "local_stopped" and not err.retryable
    assert err.message == (
        "The local model server stopped during the reply: the model server process was killed "
        "by signal 9. Send your message again to restart it."
    )
    assert server.status().state == "failed"
    events, err = await collect(provider, chat())
    assert err is None and "".join(e.text for e in events if isinstance(e, TextDelta)) == "back"
    assert len(launcher.children) == 2 and server.status().state == "ready"
    assert any(isinstance(e, Notice) and "Loading the local model" in e.text for e in events)
    await provider.aclose()


async def test_a_server_that_cannot_start_says_why_and_the_next_request_tries_again(
    fake_llm: FakeLLM, server: ModelServer, launcher: FakeLauncher
) -> None:
    launcher.fail = "the model server did not start: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: 5"
    provider = LocalProvider(server.model, server=server)
    _, err = await collect(provider, chat())
    assert err is not None and (err.kind, err.retryable) == ("local_start", False)
    assert err.message == (
        "The local model could not start: the model server did not start: couldn't bind HTTP "
        "server socket, hostname: 127.0.0.1, port: 5"
    )
    status = server.status()
    assert status.state == "failed" and status.reason is not None and "port: 5" in status.reason
    launcher.fail = None
    fake_llm.script({"text": "."}, {"text": "fine"})
    events, err = await collect(provider, chat())
    assert err is None and "".join(e.text for e in events if isinstance(e, TextDelta)) == "fine"
    await provider.aclose()


async def test_a_missing_part_fails_the_turn_naming_it(
    tmp_path: Path, fake_llm: FakeLLM, server: ModelServer, launcher: FakeLauncher
) -> None:
    (tmp_path / "site" / "fake_model_part2" / "data" / "part02.bin").unlink()
    provider = LocalProvider(server.model, server=server)
    _, err = await collect(provider, chat())
    await provider.aclose()
    assert err is not None and err.kind == "local_start"
    assert "Part 2 of 2 of the Fake-Model model (package fake-model-part2) is not installed" in err.message
    assert launcher.params == [] and fake_llm.requests == []
    assert server.status().state == "not_installed"


async def test_an_unwritable_cache_fails_the_turn_saying_what_to_do(
    tmp_path: Path, model: LocalModel, launcher: FakeLauncher
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    server = ModelServer(model, blocker / "models", launcher=launcher)
    provider = LocalProvider(model, server=server)
    _, err = await collect(provider, chat())
    await provider.aclose()
    assert err is not None and "cannot be written" in err.message and "XDG_CACHE_HOME" in err.message
    assert server.status().state == "failed" and launcher.params == []


async def test_a_request_waiting_for_another_says_so(fake_llm: FakeLLM, server: ModelServer) -> None:
    fake_llm.script({"text": "started"}, {"text": "."}, {"text": "first", "hold": True}, {"text": "second"})
    one, two = LocalProvider(server.model, server=server), LocalProvider(server.model, server=server)
    await collect(one, chat(tools=[]))  # the server is up
    first = asyncio.ensure_future(collect(one, chat()))
    await asyncio.to_thread(fake_llm.wait_for_requests, 3)  # the first one is being answered
    second = two.stream(chat(tools=[]))
    notice = await anext(second)
    assert notice == Notice(
        level="info",
        text="The local model (Fake-Model) is answering another request "
        "(another folder or an inline edit); this one waits for it.",
    )
    await second.aclose()  # the user gave up waiting (cancelled the turn)
    fake_llm.release()
    events_one, err_one = await first
    assert err_one is None and not [e for e in events_one if isinstance(e, Notice)]
    events_three, _ = await collect(two, chat(tools=[]))  # nothing else runs now: no notice
    assert not [e for e in events_three if isinstance(e, Notice)]
    assert "".join(e.text for e in events_three if isinstance(e, TextDelta)) == "second"
    await one.aclose()
    await two.aclose()


async def test_a_start_nobody_waits_for_any_more_is_abandoned(
    model: LocalModel, tmp_path: Path, fake_llm: FakeLLM
) -> None:
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    children: list[FakeChild] = []

    def slow_launcher(params: dict[str, Any], timeout: float, abandoned: Callable[[], bool]) -> FakeChild:
        loop.call_soon_threadsafe(started.set)
        while not abandoned():  # a model still loading, until the provider lets go
            time.sleep(0.005)
        children.append(FakeChild(fake_llm.base_url))
        return children[-1]

    server = ModelServer(model, tmp_path / "cache", launcher=slow_launcher)
    provider = LocalProvider(model, server=server)
    turn = asyncio.ensure_future(collect(provider, chat()))
    await asyncio.wait_for(started.wait(), 10)
    await provider.aclose()
    _, err = await turn
    assert err is not None and "stopped while it started" in err.message
    assert children[0].stopped == 1 and server.status().state == "not_started"


async def test_status_before_install_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: LocalModel
) -> None:
    monkeypatch.setattr(local_models, "server_installed", lambda: False)
    status = ModelServer(model, tmp_path).status()
    assert status.state == "not_installed" and status.reason is not None and "pip install xllamacpp" in status.reason


async def test_the_first_reply_of_a_turn_is_constrained_to_a_tool_call(fake_llm: FakeLLM, server: ModelServer) -> None:
    fake_llm.script(
        {"text": "."},
        {"text": '{"name": "list_files", "arguments": {"path": "."}}'},
        {"text": "Two files."},
        {"text": "plain"},
    )
    provider = LocalProvider(server.model, server=server)
    first = chat()
    call = ToolCall(id="c1", name="list_files", arguments={"path": "."})
    after_tool = ChatRequest(
        messages=[
            *first.messages,
            Message(role="assistant", content="", tool_calls=[call]),
            Message(role="tool", content="a.py", tool_call_id="c1", name="list_files"),
        ],
        tools=TOOLS,
    )
    for request in (first, after_tool, chat(tools=[])):
        _, err = await collect(provider, request)
        assert err is None
    await provider.aclose()
    _warm, opening, answer, no_tools = chat_requests(fake_llm)
    assert opening["json_schema"] == {
        "oneOf": [
            {
                "type": "object",
                "required": ["name", "arguments"],
                "properties": {
                    "name": {"const": "list_files"},
                    "arguments": {"type": "object", "properties": {"path": {"type": "string"}}},
                },
            }
        ]
    }
    assert "json_schema" not in answer and "json_schema" not in no_tools
    assert json.dumps(opening["messages"]) == json.dumps(answer["messages"][:2])  # the constraint is not in the prompt
