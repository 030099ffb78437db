"""``textDocument/inlineCompletion`` over stdio, with the recorded capabilities of Neovim and VS
Code, against the fake LLM server's ``/infill``, ``/v1/completions`` and chat endpoints."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import WAIT, AgentClient, StartServer, fake_settings


def completion_settings(llm: FakeLLM, **completion: Any) -> dict[str, Any]:
    """Chat on the fake; completions from the fake as an OpenAI-compatible server with a Qwen
    coder model (so every endpoint is possible), no debounce."""
    return fake_settings(
        llm,
        completion={
            "source": "openai",
            "baseUrl": llm.base_url + "/v1",
            "model": "qwen2.5-coder:1.5b",
            "debounceMs": 0,
            **completion,
        },
    )


def params(uri: str, line: int, character: int, automatic: bool = False) -> types.InlineCompletionParams:
    kind = types.InlineCompletionTriggerKind.Automatic if automatic else types.InlineCompletionTriggerKind.Invoked
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=kind),
    )


async def ask(client: AgentClient, uri: str, line: int, character: int, **kw: Any) -> list[types.InlineCompletionItem]:
    result = await asyncio.wait_for(
        client.client.text_document_inline_completion_async(params(uri, line, character, **kw)), WAIT
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.InlineCompletionList) else result)


def only(items: list[types.InlineCompletionItem]) -> tuple[str, types.Range | None]:
    assert len(items) == 1, items
    text = items[0].insert_text
    assert isinstance(text, str)
    return text, items[0].range


def at(line: int, character: int) -> types.Range:
    return types.Range(
        start=types.Position(line=line, character=character), end=types.Position(line=line, character=character)
    )


async def test_the_server_advertises_inline_completion(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm))
    assert client.initialize_result is not None
    assert client.initialize_result.capabilities.inline_completion_provider


async def test_an_item_inserts_at_the_cursor_without_the_repeated_suffix(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm))
    uri = client.open("greet.py", "print()\n")
    fake_llm.script({"text": '"hello")\nprint("more")'})
    text, range_ = only(await ask(client, uri, 0, 6))
    assert text == '"hello"' and range_ == at(0, 6)
    request = fake_llm.requests[-1]
    assert request["_path"] == "/infill" and request["prompt"] == "print(" and request["input_suffix"] == ")\n"
    # A position past the end of the line is clamped onto it.
    fake_llm.script({"text": "  # done"})
    text, range_ = only(await ask(client, uri, 0, 99))
    assert text == "  # done" and range_ == at(0, 7)


async def test_items_carry_the_accept_command_counted_in_status(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm))
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    fake_llm.script({"text": "return a + b"})
    items = await ask(client, uri, 1, 4)
    command = items[0].command
    assert command is not None and command.command == "agent.completion.accepted"
    assert await client.command(command.command, command.arguments[0]) == {"accepted": True}
    assert await client.command(command.command, command.arguments[0]) == {"accepted": False}
    status = (await client.command("agent.status"))["completion"]
    assert status["enabled"] and status["source"] == "openai" and status["endpoint"] == "infill"
    assert status["shown"] == 1 and status["accepted"] == 1


async def test_typing_through_a_suggestion_needs_no_model_call(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm))
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    fake_llm.script({"text": "return a + b"})
    assert only(await ask(client, uri, 1, 4))[0] == "return a + b"
    client.change(uri, "def add(a, b):\n    ret\n", version=2)
    text, range_ = only(await ask(client, uri, 1, 7, automatic=True))
    assert text == "urn a + b" and range_ == at(1, 7)
    assert len(fake_llm.requests) == 1
    assert (await client.command("agent.status"))["completion"]["cacheHits"] == 1


async def test_a_superseded_request_is_answered_empty_and_its_model_call_closed(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm))
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    fake_llm.script({"text": "too late", "hold": True}, {"text": "return a + b"})
    first = asyncio.ensure_future(ask(client, uri, 1, 4))
    await asyncio.to_thread(fake_llm.wait_for_requests, 1, WAIT)
    client.change(uri, "def add(a, b):\n    r\n", version=2)
    assert only(await ask(client, uri, 1, 5))[0] == "return a + b"
    assert await first == []
    await asyncio.to_thread(fake_llm.wait_for_disconnects, 1, WAIT)


async def test_cancel_request_stops_the_model_call(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm))
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    fake_llm.script({"text": "never shown", "hold": True})
    pending = asyncio.ensure_future(
        client.client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params(uri, 1, 4), msg_id="inline-1"
        )
    )
    await asyncio.to_thread(fake_llm.wait_for_requests, 1, WAIT)
    client.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="inline-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(pending, WAIT)
    await asyncio.to_thread(fake_llm.wait_for_disconnects, 1, WAIT)
    # The server goes on serving.
    fake_llm.script({"text": "return a"})
    assert only(await ask(client, uri, 1, 4))[0] == "return a"


@pytest.mark.parametrize(
    ("completion", "missing", "path"),
    [
        ({}, set(), "/infill"),
        ({}, {"/infill"}, "/v1/completions"),
        ({"model": "some-chat-model"}, {"/infill"}, "/v1/chat/completions"),
        ({"endpoint": "chat"}, set(), "/v1/chat/completions"),
    ],
    ids=["llama.cpp infill", "FIM completions", "chat prompt", "chat by setting"],
)
async def test_each_openai_endpoint_is_chosen_by_settings_and_server(
    start_server: StartServer, fake_llm: FakeLLM, completion: dict[str, Any], missing: set[str], path: str
) -> None:
    fake_llm.missing_routes.update(missing)
    client = await start_server("neovim", settings=completion_settings(fake_llm, **completion))
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    fake_llm.script({"text": "return a + b"})
    assert only(await ask(client, uri, 1, 4))[0] == "return a + b"
    assert fake_llm.requests[-1]["_path"] == path


async def test_the_anthropic_source_uses_the_chat_prompt(
    start_server: StartServer, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fake_settings(
        fake_llm,
        completion={"source": "anthropic", "baseUrl": fake_llm.base_url, "model": "claude-test", "debounceMs": 0},
    )
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    client = await start_server("visual_studio_code", settings=settings)
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    fake_llm.script({"text": "```python\nreturn a + b\n```"})
    assert only(await ask(client, uri, 1, 4))[0] == "return a + b"
    assert fake_llm.requests[-1]["_path"] == "/v1/messages"
    assert (await client.command("agent.status"))["completion"]["source"] == "anthropic"


async def test_disabled_completion_answers_nothing(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm, enabled=False))
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    assert await ask(client, uri, 1, 4) == []
    assert fake_llm.requests == []
    status = (await client.command("agent.status"))["completion"]
    assert status["enabled"] is False and "enabled" in status["reason"]


async def test_unopened_documents_are_read_from_disk_and_unknown_ones_get_nothing(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, tmp_path: Path
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm))
    on_disk = client.root / "disk.py"
    on_disk.write_text("def sub(a, b):\n    \n")
    fake_llm.script({"text": "return a - b"})
    assert only(await ask(client, on_disk.as_uri(), 1, 4))[0] == "return a - b"
    assert fake_llm.requests[-1]["input_prefix"] == "def sub(a, b):\n"
    assert await ask(client, (client.root / "missing.py").as_uri(), 0, 0) == []
    assert await ask(client, "untitled:Untitled-1", 0, 0) == []
    assert len(fake_llm.requests) == 1


async def test_problems_are_reported_once_and_garbage_is_empty(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=completion_settings(fake_llm))
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    fake_llm.default = {"status": 500, "error_message": "the model crashed"}
    for character in (4, 3, 2):
        assert await ask(client, uri, 1, character) == []
    notice = await client.wait_for("agent/notice", lambda p: "completion" in p["text"])
    assert "500" in notice["text"] and notice["level"] == "warning"
    assert len([n for n in client.of("agent/notice") if "completion" in n["text"]]) == 1
    assert "500" in (await client.command("agent.status"))["completion"]["problem"]
    fake_llm.default = {"text": "<|fim_pad|>   \n```"}
    assert await ask(client, uri, 1, 1) == []


async def test_a_settings_change_turns_completion_on(start_server: StartServer, fake_llm: FakeLLM) -> None:
    off = completion_settings(fake_llm, enabled=False)
    client = await start_server("visual_studio_code", settings=off, configuration=off)
    assert (await client.command("agent.status"))["completion"]["enabled"] is False
    client.client.set_configuration(completion_settings(fake_llm), section="agent")
    client.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))

    async def enabled() -> None:
        while not (await client.command("agent.status"))["completion"]["enabled"]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    await asyncio.wait_for(enabled(), WAIT)
    uri = client.open("calc.py", "def add(a, b):\n    \n")
    fake_llm.script({"text": "return a + b"})
    assert only(await ask(client, uri, 1, 4))[0] == "return a + b"
