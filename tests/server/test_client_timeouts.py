"""Requests the server sends to the editor (an approval question, an edit) are bounded: a client
that never answers, or answers something that cannot be read, is a rejection with a reason the
model reads, never a turn that runs forever."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import AgentClient, StartServer, fake_settings

EDIT_CALL = {
    "tool_calls": [
        {
            "id": "call-1",
            "name": "edit_file",
            "arguments": {"path": "notes.txt", "old_text": "old line", "new_text": "new line"},
        }
    ]
}


def answer_with(client: AgentClient, method: str, answer: Callable[[Any], Awaitable[Any]]) -> list[Any]:
    """Replace the test client's handler of ``method``; returns the list of params it was asked."""
    asked: list[Any] = []

    async def handle(ls: LanguageClient, params: Any) -> Any:
        asked.append(params)
        return await answer(params)

    client.client.protocol.fm.features.pop(method, None)
    client.client.feature(method)(handle)
    return asked


async def never(_params: Any) -> Any:
    await asyncio.Event().wait()


async def _edit_turn(client: AgentClient) -> tuple[dict[str, Any], str]:
    """Run a chat turn whose model edits notes.txt; the turn's end and the tool result the model read."""
    client.open("notes.txt", "old line\n", language="plaintext")
    turn_id = (await client.command("agent.chat", {"prompt": "update the notes"}))["turnId"]
    ended = await client.turn_ended(turn_id)
    finished = client.of("agent/toolCall", turn_id)[-1]
    assert finished["status"] == "finished" and finished["isError"] is True
    return ended, finished["output"]


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
@pytest.mark.parametrize("permission_request", [True, False], ids=["agent/requestPermission", "showMessageRequest"])
async def test_an_unanswered_approval_is_a_rejection(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, permission_request: bool
) -> None:
    fake_llm.script(EDIT_CALL, {"text": "Understood."})
    client = await start_server(
        client_name, settings=fake_settings(fake_llm, approvalTimeout=0.5), permission_request=permission_request
    )
    method = "agent/requestPermission" if permission_request else types.WINDOW_SHOW_MESSAGE_REQUEST
    asked = answer_with(client, method, never)
    ended, output = await _edit_turn(client)
    assert ended["stopReason"] == "end_turn" and len(asked) == 1
    assert "did not answer" in output and "0.5 s" in output and "approvalTimeout" in output
    assert client.applied_edits == []
    tool_results = [m for m in fake_llm.requests[-1]["messages"] if m.get("role") == "tool"]
    assert "did not answer" in tool_results[0]["content"]  # the model reads why


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_an_unreadable_answer_is_a_rejection_at_once(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    """``[1, 2]`` is not a ``MessageActionItem``: pygls cannot parse it, so without a bound the
    question would stay open for ever (the default bound is minutes; this must not wait)."""
    fake_llm.script(EDIT_CALL, {"text": "Understood."})
    client = await start_server(client_name, settings=fake_settings(fake_llm))

    async def garbage(_params: Any) -> Any:
        return [1, 2]

    answer_with(client, types.WINDOW_SHOW_MESSAGE_REQUEST, garbage)
    ended, output = await _edit_turn(client)
    assert ended["stopReason"] == "end_turn"
    assert "could not be read" in output
    assert not [m for m, p in client.notes if m == "window/showMessage" and "Error" in p["message"]]


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
@pytest.mark.parametrize("kind", ["silent", "garbage"])
async def test_an_edit_the_editor_never_applies_is_reported(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM, kind: str
) -> None:
    fake_llm.script(EDIT_CALL, {"text": "Understood."})
    settings = fake_settings(fake_llm, approval={"editFile": "allow"}, editTimeout=0.5)
    client = await start_server(client_name, settings=settings)

    async def garbage(_params: Any) -> Any:
        return "yes"

    asked = answer_with(client, types.WORKSPACE_APPLY_EDIT, never if kind == "silent" else garbage)
    ended, output = await _edit_turn(client)
    assert ended["stopReason"] == "end_turn" and len(asked) == 1
    expected = "did not answer" if kind == "silent" else "could not be read"
    assert expected in output, output
