"""Positions beyond LSP's ``uinteger`` (2^31 - 1) are bad arguments (-32602 naming the field),
not internal errors."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from tests.fakes.llm_server import FakeLLM
from tests.server.harness import StartServer, fake_settings

INVALID_PARAMS = -32602
TOO_BIG = 2**31


def _range(start_line: int = 0, start_char: int = 0, end_line: int = 0, end_char: int = 1) -> dict:
    return {"start": {"line": start_line, "character": start_char}, "end": {"line": end_line, "character": end_char}}


@pytest.mark.parametrize("client_name", ["neovim"])  # the client profile does not matter here
async def test_positions_past_the_uinteger_range_are_invalid_params(
    start_server: StartServer, client_name: str, fake_llm: FakeLLM
) -> None:
    client = await start_server(client_name, settings=fake_settings(fake_llm))
    uri = client.open("a.py", "x = 1\n")
    cases = [
        ("agent.inlineEdit", {"uri": uri, "range": _range(start_line=TOO_BIG, end_line=TOO_BIG)}, "'range.start.line'"),
        ("agent.inlineEdit", {"uri": uri, "range": _range(end_char=2**40)}, "'range.end.character'"),
        (
            "agent.chat",
            {"prompt": "x", "context": {"uri": uri, "range": _range(end_line=TOO_BIG)}},
            "'context.range.end.line'",
        ),
    ]
    for command, argument, field in cases:
        with pytest.raises(JsonRpcException) as caught:
            await client.command(command, argument)
        assert caught.value.code == INVALID_PARAMS, (command, caught.value)
        assert field in str(caught.value) and "2147483647" in str(caught.value)
    # The largest valid position is clamped onto the text, as LSP asks.
    fake_llm.script({"text": "x = 2\n"})
    largest = _range(end_line=2**31 - 1, end_char=2**31 - 1)
    result = await client.command("agent.inlineEdit", {"uri": uri, "range": largest})
    proposal = await client.wait_for("agent/inlineEditProposal", lambda p: p["turnId"] == result["turnId"])
    assert proposal["range"]["end"] == {"line": 1, "character": 0}
