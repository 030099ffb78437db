"""A 10 MB prompt is refused before it is saved, with the limit in the error, and the session
stays usable (saved, it would be pinned as the first message of every later request)."""

from __future__ import annotations

import pytest

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import StartServer, fake_settings


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
async def test_a_huge_prompt_is_refused_and_the_session_stays_usable(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    await client.wait_for("agent/sessionRestored")
    huge = "x = 1  # pasted log line\n" * 400_000  # 10 MB
    turn_id = (await client.command("agent.chat", {"prompt": huge}))["turnId"]
    ended = await client.turn_ended(turn_id)
    assert ended["stopReason"] == "error"
    assert "Your message was not sent" in ended["error"] and "context window 128000" in ended["error"]
    assert fake_llm.requests == []

    fake_llm.script({"text": "hello"})
    turn_id = (await client.command("agent.chat", {"prompt": "hi"}))["turnId"]
    assert (await client.turn_ended(turn_id))["stopReason"] == "end_turn"
    [info] = (await client.command("agent.session.list"))["sessions"]
    assert info["messageCount"] == 2 and info["preview"] == "hi"
