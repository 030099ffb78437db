"""What the summariser is given: a readable transcript, long tool output cut, and a history too
long for the window cut from its oldest end; an empty summary is refused."""

from __future__ import annotations

import pytest

from agent_core.compaction import CompactionError, summarise, transcript
from agent_core.messages import Message, ToolCall
from agent_core.tokens import estimate_text
from tests.fakes.doubles import ScriptedProvider, reply


def conversation(rounds: int, result_size: int) -> list[Message]:
    messages: list[Message] = []
    for n in range(rounds):
        call = ToolCall(id=f"c{n}", name="read_file", arguments={"path": f"f{n}.py"})
        messages += [
            Message(role="user", content=f"question {n}"),
            Message(role="assistant", content=f"looking {n}", tool_calls=[call]),
            Message(role="tool", tool_call_id=call.id, name="read_file", content="x" * result_size, is_error=n == 0),
        ]
    return messages


def test_transcript_names_every_step_and_cuts_long_results() -> None:
    text = transcript(conversation(2, 10_000))
    assert "User: question 0" in text and "Assistant: looking 1" in text
    assert 'Assistant called read_file({"path": "f1.py"})' in text
    assert "Result of read_file (error): " in text and "Result of read_file: " in text
    assert len(text) < 5000  # two 10k results were cut to about 2k each


async def test_summary_request_fits_the_window_keeping_the_newest_part() -> None:
    provider = ScriptedProvider(reply("- did things"))
    summary = await summarise(
        provider, conversation(200, 1500), context_window=8000, max_tokens=1000, report=lambda e: None
    )
    sent = provider.requests[0].messages[-1].content
    assert estimate_text(sent) <= 8000 - 1000
    assert "question 199" in sent and "question 0\n" not in sent
    assert "oldest part of the conversation is cut" in sent
    assert summary.kind == "summary" and summary.role == "user" and summary.content.endswith("- did things")


async def test_an_empty_summary_is_an_error() -> None:
    provider = ScriptedProvider(reply(""))
    with pytest.raises(CompactionError):
        await summarise(provider, conversation(1, 10), context_window=8000, max_tokens=1000, report=lambda e: None)
